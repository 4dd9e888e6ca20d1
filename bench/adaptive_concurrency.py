"""Adaptive concurrency against a server with room for 8 requests in flight: fixed 32, fixed 8, adaptive from 32.

    python bench/adaptive_concurrency.py                       # 400 cases, 0.2 s a request, Retry-After 1 s
    python bench/adaptive_concurrency.py -n 1000 -r 3          # more cases, three rounds (medians printed)

One scripted server (tests/support/scripted_server.py, in this process) answers each request after `--latency`
seconds and refuses with OpenAI's 429 and a `Retry-After` any request that arrives while `--capacity` others are
in flight. Each configuration is a whole `llamacompare run --json` in a fresh process against it, one after the
other, round by round; the time is the run's own (`elapsed_s`: sending and storing, no start-up), the 429s are
what the server counted. Every configuration may retry a request up to `--retries` times, so that each ends with
every case answered and the times compare like with like (the default of 4 retries can leave fixed 32 with
failed cases: the bench says how many). "fixed 8" is the best possible: exactly the server's room, no 429.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.support.scripted_server import FaultPlan, ScriptedServer  # noqa: E402

CONFIGS: dict[str, list[str]] = {
    "fixed 32": ["--concurrency", "32", "--fixed-concurrency"],
    "fixed 8 (best possible)": ["--concurrency", "8", "--fixed-concurrency"],
    "adaptive from 32": ["--concurrency", "32"],
}


@dataclass(slots=True)
class Result:
    wall_s: float
    refused: int
    requests: int
    failed: int
    limit: str  # the adaptive limit at the end ("" when fixed)


def make_suite(tmp: Path, n: int) -> Path:
    cases = "\n".join(f"      - {{id: c{i}, text: 'mesaj {i}', label: {'Pozitif' if i % 2 else 'Negatif'}}}"
                      for i in range(n))
    suite = tmp / "bench.yaml"
    suite.write_text(f"""
name: adaptive-bench
tasks:
  - id: t
    type: classify
    labels: {{Pozitif: [], Negatif: []}}
    template: "Mesaj: {{text}}"
    cases:
{cases}
""", encoding="utf-8")
    return suite


def one_run(srv: ScriptedServer, suite: Path, db: Path, flags: list[str], retries: int) -> Result:
    srv.reset()
    cmd = [sys.executable, "-m", "llamacompare.cli.main", "run", str(suite), "-m", "openai:bench", "--base-url",
           srv.base_url, "--db", str(db), "--json", "--retries", str(retries), *flags]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env={**os.environ, "COLUMNS": "200"},
                         timeout=3600)
    if res.returncode not in (0, 1):  # 1: some case failed, which the table shows
        raise SystemExit(f"run failed ({res.returncode}): {res.stderr[-2000:]}")
    outcome = json.loads(res.stdout)["outcome"]
    stats = srv.stats()
    state = outcome["concurrency"].get("openai:bench")
    limit = f"{state['limit']}/{state['ceiling']} (lowest {state['lowest']})" if state else ""
    gens = sum(n for path, n in stats["by_path"].items() if path.endswith("/chat/completions"))
    return Result(outcome["elapsed_s"], stats["by_outcome"].get("429", 0), gens, outcome["failed"], limit)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--cases", type=int, default=400)
    ap.add_argument("-r", "--rounds", type=int, default=1)
    ap.add_argument("--capacity", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.2, help="seconds the server takes per answer")
    ap.add_argument("--retry-after", type=float, default=1.0, help="what its 429s ask the client to wait")
    ap.add_argument("--retries", type=int, default=20)
    args = ap.parse_args()

    results: dict[str, list[Result]] = {name: [] for name in CONFIGS}
    plan = FaultPlan(retry_after=args.retry_after)
    with tempfile.TemporaryDirectory() as tmp, \
            ScriptedServer(["bench"], latency=args.latency, capacity=args.capacity, faults=plan) as srv:
        suite = make_suite(Path(tmp), args.cases)
        for r in range(args.rounds):
            for i, (name, flags) in enumerate(CONFIGS.items()):
                results[name].append(one_run(srv, suite, Path(tmp) / f"{r}-{i}.db", flags, args.retries))

    print(f"{args.cases} cases; server: room for {args.capacity} in flight, {args.latency:g} s an answer, 429 with "
          f"Retry-After {args.retry_after:g} s beyond; up to {args.retries} retries; "
          f"{args.rounds} round(s), medians")
    print(f"{'':26}{'wall s':>8}{'429s':>8}{'requests':>10}{'failed':>8}  limit at the end")
    best = statistics.median(x.wall_s for x in results["fixed 8 (best possible)"])
    for name, rs in results.items():
        wall = statistics.median(x.wall_s for x in rs)
        print(f"{name:26}{wall:8.1f}{statistics.median(x.refused for x in rs):8.0f}"
              f"{statistics.median(x.requests for x in rs):10.0f}{max(x.failed for x in rs):8d}  "
              f"{rs[-1].limit or '-'}  ({wall / best:.2f}x the best)")


if __name__ == "__main__":
    main()
