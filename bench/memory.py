"""Peak memory of `llamacompare run` against the instant server as the number of cases grows.

    python bench/memory.py                      # 10,000 / 50,000 / 100,000 cases
    python bench/memory.py -n 20000 -n 100000

Each size runs the real command line (storage, scoring and the summary included; progress off since no terminal)
in its own process and reports that process's peak RSS. Results stream to SQLite, so memory should stay flat.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from client_overhead import make_suite  # noqa: E402
from instant_server import start_instant_server  # noqa: E402

CHILD = """
import resource, runpy, sys
sys.argv = ["llamacompare", *sys.argv[1:]]
try:
    runpy.run_module("llamacompare.cli.main", run_name="__main__")
except SystemExit as e:
    code = e.code
finally:
    print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, action="append", help="cases (repeatable)")
    args = ap.parse_args()
    sizes = args.n or [10_000, 50_000, 100_000]
    with start_instant_server() as (_, url), tempfile.TemporaryDirectory() as tmp:
        print(f"{'cases':>8} {'peak RSS':>10} {'RSS/case':>10} {'seconds':>8} {'req/s':>7}")
        for n in sizes:
            suite = make_suite(Path(tmp), n)
            t0 = time.perf_counter()
            res = subprocess.run(
                [sys.executable, "-c", CHILD, "run", str(suite), "-m", "openai:instant", "--base-url", url,
                 "--db", str(Path(tmp) / f"m{n}.db"), "--concurrency", "64", "--json"],
                capture_output=True, text=True,
            )
            elapsed = time.perf_counter() - t0
            if res.returncode != 0:
                raise SystemExit(res.stderr[-2000:])
            kb = int(res.stderr.split("MAXRSS_KB")[-1].split()[0])
            sent = json.loads(res.stdout)["outcome"]["sent"]
            print(f"{n:>8} {kb / 1024:>8.0f} MB {kb * 1024 / n:>8.0f} B {elapsed:>8.1f} {sent / elapsed:>7.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
