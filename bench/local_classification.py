"""Local classification speed against llama.cpp's own limit: SST-2 dev 4-shot and IMDB-length reviews, the bundled
Gemma 3 270M, in-process.

    python bench/local_classification.py                     # ../shared/datasets/sst2_dev.tsv when it is there
    python bench/local_classification.py --data sst2_dev.tsv --limit 200
    python bench/local_classification.py --data hf          # SST-2 dev from the Hugging Face Hub (or its cache)

Without the file beside the checkout and without --data, the sst2 suite's shipped sample is used (120 English
reviews written for llamacompare, shorter than SST-2's sentences: its figures are not comparable with SST-2's).

Measured side by side in one process, through the real runner (storage on, fresh database each):
  - SST-2 generate with a new prompt per case (the few-shot block re-read every time: no shared prefix),
  - SST-2 generate and logprob with the few-shot prefix kept in the KV cache, one case in flight (a suite's
    `concurrency: 1`) and the default way (forward passes filled with many cases, models/local_batch.py),
  - SST-2 `mode: both` the default way (one prompt pass gives the label scores and the answer),
  - IMDB-length reviews (bench/data/long_reviews.tsv, ~200 tokens each, nothing shared but the instruction).

The limit is the best any client could do without skipping work: llama.cpp's best prompt rate measured in the same
run on the same model object (bare `eval` of batches of 64 to 512 tokens of these prompts, after the cached
prefix, best of 3 at each size), divided by the tokens each case adds (the tokens after the cached prefix).
Generating also decodes: after the prompt, one token per answer token but the last (here " positive" then the
stop "\\n": one decode per case), so generate's limit counts those tokens too, at the same rate. The old limit,
the same work done one case at a time (bare `eval` of each case's tokens, then bare greedy decoding to the stop),
is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LONG_SUITE = ROOT / "bench" / "data" / "long_reviews.yaml"
SIZES = (64, 128, 256, 512)
MODEL = "local:gemma-3-270m"


@dataclass
class Row:
    name: str
    cases: int
    seconds: float
    accuracy: float

    @property
    def rate(self) -> float:
        return self.cases / self.seconds


@dataclass
class Work:
    """What each case of a task costs llama.cpp at least: its tokens after the cached prefix, its decodes."""

    prefix: list[int]
    added: list[list[int]]
    decodes: list[int]

    @property
    def mean_added(self) -> float:
        return statistics.mean(map(len, self.added))

    @property
    def mean_decodes(self) -> float:
        return statistics.mean(self.decodes)


def run_mode(suite: Any, mode: str, db: Path, concurrency: int | None = None) -> Row:
    from llamacompare.analysis.score import score_run
    from llamacompare.analysis.summary import build_report
    from llamacompare.runner import RunOptions, execute, make_plan
    from llamacompare.store import Store
    from llamacompare.tasks.suite import ModelConfig

    store = Store(db)
    if concurrency:  # as a suite would set it: `models: [{name: local:gemma-3-270m, concurrency: 1}]`
        suite.suite.models = [ModelConfig(name=MODEL, concurrency=concurrency)]
    plan = make_plan(suite, suite.name or "bench", [MODEL], RunOptions(), mode=mode)
    t0 = time.perf_counter()
    outcome = asyncio.run(execute(plan, store))
    elapsed = time.perf_counter() - t0
    score_run(store, plan.run_id, plan.suite)
    row = build_report(store, plan.run_id, plan.suite, include_cases=False).tasks[0].models[0]
    store.close()
    cases = outcome.sent // (2 if mode == "both" else 1)
    return Row("", cases, elapsed, row.metrics["accuracy"].value or 0.0)


def task_work(llm: Any, suite: Any) -> Work:
    """Each case's tokens after the task's cached prefix (the whole prompt when there is none), and the greedy
    decodes to the task's stop (bare llama.cpp, one case at a time)."""
    import numpy as np

    from llamacompare.models.base import Params
    from llamacompare.models.registry import resolve
    from llamacompare.models.render import to_request
    from llamacompare.tasks.template import render_case

    task = suite.tasks[0]
    spec, params = resolve(MODEL), task.generation_params(Params())
    work = Work([], [], [])
    for i, case in enumerate(suite.cases(task)):
        r = render_case(task, case)
        prompt = to_request(spec, r.messages(), Params()).prompt or ""
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if i == 0 and r.prefix:
            head = prompt[: prompt.find(r.prefix) + len(r.prefix)]
            work.prefix = llm.tokenize(head.encode("utf-8"), add_bos=True, special=True)
        n = len(work.prefix)
        work.added.append(tokens[n:])
        _to_prefix(llm, work.prefix)
        llm.eval(tokens[n:])
        steps, text = 0, ""
        for _ in range(params.max_tokens):
            logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))
            token = int(logits.argmax())
            text += llm.detokenize([token]).decode("utf-8", "ignore")
            if token == llm.token_eos() or any(s in text for s in params.stop) or steps + 1 == params.max_tokens:
                break
            llm.eval([token])
            steps += 1
        work.decodes.append(steps)
    llm.reset()
    return work


