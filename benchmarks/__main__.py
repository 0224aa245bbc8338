"""Run the benchmarks, write benchmarks/results.json and print a table.

python -m benchmarks                 # every bench_*.py
python -m benchmarks split filters   # some of them (results are merged into the file)
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def table(rows: list[dict]) -> str:
    head = ("benchmark", "value", "unit", "baseline", "ratio", "target", "ok")
    lines = [head]
    for r in rows:
        lines.append(
            (
                r["name"],
                f"{r['value']:g}",
                r["unit"],
                str(r.get("baseline") or ""),
                "" if r.get("ratio") is None else f"{r['ratio']:g}",
                str(r.get("target") or ""),
                {True: "yes", False: "NO", None: ""}[r.get("ok")],
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = []
    for k, line in enumerate(lines):
        out.append("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("names", nargs="*", help=f"some of: {', '.join(available())}")
    a = p.parse_args(argv)
    names = a.names or available()
    unknown = set(names) - set(available())
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"benchmarks": {}}
    results = old.get("benchmarks", {})
    failed = []
    for name in names:
        print(f"== {name}", flush=True)
        try:
            mod = importlib.import_module(f"benchmarks.bench_{name}")
            rows = mod.run()
        except Exception as exc:  # keep going: one broken benchmark must not hide the others
            print(f"benchmark {name} failed: {exc}", file=sys.stderr)
            failed.append(name)
            if name in results:  # an earlier run's rows stay in the file, marked as such
                results[name]["stale"] = f"this benchmark failed at {dt.datetime.now():%FT%T}"
            continue
        results[name] = {"when": dt.datetime.now().isoformat(timespec="seconds"), "rows": rows}
        print(table(rows), flush=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "cpus": __import__("os").cpu_count(),
                },
                "benchmarks": results,
            },
            indent=1,
        )
    )
    all_rows = [r for n in names if n in results and n not in failed for r in results[n]["rows"]]
    print("\n" + table(all_rows))
    if failed:
        print(f"\nFAILED (no rows above; see the error): {', '.join(failed)}")
    print(f"\nwrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
