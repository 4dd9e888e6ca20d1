"""The benchmark scripts still run on a fresh machine, at toy sizes (their figures are read by people, not here).

Speed is not asserted: these machines are noisy. What is asserted is that each script measures what it says
(every row printed, the ratios and limits present and positive) so the README's commands keep working.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def bench(*args: str, timeout: float = 600) -> str:
    res = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


def numbers(line: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*\.?\d*", line)]


def test_client_overhead_prints_both_clients_and_their_ratios() -> None:
    out = bench("bench/client_overhead.py", "-n", "300", "-r", "1")
    row = next(line for line in out.splitlines() if line.strip().startswith("300 "))
    assert row.count("%") >= 4 and "/s" in row
    assert all(v > 0 for v in numbers(row))
    assert re.search(r"whole `llamacompare run --no-stream` command, 300 cases: [\d.]+ s", out)


def test_memory_reports_peak_rss_per_size() -> None:
    out = bench("bench/memory.py", "-n", "500")
    row = next(line for line in out.splitlines() if line.strip().startswith("500 "))
    rss_mb = numbers(row)[1]
    assert 20 < rss_mb < 1000


def test_startup_times_the_help() -> None:
    out = bench("bench/startup.py", "3")
    assert re.search(r"llamacompare --help:\s+\d+ ms", out)


def bench_copy(tmp_path: Path) -> Path:
    """A copy of bench/ with nothing beside it, where the local benches default to the sst2 suite's shipped sample
    (from the checkout they default to the SST-2 file kept beside it where there is one; a test reads nothing
    outside the checkout)."""
    import shutil

    shutil.copytree(REPO / "bench", tmp_path / "repo" / "bench")
    return tmp_path / "repo" / "bench"


def test_local_classification_compares_each_mode_with_the_batched_limit(tmp_path: Path) -> None:
    out = bench(str(bench_copy(tmp_path) / "local_classification.py"), "--limit", "12", "--rounds", "2",
                "--alone-limit", "6", "--no-prefix-limit", "3", "--long-limit", "4", "--long-rounds", "2")
    rates = next(line for line in out.splitlines() if "(SST-2 tokens after the prefix)" in line)
    assert [size for size, _ in re.findall(r"(\d+): ([\d,]+)", rates)] == ["64", "128", "256", "512"]
    assert re.search(r"batched limit [\d.]+ cases/s \(logprob\), [\d.]+ \(generate\); one case at a time", out)
    assert re.search(r"the limit in each of 2 rounds: best of 3 at \d+ and \d+ tokens per eval", out)
    assert re.search(r"llama.cpp alone on the same cases .+: \d+% of the logprob limit, \d+% of generate's", out)
    assert re.search(r"the median single bare eval around the rounds ran at \d+% of the limit's best-of-3 rate", out)
    names = ("generate, new prompt", "generate, prefix cached, one at a time", "generate, prefix cached (default)",
             "logprob, prefix cached, one at a time", "logprob, prefix cached (default)",
             "both, prefix cached (default)", "long reviews, generate (default)")
    rows = {name: line for line in out.splitlines() for name in names if line.startswith(name)}
    assert len(rows) == 7, out
    for name, line in rows.items():
        in_rounds = "(default)" in name  # a median over rounds, with the lowest and highest round beside it
        assert bool(re.search(r" \d+% \(\d+%-\d+%\) ", line)) == in_rounds, line
        assert line.count("%") == (3 if in_rounds else 1) + (not name.startswith("long")), line
    assert int(rows["long reviews, generate (default)"].split()[4]) == 4  # the case count column
    assert int(rows["generate, prefix cached (default)"].split()[4]) == 12
    assert re.search(r"mode both: [\d.]+ ms per case against [\d.]+ for the slower single mode = [\d.]+x", out)


def test_pass_costs_times_each_way_against_the_bare_eval(tmp_path: Path) -> None:
    out = bench(str(bench_copy(tmp_path) / "pass_costs.py"), "-r", "3")
    rows = [line for line in out.splitlines() if line.startswith(("bare eval", "one sequence", "a sequence", "..."))]
    assert len(rows) == 5, out
    assert rows[0].split()[-1] == rows[0].split()[-3] == "100.0%"  # the bare eval against itself
    assert all(v > 0 for row in rows for v in numbers(row))
    assert re.search(r"the bare eval's median is \d+% of a typical best of 3", out)


def test_runner_vs_engine_pairs_each_mode_with_llama_cpp_alone(tmp_path: Path) -> None:
    out = bench(str(bench_copy(tmp_path) / "runner_vs_engine.py"), "-n", "8", "-r", "2")
    assert re.search(r"^8 SST-2 cases, .+; 2 pairs per mode in \d+ s$", out, re.M), out
    for mode in ("logprob", "generate"):
        row = next(line for line in out.splitlines() if line.startswith(mode + " "))
        runner, alone, *pairs, median = numbers(row)
        assert runner > 0 and alone > 0 and len(pairs) == 2 and all(p > 0 for p in pairs), row
        assert min(pairs) <= median <= max(pairs), row


def test_promptfoo_comparison_says_when_promptfoo_is_missing_and_measures_the_rest(tmp_path: Path) -> None:
    """No network here: with --no-install and an empty scratch folder promptfoo is unavailable, and the script
    says so on one line, then still starts llama-cpp-python's server and times llamacompare and the bare client."""
    out = bench("bench/promptfoo_compare.py", "--suite", "bench/data/long_reviews.yaml", "-n", "4", "--no-install",
                "--promptfoo-dir", str(tmp_path / "scratch"))
    assert re.search(r"^promptfoo unavailable: not installed in .+ and --no-install given; measuring", out, re.M)
    rows = [line for line in out.splitlines() if line.startswith(("llamacompare, in-process", "bare aiohttp"))]
    assert len(rows) == 2, out
    for row in rows:
        cases, seconds, rate, accuracy = numbers(row.split(")", 1)[-1])[-4:]
        assert cases == 4 and seconds > 0 and rate > 0 and 0 <= accuracy <= 1
    assert re.search(r"llamacompare is [\d.]+x bare aiohttp", out)
    assert re.search(r"^\(llamacompare: [\d.]+ s before the others, [\d.]+ s after them", out, re.M)
    assert re.search(r"llama.cpp's batched limit for these cases .+: [\d.]+ cases/s, [\d.]+x bare aiohttp", out)


def test_adaptive_concurrency_prints_the_three_configurations() -> None:
    out = bench("bench/adaptive_concurrency.py", "-n", "60", "--latency", "0.05", "--retry-after", "0.1")
    names = ("fixed 32", "fixed 8 (best possible)", "adaptive from 32")
    rows = {name: next(line.removeprefix(name) for line in out.splitlines() if line.startswith(name)) for name in names}
    wall, refused, requests, failed = numbers(rows["fixed 8 (best possible)"])[:4]
    assert wall > 0 and refused == 0 and requests == 60 and failed == 0  # exactly the server's room: no 429
    assert numbers(rows["fixed 32"])[1] > 0  # 32 at once against room for 8: refused
    assert "/32 (lowest" in rows["adaptive from 32"]
