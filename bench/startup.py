"""Start-up time: `llamacompare --help` against a bare `python -c pass`, median of repeated runs.

    python bench/startup.py        # 15 runs each
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], runs: int) -> float:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    bare = timed([sys.executable, "-c", "pass"], runs)
    help_ = timed([sys.executable, "-m", "llamacompare.cli.main", "--help"], runs)
    run_help = timed([sys.executable, "-m", "llamacompare.cli.main", "run", "--help"], runs)
    print(f"python -c pass:            {bare * 1000:6.0f} ms")
    print(f"llamacompare --help:       {help_ * 1000:6.0f} ms  (target < 500 ms)")
    print(f"llamacompare run --help:   {run_help * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
