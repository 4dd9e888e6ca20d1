"""Client overhead: `llamacompare run` (storage and progress on) vs a bare aiohttp loop, same instant server.

    python bench/client_overhead.py                 # 2,000 and 20,000 cases at concurrency 64
    python bench/client_overhead.py -n 2000 -r 3    # other sizes / repeats

Both clients run in this process, one after the other, against one instant-server process (bench/
instant_server.py), repeat by repeat, so machine noise hits both alike. Prints requests/s and the ratio:
llamacompare's runner with storage and the progress bar on, whole answers (`--no-stream`) and streamed (the
default), against the bare loop on the standard asyncio event loop (the issue's reference) and on uvloop (what
llamacompare itself runs on when installed). Last, once per size, the whole command in a fresh process (Python
start-up, loading and checking the suite, scoring and the summary included) for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from instant_server import start_instant_server  # noqa: E402

BODY = {"model": "instant", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, "temperature": 0.0}


async def bare_loop(base_url: str, n: int, conc: int) -> float:
    import aiohttp

    url = base_url + "/chat/completions"
    sem = asyncio.Semaphore(conc)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc)) as session:

        async def one(i: int) -> None:
            body = json.dumps({**BODY, "messages": [{"role": "user", "content": f"case {i}"}]}).encode()
            async with sem, session.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                json.loads(await r.read())["choices"][0]["message"]["content"]

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - t0)


def uvloop_run(coro):  # type: ignore[no-untyped-def]
    try:
        import uvloop
    except ImportError:
        coro.close()
        return 0.0
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def make_suite(tmp: Path, n: int) -> Path:
    data = tmp / f"cases-{n}.jsonl"
    with data.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"c{i}", "text": f"case {i}"}) + "\n")
    suite = tmp / f"suite-{n}.yaml"
    suite.write_text(
        f"name: bench\ntasks:\n  - id: t\n    type: generate\n    template: '{{text}}'\n    scorers: [length]\n"
        f"    dataset: {{path: {data.name}}}\n    params: {{max_tokens: 8}}\n",
        encoding="utf-8",
    )
    return suite


def llamacompare_run(base_url: str, suite: Path, db: Path, conc: int, stream: bool) -> tuple[float, int]:
    from rich.console import Console

    from llamacompare.runner import RunOptions, execute, make_plan
    from llamacompare.runner.progress import RichProgress
    from llamacompare.store import Store
    from llamacompare.tasks.loader import load_suite

    store = Store(db)
    plan = make_plan(load_suite(suite), str(suite), ["openai:instant"],
                     RunOptions(default_concurrency=conc, base_url=base_url, stream=stream))
    with open(os.devnull, "w") as devnull:
        progress = RichProgress(Console(file=devnull, force_terminal=True, width=120))
        t0 = time.perf_counter()
        from llamacompare.sync import run as run_loop  # what `llamacompare run` uses (uvloop when installed)

        outcome = run_loop(execute(plan, store, progress=progress))
        elapsed = time.perf_counter() - t0
    store.close()
    assert outcome.failed == 0 and outcome.sent == outcome.total, outcome
    return outcome.sent / elapsed, outcome.sent


def whole_command(base_url: str, suite: Path, db: Path, conc: int) -> float:
    """`llamacompare run` as a user types it (no terminal here, so no progress bar), wall time."""
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "llamacompare.cli.main", "run", str(suite), "-m", "openai:instant", "--base-url",
         base_url, "--db", str(db), "--concurrency", str(conc), "--no-stream", "--json"],
        check=True, capture_output=True,
    )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, action="append", help="cases (repeatable; default 2000 and 20000)")
    ap.add_argument("-c", "--concurrency", type=int, default=64)
    ap.add_argument("-r", "--repeats", type=int, default=3)
    args = ap.parse_args()
    sizes = args.n or [2000, 20000]
    with start_instant_server() as (_, base_url), tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        print(f"instant server at {base_url}; concurrency {args.concurrency}; {args.repeats} repeats, interleaved")
        head = ("cases", "bare aiohttp", "llamacompare", "ratio", "lc stream", "ratio")
        print("  ".join(f"{h:>{w}}" for h, w in zip(head, (7, 13, 13, 6, 10, 6), strict=True)))
        whole: list[tuple[int, float]] = []
        for n in sizes:
            suite = make_suite(tmp, n)
            bare, bare_uv, lc, lcs = [], [], [], []
            for rep in range(args.repeats):
                bare.append(asyncio.run(bare_loop(base_url, n, args.concurrency)))
                bare_uv.append(uvloop_run(bare_loop(base_url, n, args.concurrency)))
                lc.append(llamacompare_run(base_url, suite, tmp / f"r{n}-{rep}.db", args.concurrency, False)[0])
                lcs.append(llamacompare_run(base_url, suite, tmp / f"s{n}-{rep}.db", args.concurrency, True)[0])
            b, m, s = statistics.median(bare), statistics.median(lc), statistics.median(lcs)
            u = statistics.median(bare_uv) if bare_uv[0] else float("nan")
            print(f"{n:>7}  {b:>11,.0f}/s  {m:>11,.0f}/s  {m / b:>6.0%}  {s:>8,.0f}/s  {s / b:>6.0%}   "
                  f"(bare aiohttp on uvloop: {u:,.0f}/s; llamacompare / that: {m / u:.0%}, streamed {s / u:.0%})",
                  flush=True)
            whole.append((n, whole_command(base_url, suite, tmp / f"w{n}.db", args.concurrency)))
        for n, secs in whole:
            print(f"whole `llamacompare run --no-stream` command, {n:,} cases: {secs:.2f} s = {n / secs:,.0f} cases/s "
                  "(Python start-up, suite check, scoring and summary included)")


if __name__ == "__main__":
    main()