def _to_prefix(llm: Any, prefix: list[int]) -> None:
    """Leave exactly `prefix` in the KV cache (evaluated once, then kept)."""
    n = len(prefix)
    if n and llm.n_tokens >= n and list(llm.input_ids[:n]) == prefix:
        llm._ctx.kv_cache_seq_rm(0, n, -1)
        llm.n_tokens = n
    else:
        llm.reset()
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        if prefix:
            llm.eval(prefix)


def batched_rates(llm: Any, work: Work, repeats: int = 3) -> dict[int, float]:
    """llama.cpp's prompt rate (tokens/s) by tokens per `eval`: these cases' tokens, after the cached prefix."""
    stream = [t for toks in work.added for t in toks]
    while len(stream) < max(SIZES):
        stream += stream
    best: dict[int, float] = {}
    for size in SIZES:
        times = []
        for r in range(repeats):
            start = (r * size) % (len(stream) - size + 1)
            _to_prefix(llm, work.prefix)
            t0 = time.perf_counter()
            llm.eval(stream[start : start + size])
            times.append(time.perf_counter() - t0)
        best[size] = size / min(times)
    llm.reset()
    return best


def one_at_a_time(llm: Any, work: Work, cases: int = 200) -> tuple[float, float]:
    """The old limit: cases/s when llama.cpp evaluates each case's tokens on its own (and, for generate, then
    decodes to the stop one token at a time), over the first `cases` cases."""
    t_prompt = t_decode = 0.0
    n = min(cases, len(work.added))
    for toks, steps in zip(work.added[:n], work.decodes[:n], strict=True):
        _to_prefix(llm, work.prefix)
        t0 = time.perf_counter()
        llm.eval(toks)
        t1 = time.perf_counter()
        for _ in range(steps):
            llm.eval([toks[-1]])
        t_prompt += t1 - t0
        t_decode += time.perf_counter() - t1
    llm.reset()
    return n / t_prompt, n / (t_prompt + t_decode)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = ROOT.parent / "shared" / "datasets" / "sst2_dev.tsv"
    ap.add_argument("--data", default=str(shared) if shared.is_file() else None,
                    help="FILE, hf:NAME[:CONFIG]/SPLIT or hf (default: ../shared/datasets/sst2_dev.tsv if present, "
                    "else the suite's shipped sample)")
    ap.add_argument("--limit", type=int, default=None, help="first N SST-2 cases (default: all)")
    ap.add_argument("--no-prefix-limit", type=int, default=100,
                    help="cases for the slow no-shared-prefix baseline (default 100)")
    ap.add_argument("--long-limit", type=int, default=None, help="first N long reviews (default: all 96)")
    args = ap.parse_args()
    from llamacompare.models.bundled import bundled_model_path
    from llamacompare.models.local import BATCH_TOKENS, PARALLEL, get_model
    from llamacompare.tasks.loader import load_suite

    def sst2(limit: int | None) -> Any:
        return load_suite("sst2", data=args.data).with_overrides(limit, None)

    def long_reviews() -> Any:
        return load_suite(LONG_SUITE).with_overrides(args.long_limit, None)

    def no_prefix(limit: int) -> Any:
        s = sst2(limit)
        t = s.tasks[0]
        from llamacompare.tasks.template import render

        block = "".join(render(t.few_shot_template, ex) for ex in t.few_shot or [])
        t.template = block.replace("{", "{{").replace("}", "}}") + t.template
        t.few_shot, t.few_shot_template = None, None
        return s

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        run_mode(sst2(2), "generate", d / "warm.db")  # load the model once, outside the timings
        llm = get_model(str(bundled_model_path())).llm()
        sst2_work, long_work = task_work(llm, sst2(args.limit)), task_work(llm, long_reviews())
        rates_before = batched_rates(llm, sst2_work), batched_rates(llm, long_work)
        rows: list[Row] = []

        def measure(name: str, suite: Any, mode: str, concurrency: int | None = None) -> Row:
            row = run_mode(suite, mode, d / f"{len(rows)}.db", concurrency)
            row.name = name
            rows.append(row)
            return row

        measure("generate, new prompt per case", no_prefix(args.no_prefix_limit), "generate")
        measure("generate, prefix cached, one at a time", sst2(args.limit), "generate", 1)
        gen = measure("generate, prefix cached (default)", sst2(args.limit), "generate")
        measure("logprob, prefix cached, one at a time", sst2(args.limit), "logprob", 1)
        lp = measure("logprob, prefix cached (default)", sst2(args.limit), "logprob")
        both = measure("both, prefix cached (default)", sst2(args.limit), "both")
        measure("long reviews, generate (default)", long_reviews(), "generate")
        rates_after = batched_rates(llm, sst2_work), batched_rates(llm, long_work)
        old_lp, old_gen = one_at_a_time(llm, sst2_work)

    # the machine's speed drifts: each size's rate is the best of its runs before and after the timed runs
    sst2_rates = {k: max(rates_before[0][k], rates_after[0][k]) for k in SIZES}
    long_rates = {k: max(rates_before[1][k], rates_after[1][k]) for k in SIZES}
    print(f"bundled model, {PARALLEL} cases in flight at most, {BATCH_TOKENS} tokens per forward pass at most")
    print("llama.cpp prompt rate by tokens per eval (tokens/s, best of 3 before and 3 after the runs):")
    print("  " + "  ".join(f"{k}: {v:,.0f}" for k, v in sst2_rates.items()) + "   (SST-2 tokens after the prefix)")
    print("  " + "  ".join(f"{k}: {v:,.0f}" for k, v in long_rates.items()) + "   (long reviews, whole prompts)")
    best, best_long = max(sst2_rates.values()), max(long_rates.values())
    limit_lp = best / sst2_work.mean_added
    limit_gen = best / (sst2_work.mean_added + sst2_work.mean_decodes)
    limit_long = best_long / (long_work.mean_added + long_work.mean_decodes)
    print(f"SST-2: each case adds {sst2_work.mean_added:.1f} tokens after the {len(sst2_work.prefix)}-token prefix "
          f"and generate decodes {sst2_work.mean_decodes:.2f} more -> batched limit {limit_lp:.1f} cases/s (logprob), "
          f"{limit_gen:.1f} (generate); one case at a time: {old_lp:.1f} / {old_gen:.1f}")
    print(f"long reviews: {long_work.mean_added:.1f} tokens per prompt, {long_work.mean_decodes:.2f} decodes -> "
          f"batched limit {limit_long:.1f} cases/s")
    head = ("mode", "cases", "cases/s", "of batched limit", "of 1-at-a-time limit", "accuracy")
    print(f"{head[0]:<40} {head[1]:>6} {head[2]:>8} {head[3]:>17} {head[4]:>21} {head[5]:>9}")
    for row in rows:
        if row.name.startswith("long"):
            batched, alone = f"{row.rate / limit_long:.0%}", "-"
        elif row.name.startswith("logprob"):
            batched, alone = f"{row.rate / limit_lp:.0%}", f"{row.rate / old_lp:.0%}"
        else:
            batched, alone = f"{row.rate / limit_gen:.0%}", f"{row.rate / old_gen:.0%}"
        print(f"{row.name:<40} {row.cases:>6} {row.rate:>8.1f} {batched:>17} {alone:>21} {row.accuracy:>9.3f}")
    slower = max(gen.seconds / gen.cases, lp.seconds / lp.cases)
    print(f"mode both: {both.seconds / both.cases * 1e3:.1f} ms per case against {slower * 1e3:.1f} for the slower "
          f"single mode = {both.seconds / both.cases / slower:.2f}x")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
