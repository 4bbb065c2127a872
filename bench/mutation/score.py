"""Prints an area's mutation score from Stryker's JSON report, the way Stryker counts it:
detected (killed + timeout) / (detected + survived + no coverage); compile errors and ignored mutants do not count."""
import json
import sys
from collections import Counter

area, path = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    report = json.load(f)
total = Counter()
files = []
for name, entry in sorted(report["files"].items()):
    counts = Counter(m["status"] for m in entry["mutants"])
    total.update(counts)
    files.append((name, counts, [m for m in entry["mutants"] if m["status"] in ("Survived", "NoCoverage")]))


def score(c):
    detected = c["Killed"] + c["Timeout"]
    valid = detected + c["Survived"] + c["NoCoverage"]
    return (100.0 * detected / valid if valid else float("nan")), valid


def line(label, c):
    s, valid = score(c)
    return (f"{label}: score {s:.2f} % ({c['Killed']} killed, {c['Timeout']} timeout, {c['Survived']} survived, "
            f"{c['NoCoverage']} no coverage; {valid} valid, {c['CompileError']} compile errors)")


for name, counts, alive in files:
    if score(counts)[1] == 0 and not counts["CompileError"]:
        continue  # a file outside the area: Stryker lists every file of the project
    print("  " + line(name.split("/host/", 1)[-1], counts))
    for m in alive:
        loc = m["location"]["start"]
        print(f"      {m['status']:<10} {loc['line']}:{loc['column']} {m['mutatorName']}: {m.get('replacement', '')[:100]!r}")
print(line(f"mutation {area}", total))
print(json.dumps({"bench": "mutation", "area": area, "score": round(score(total)[0], 2),
                  **{k.lower(): total[k] for k in ("Killed", "Timeout", "Survived", "NoCoverage", "CompileError")}}))
