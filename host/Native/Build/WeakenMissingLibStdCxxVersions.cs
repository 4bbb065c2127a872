// MSBuild task (compiled by RoslynCodeTaskFactory, not part of the host assembly).
//
// Why: TorchSharp 0.107.0's libLibTorchSharp.so was linked against GCC 13's libstdc++ and records a version need
// for GLIBCXX_3.4.32. Debian 12's libstdc++ stops at 3.4.30, so the dynamic loader refuses the library, and
// TorchSharp then falls back to copying ~480 MB of natives and fails with a misleading message. The only symbol of
// that version (_ZSt21ios_base_library_initv) is never bound, so marking the version-need entry weak
// (VER_FLG_WEAK in .gnu.version_r) lets the library load. We do that to the copy in the build output, and only for
// versions the system's libstdc++ really lacks and that are listed as safe to weaken.
#nullable enable
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenMissingLibStdCxxVersions : Task
{
    const uint ShtGnuVerdef = 0x6ffffffd;
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlagWeak = 0x2;

    /// <summary>The native library to patch in place (through a temp file and a rename).</summary>
    [Required] public string LibraryPath { get; set; } = "";

    /// <summary>Semicolon-separated version names that are known to bind no symbol and may be weakened.</summary>
    [Required] public string WeakenableVersions { get; set; } = "";

    /// <summary>The libstdc++ to check against; found through ldconfig when empty.</summary>
    public string SystemLibStdCxx { get; set; } = "";

    public override bool Execute()
    {
        if (!File.Exists(LibraryPath))
        {
            Log.LogMessage(MessageImportance.Low, $"{LibraryPath} not present; nothing to patch.");
            return true;
        }
        var libstdcxx = string.IsNullOrEmpty(SystemLibStdCxx) ? FindSystemLibStdCxx() : SystemLibStdCxx;
        if (libstdcxx is null || !File.Exists(libstdcxx))
        {
            Log.LogWarning($"No system libstdc++.so.6 found; {Path.GetFileName(LibraryPath)} left unpatched.");
            return true;
        }

        var provided = new HashSet<string>(DefinedVersions(File.ReadAllBytes(libstdcxx)), StringComparer.Ordinal);
        var weakenable = new HashSet<string>(
            WeakenableVersions.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()),
            StringComparer.Ordinal);

        var bytes = File.ReadAllBytes(LibraryPath);
        var patched = new List<string>();
        foreach (var need in VersionNeeds(bytes).Where(n => n.File.StartsWith("libstdc++", StringComparison.Ordinal)))
        {
            if (provided.Contains(need.Name) || (need.Flags & VerFlagWeak) != 0) continue;
            if (!weakenable.Contains(need.Name))
            {
                Log.LogWarning($"{Path.GetFileName(LibraryPath)} needs {need.Name}, which {libstdcxx} lacks " +
                               "and which is not known to be safe to weaken; the library will probably not load.");
                continue;
            }
            WriteUInt16(bytes, need.FlagsOffset, (ushort)(need.Flags | VerFlagWeak));
            patched.Add(need.Name);
        }
        if (patched.Count == 0)
        {
            Log.LogMessage(MessageImportance.Low, $"{LibraryPath}: every libstdc++ version it needs is provided.");
            return true;
        }

        // Temp file + rename: atomic, and breaks a hard link to the package cache instead of patching the cache.
        var temp = LibraryPath + ".patching";
        File.WriteAllBytes(temp, bytes);
        File.Replace(temp, LibraryPath, destinationBackupFileName: null);
        Log.LogMessage(MessageImportance.High,
            $"Marked {string.Join(", ", patched)} weak in {LibraryPath} (system libstdc++ {libstdcxx} lacks it).");
        return true;
    }

    static string? FindSystemLibStdCxx()
    {
        try
        {
            foreach (var exe in new[] { "/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig" })
            {
                if (exe.StartsWith("/", StringComparison.Ordinal) && !File.Exists(exe)) continue;
                var psi = new ProcessStartInfo(exe, "-p") { RedirectStandardOutput = true, UseShellExecute = false };
                using var p = Process.Start(psi);
                if (p is null) continue;
                var output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                var line = output.Split('\n').FirstOrDefault(l =>
                    l.TrimStart().StartsWith("libstdc++.so.6 ", StringComparison.Ordinal) && l.Contains("x86-64"));
                var arrow = line?.IndexOf("=> ", StringComparison.Ordinal) ?? -1;
                if (arrow >= 0) return line!.Substring(arrow + 3).Trim();
            }
        }
        catch (Exception) { /* fall through to the usual locations */ }
        return new[] { "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                       "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6" }.FirstOrDefault(File.Exists);
    }

    sealed class Section
    {
        public uint Type; public long Offset; public long Size; public uint Link; public uint Info;
    }

    sealed class VersionNeed
    {
        public string File = ""; public string Name = ""; public ushort Flags; public int FlagsOffset;
    }

    static List<Section> Sections(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        long shoff = (long)ReadUInt64(elf, 0x28);
        int shentsize = ReadUInt16(elf, 0x3A), shnum = ReadUInt16(elf, 0x3C);
        var list = new List<Section>();
        for (int i = 0; i < shnum; i++)
        {
            int h = checked((int)(shoff + (long)i * shentsize));
            list.Add(new Section
            {
                Type = ReadUInt32(elf, h + 4), Offset = (long)ReadUInt64(elf, h + 0x18),
                Size = (long)ReadUInt64(elf, h + 0x20), Link = ReadUInt32(elf, h + 0x28), Info = ReadUInt32(elf, h + 0x2C),
            });
        }
        return list;
    }

    static IEnumerable<string> DefinedVersions(byte[] elf)
    {
        var sections = Sections(elf);
        foreach (var s in sections.Where(s => s.Type == ShtGnuVerdef))
        {
            var strtab = sections[(int)s.Link];
            long at = s.Offset;
            for (uint i = 0; i < s.Info; i++)
            {
                // Elf64_Verdef: version(2) flags(2) ndx(2) cnt(2) hash(4) aux(4) next(4); Verdaux: name(4) next(4)
                uint aux = ReadUInt32(elf, (int)at + 12), next = ReadUInt32(elf, (int)at + 16);
                yield return CString(elf, strtab.Offset + ReadUInt32(elf, (int)(at + aux)));
                if (next == 0) break;
                at += next;
            }
        }
    }

    static IEnumerable<VersionNeed> VersionNeeds(byte[] elf)
    {
        var sections = Sections(elf);
        foreach (var s in sections.Where(s => s.Type == ShtGnuVerneed))
        {
            var strtab = sections[(int)s.Link];
            long at = s.Offset;
            for (uint i = 0; i < s.Info; i++)
            {
                // Elf64_Verneed: version(2) cnt(2) file(4) aux(4) next(4)
                int cnt = ReadUInt16(elf, (int)at + 2);
                string file = CString(elf, strtab.Offset + ReadUInt32(elf, (int)at + 4));
                long aux = at + ReadUInt32(elf, (int)at + 8);
                for (int j = 0; j < cnt; j++)
                {
                    // Elf64_Vernaux: hash(4) flags(2) other(2) name(4) next(4)
                    yield return new VersionNeed
                    {
                        File = file, Flags = ReadUInt16(elf, (int)aux + 4), FlagsOffset = (int)aux + 4,
                        Name = CString(elf, strtab.Offset + ReadUInt32(elf, (int)aux + 8)),
                    };
                    uint auxNext = ReadUInt32(elf, (int)aux + 12);
                    if (auxNext == 0) break;
                    aux += auxNext;
                }
                uint next = ReadUInt32(elf, (int)at + 12);
                if (next == 0) break;
                at += next;
            }
        }
    }

    static string CString(byte[] b, long offset)
    {
        int start = checked((int)offset), end = start;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, start, end - start);
    }

    static ushort ReadUInt16(byte[] b, int o) => (ushort)(b[o] | b[o + 1] << 8);
    static uint ReadUInt32(byte[] b, int o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
    static ulong ReadUInt64(byte[] b, int o) => ReadUInt32(b, o) | (ulong)ReadUInt32(b, o + 4) << 32;
    static void WriteUInt16(byte[] b, int o, ushort v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); }
}
