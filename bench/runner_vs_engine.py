"""The runner against llama.cpp alone doing the same cases, pair by pair: what llamacompare's own code costs.

    python bench/runner_vs_engine.py --data ../shared/datasets/sst2_dev.tsv           # 200 cases, 4 pairs per mode
    python bench/runner_vs_engine.py --data ../shared/datasets/sst2_dev.tsv -n 400 -r 6

bench/local_classification.py compares each mode with llama.cpp's best prompt rate, measured around rounds of about
a minute. This machine's speed changes by 10-25% within seconds, so that ratio carries the machine's noise as well
as the runner's cost. Here each run of the runner (the real one, storage on, on the first N SST-2 cases with the
few-shot prefix cached) sits between two runs of llama.cpp alone on exactly the same work (each case in its own
sequence after the shared prefix, a logits row at its last token and at each decode, passes filled to the same
token budget, no Python between passes: `with_rows` in local_classification.py), and each pair gives one ratio:
the runner's cases/s over the mean of the two around it. The median over pairs is the runner's own cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from local_classification import add_data_option, chunks, run_mode, task_work, with_rows

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_option(ap)
    ap.add_argument("-n", type=int, default=200, help="first N SST-2 cases (default 200)")
    ap.add_argument("-r", "--repeats", type=int, default=4, help="pairs per mode (default 4)")
    args = ap.parse_args()
    from llamacompare.models.bundled import bundled_model_path
    from llamacompare.models.local import BATCH_TOKENS, get_model
    from llamacompare.tasks.loader import load_suite

    def sst2(data: str | Path | None, limit: int | None = None) -> Any:
        return load_suite("sst2", data=data).with_overrides(limit, None)

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        run_mode(sst2(args.data, 2), "generate", d / "warm.db")  # load the model once, outside the timings
        llm = get_model(str(bundled_model_path())).llm()
        work = task_work(llm, sst2(args.data, args.n))
        ((path, work),) = chunks(sst2(args.data, args.n), work, 1, d, "cases")  # the runner reads exactly these
        ratios: dict[str, list[float]] = {"logprob": [], "generate": []}
        rates: dict[str, list[tuple[float, float]]] = {"logprob": [], "generate": []}
        t0 = time.perf_counter()
        for r in range(args.repeats):
            for mode, ratio in ratios.items():
                alone_work = work if mode == "generate" else work.without_decodes()
                per_case = work.per_case(mode)
                before = with_rows(llm, alone_work, BATCH_TOKENS) / per_case
                row = run_mode(sst2(path), mode, d / f"{mode}-{r}.db")
                alone = (before + with_rows(llm, alone_work, BATCH_TOKENS) / per_case) / 2
                ratio.append(row.rate / alone)
                rates[mode].append((row.rate, alone))
    print(f"{len(work.added)} SST-2 cases, few-shot prefix cached, {BATCH_TOKENS} tokens per forward pass at most; "
          f"{args.repeats} pairs per mode in {time.perf_counter() - t0:.0f} s")
    print(f"{'mode':<10} {'runner cases/s':>15} {'llama.cpp alone':>16} {'runner / alone, each pair':>40} "
          f"{'median':>7}")
    for mode, ratio in ratios.items():
        runner = statistics.median(x for x, _ in rates[mode])
        alone = statistics.median(y for _, y in rates[mode])
        pairs = " ".join(f"{x:.0%}" for x in ratio)
        print(f"{mode:<10} {runner:>15.1f} {alone:>16.1f} {pairs:>40} {statistics.median(ratio):>7.0%}")
    print("  (llama.cpp alone: the median of its runs; cases/s from the time inside llama_decode only)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
