using System.Text;

namespace IAR.Host.Native;

/// <summary>
/// The dynamic symbol table of a 64-bit little-endian ELF shared library, read by seeking (libtorch_cpu.so is
/// ~460 MB; only its section headers, .dynsym, .dynstr and .gnu.version are read).
/// </summary>
public sealed class ElfDynamicSymbols
{
    const uint ShtDynsym = 11;
    const uint ShtGnuVersym = 0x6fffffff;
    const int SymbolSize = 24;   // Elf64_Sym

    ElfDynamicSymbols(IReadOnlyList<string> defined, IReadOnlyList<string> undefinedUnversioned)
    {
        Defined = defined;
        UndefinedUnversioned = undefinedUnversioned;
    }

    /// <summary>Global and weak symbols the library exports.</summary>
    public IReadOnlyList<string> Defined { get; }

    /// <summary>
    /// Strong undefined symbols without a version (libtorch does not version its symbols; glibc and libstdc++
    /// symbols carry GLIBC_/GLIBCXX_ versions and are excluded).
    /// </summary>
    public IReadOnlyList<string> UndefinedUnversioned { get; }

    /// <exception cref="InvalidDataException">Not a 64-bit little-endian ELF file with a dynamic symbol table.</exception>
    public static ElfDynamicSymbols Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var header = ReadAt(file, 0, 64);
        if (header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F' || header[4] != 2 || header[5] != 1)
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file.");
        long shoff = (long)BitConverter.ToUInt64(header, 0x28);
        int shentsize = BitConverter.ToUInt16(header, 0x3A), shnum = BitConverter.ToUInt16(header, 0x3C);
        var sections = ReadAt(file, shoff, shentsize * shnum);
        (long Offset, long Size, uint Link) Section(int i) =>
            ((long)BitConverter.ToUInt64(sections, i * shentsize + 0x18), (long)BitConverter.ToUInt64(sections, i * shentsize + 0x20),
             BitConverter.ToUInt32(sections, i * shentsize + 0x28));
        int dynsym = -1, versym = -1;
        for (int i = 0; i < shnum; i++)
        {
            uint type = BitConverter.ToUInt32(sections, i * shentsize + 4);
            if (type == ShtDynsym) dynsym = i;
            else if (type == ShtGnuVersym) versym = i;
        }
        if (dynsym < 0) throw new InvalidDataException($"{path} has no dynamic symbol table.");
        var (symOffset, symSize, strIndex) = Section(dynsym);
        var symbols = ReadAt(file, symOffset, symSize);
        var (strOffset, strSize, _) = Section((int)strIndex);
        var strings = ReadAt(file, strOffset, strSize);
        var versions = versym >= 0 ? ReadAt(file, Section(versym).Offset, Section(versym).Size) : null;

        var defined = new List<string>();
        var undefined = new List<string>();
        for (int i = 1; i < symSize / SymbolSize; i++)
        {
            int at = i * SymbolSize;
            uint nameOffset = BitConverter.ToUInt32(symbols, at);
            byte info = symbols[at + 4];
            ushort sectionIndex = BitConverter.ToUInt16(symbols, at + 6);
            int binding = info >> 4;   // 0 local, 1 global, 2 weak
            if (binding == 0 || nameOffset == 0) continue;
            var name = CString(strings, (int)nameOffset);
            if (sectionIndex != 0) defined.Add(name);
            else if (binding == 1 && (versions is null || (BitConverter.ToUInt16(versions, i * 2) & 0x7fff) <= 1)) undefined.Add(name);
        }
        return new ElfDynamicSymbols(defined, undefined);
    }

    static byte[] ReadAt(FileStream file, long offset, long count)
    {
        var buffer = new byte[count];
        file.Position = offset;
        file.ReadExactly(buffer);
        return buffer;
    }

    static string CString(byte[] bytes, int offset)
    {
        int end = Array.IndexOf(bytes, (byte)0, offset);
        return Encoding.ASCII.GetString(bytes, offset, (end < 0 ? bytes.Length : end) - offset);
    }
}
