"""Where a batched forward pass of classification cases costs more than llama.cpp's bare prompt eval.

    python bench/pass_costs.py --data ../shared/datasets/sst2_dev.tsv          # 20 interleaved repeats, ~4 minutes
    python bench/pass_costs.py --data ../shared/datasets/sst2_dev.tsv -r 40    # steadier medians, ~9 minutes

bench/local_classification.py divides the runner's rate by llama.cpp's bare prompt rate: one sequence, one logits
row per eval. A pass of the runner carries the same number of tokens but from about ten cases, each in its own
sequence after the shared few-shot prefix, each needing its logits row (the 262k x 640 output projection), in a KV
cache whose cells have spread over many passes. This script times one 256-token pass of real SST-2 cases (their
tokens after the cached prefix) each way, interleaved repeat by repeat on the same model object, and prints each
way's median and best against the bare eval's: which part of the gap is the work no client can skip (the rows),
which is the cache's layout, and how far this machine's best eval is from its typical one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 256


def main() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from local_classification import add_data_option, task_work

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_option(ap)
    ap.add_argument("-r", "--repeats", type=int, default=20, help="interleaved repeats of each way (default 20)")
    args = ap.parse_args()
    from llama_cpp._internals import LlamaBatch

    from llamacompare.models.bundled import bundled_model_path
    from llamacompare.models.local import get_model
    from llamacompare.models.local_batch import _put, llama_cpp
    from llamacompare.tasks.loader import load_suite

    lc = llama_cpp()
    llm = get_model(str(bundled_model_path())).llm()
    work = task_work(llm, load_suite("sst2", data=args.data).with_overrides(400, None), decodes=False)
    mem, ctx, p = llm._ctx.memory, llm._ctx.ctx, len(work.prefix)
    b = LlamaBatch(n_tokens=llm.n_batch, embd=0, n_seq_max=1, verbose=False).batch
    cases = [c for c in work.added if c]
    at = 0

    def fresh() -> None:
        """An empty cache but for the prefix, in cells 0..p-1 (llama.cpp's next free cell right after it)."""
        lc.llama_memory_clear(mem, True)
        llm.n_tokens = 0
        llm.eval(work.prefix)

    def one_pass(rows: bool, sequences: bool) -> float:
        """The next cases, up to BUDGET tokens, in one llama_decode: tokens/s of that call."""
        nonlocal at
        n, used = 0, []
        while n + len(cases[at % len(cases)]) <= BUDGET:
            toks = cases[at % len(cases)]
            seq = len(used) + 1 if sequences else 0
            if sequences:
                lc.llama_memory_seq_cp(mem, 0, seq, 0, p)
            start = p if sequences else p + n  # one sequence: the cases one after another, like a bare eval
            for j, tok in enumerate(toks):
                n = _put(b, n, tok, start + j, seq, rows and j == len(toks) - 1)
            used.append(seq)
            at += 1
        if not rows:
            b.logits[n - 1] = True
        b.n_tokens = n
        t0 = time.perf_counter()
        if lc.llama_decode(ctx, b) != 0:
            raise RuntimeError("llama_decode failed")
        seconds = time.perf_counter() - t0
        for seq in used:
            lc.llama_memory_seq_rm(mem, seq, p if seq == 0 else -1, -1)
        return n / seconds

    ways = {
        "bare eval: one sequence, one logits row": (False, False),
        "one sequence, a logits row per case": (True, False),
        "a sequence per case, one logits row": (False, True),
        "a sequence and a logits row per case": (True, True),
    }
    spread = "... after 8 passes without clearing the cache (a run)"
    rates: dict[str, list[float]] = {name: [] for name in [*ways, spread]}
    for _ in range(args.repeats):
        for name, (rows, sequences) in ways.items():
            fresh()
            rates[name].append(one_pass(rows, sequences))
        for _ in range(8):
            one_pass(True, True)
        rates[spread].append(one_pass(True, True))
    lc.llama_memory_clear(mem, True)
    llm.n_tokens = 0

    bare = rates["bare eval: one sequence, one logits row"]
    per_case = statistics.mean(map(len, cases))
    print(f"one {BUDGET}-token pass of SST-2 cases (about {BUDGET / per_case:.0f} cases, {per_case:.1f} tokens each "
          f"after the {p}-token prefix), {args.repeats} interleaved repeats; tokens/s")
    print(f"{'':<56} {'median':>7} {'of bare':>8} {'best':>6} {'of bare':>8}")
    for name, v in rates.items():
        print(f"{name:<56} {statistics.median(v):>7.0f} {statistics.median(v) / statistics.median(bare):>8.1%} "
              f"{max(v):>6.0f} {max(v) / max(bare):>8.1%}")
    best3 = statistics.median(max(bare[i : i + 3]) for i in range(0, len(bare) - 2, 3))
    print(f"the bare eval's median is {statistics.median(bare) / best3:.0%} of a typical best of 3 "
          f"({best3:.0f} tok/s): the gap between a whole run's speed and a limit that is a best of 3")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
