"""How long `import boonamber` (and the generated client) takes, in fresh interpreters.

Run by hand: python bench/import_time.py [--runs N]. Goal: `import boonamber` < 150 ms
and no numpy. Prints one line per case: `<case>: <median ms> (min <ms>, runs <n>)`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CASES = {
    "python_startup": "pass",
    "import_boonamber": "import boonamber",
    "import_boonamber_v2": "import boonamber.v2",
    "boonamber_v2_DefaultApi": "import boonamber.v2 as v; v.DefaultApi",
    "import_boonamber_AmberClient": "from boonamber import AmberClient",
}


def measure(code: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    baseline = statistics.median(measure("pass", args.runs))
    for case, code in CASES.items():
        try:
            times = measure(code, args.runs)
        except subprocess.CalledProcessError:
            print(f"{case}: failed")
            continue
        median = statistics.median(times)
        extra = "" if case == "python_startup" else f", +{median - baseline:.1f} over startup"
        print(f"{case}: {median:.1f} ms (min {min(times):.1f}{extra}, runs {args.runs})")
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, boonamber; print('numpy' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"numpy_loaded_by_import_boonamber: {loaded}")


if __name__ == "__main__":
    main()
