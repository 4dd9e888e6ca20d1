"""Local classification speed: SST-2 dev, 4-shot, the bundled Gemma 3 270M, in-process.

    python bench/local_classification.py                     # ../shared/datasets/sst2_dev.tsv when it is there
    python bench/local_classification.py --data sst2_dev.tsv --limit 200
    python bench/local_classification.py --data hf          # SST-2 dev from the Hugging Face Hub (or its cache)

Without the file beside the checkout and without --data, the sst2 suite's shipped sample is used (120 English
reviews written for llamacompare, shorter than SST-2's sentences: its figures are not comparable with SST-2's).

Measured side by side in one process, through the real runner (storage on, fresh database each):
  - generate, a new prompt per case (the few-shot block re-read every time: no shared prefix),
  - generate with the few-shot prefix kept in the KV cache, one case at a time (a suite's `concurrency: 1`),
  - the same, the default way: up to 4 cases in each forward pass (continuous batching, models/local_batch.py),
  - logprob mode with the prefix kept, one case at a time and the default way,
against the limit: llama.cpp's own prompt-processing rate over only the tokens each case adds after the prefix
(the same model object, timing bare `eval` calls), i.e. the best any client could do without skipping work.
Generating also decodes: after the prompt, one `eval` of a single token per answer token but the last (here
" positive" then the stop "\n": one decode per case, which costs about as much as ten prompt tokens). So a
second limit, for generate, times bare llama.cpp doing exactly that too: the prompt's tokens, then greedy
decoding until the task's stop or max_tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_mode(suite, mode: str, db: Path, concurrency: int | None = None) -> tuple[float, int, float]:  # type: ignore[no-untyped-def]
    from llamacompare.analysis.score import score_run
    from llamacompare.analysis.summary import build_report
    from llamacompare.runner import RunOptions, execute, make_plan
    from llamacompare.store import Store
    from llamacompare.tasks.suite import ModelConfig

    store = Store(db)
    if concurrency:  # as a suite would set it: `models: [{name: local:gemma-3-270m, concurrency: 1}]`
        suite.models = [ModelConfig(name="local:gemma-3-270m", concurrency=concurrency)]
    plan = make_plan(suite, "sst2", ["local:gemma-3-270m"], RunOptions(), mode=mode)
    t0 = time.perf_counter()
    outcome = asyncio.run(execute(plan, store))
    elapsed = time.perf_counter() - t0
    score_run(store, plan.run_id, plan.suite)
    row = build_report(store, plan.run_id, plan.suite, include_cases=False).tasks[0].models[0]
    store.close()
    return outcome.sent / elapsed, outcome.sent, row.metrics["accuracy"].value or 0.0


def pp_limit(suite) -> tuple[float, float, float, float, float]:  # type: ignore[no-untyped-def]
    """Cases/s if each case cost only llama.cpp evaluating the tokens it adds after the cached prefix; and if it
    cost only that plus bare greedy decoding to the task's stop (the work `generate` cannot skip)."""
    import numpy as np

    from llamacompare.models.base import Params
    from llamacompare.models.bundled import bundled_model_path
    from llamacompare.models.local import get_model
    from llamacompare.models.registry import resolve
    from llamacompare.prompts.render import to_request
    from llamacompare.tasks.datasets import iter_cases
    from llamacompare.tasks.template import render_case

    task = suite.tasks[0]
    llm = get_model(str(bundled_model_path())).llm()
    spec = resolve("local:gemma-3-270m")
    params = task.generation_params(Params())
    times, decode_times, decodes, added = [], [], [], []
    prefix_tokens: list[int] | None = None
    for case in iter_cases(task):
        r = render_case(task, case)
        prompt = to_request(spec, r.messages(), Params()).prompt or ""
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if prefix_tokens is None:
            head = prompt[: prompt.find(r.prefix) + len(r.prefix)]
            prefix_tokens = llm.tokenize(head.encode("utf-8"), add_bos=True, special=True)
            llm.reset()
            llm.eval(prefix_tokens)
        n = len(prefix_tokens)
        llm.n_tokens = n
        t0 = time.perf_counter()
        llm.eval(tokens[n:])
        times.append(time.perf_counter() - t0)
        added.append(len(tokens) - n)
        t1, steps, text = time.perf_counter(), 0, ""
        for _ in range(params.max_tokens):
            logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))
            token = int(logits.argmax())
            text += llm.detokenize([token]).decode("utf-8", "ignore")
            if token == llm.token_eos() or any(s in text for s in params.stop) or steps + 1 == params.max_tokens:
                break
            llm.eval([token])
            steps += 1
        decode_times.append(time.perf_counter() - t1)
        decodes.append(steps)
    llm.reset()
    total = sum(times)
    limit_generate = len(times) / (total + sum(decode_times))
    return len(times) / total, sum(added) / total, statistics.mean(added), limit_generate, statistics.mean(decodes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = ROOT.parent / "shared" / "datasets" / "sst2_dev.tsv"
    ap.add_argument("--data", default=str(shared) if shared.is_file() else None,
                    help="FILE, hf:NAME[:CONFIG]/SPLIT or hf (default: ../shared/datasets/sst2_dev.tsv if present, "
                    "else the suite's shipped sample)")
    ap.add_argument("--limit", type=int, default=None, help="first N cases (default: all)")
    ap.add_argument("--no-prefix-limit", type=int, default=100,
                    help="cases for the slow no-shared-prefix baseline (default 100)")
    args = ap.parse_args()
    from llamacompare.runner.plan import apply_limit
    from llamacompare.tasks.loader import load_suite

    def suite(limit: int | None):  # type: ignore[no-untyped-def]
        s = load_suite("sst2", data=args.data)
        if limit:
            apply_limit(s, limit)
        return s

    def no_prefix(limit: int):  # type: ignore[no-untyped-def]
        s = suite(limit)
        t = s.tasks[0]
        from llamacompare.tasks.template import render

        block = "".join(render(t.few_shot_template, ex) for ex in t.few_shot or [])
        t.template = block.replace("{", "{{").replace("}", "}}") + t.template
        t.few_shot, t.few_shot_template = None, None
        return s

    full = suite(args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        run_mode(suite(2), "generate", d / "warm.db")  # load the model once, outside the timings
        before = pp_limit(full)
        rows = [
            ("generate, new prompt per case", *run_mode(no_prefix(args.no_prefix_limit), "generate", d / "a.db")),
            ("generate, prefix cached, one at a time", *run_mode(suite(args.limit), "generate", d / "b1.db", 1)),
            ("generate, prefix cached (default)", *run_mode(full, "generate", d / "b.db")),
            ("logprob, prefix cached, one at a time", *run_mode(suite(args.limit), "logprob", d / "c1.db", 1)),
            ("logprob, prefix cached (default)", *run_mode(suite(args.limit), "logprob", d / "c.db")),
        ]
        after = pp_limit(full)  # the machine's speed drifts: the limit is the mean of before and after the runs
    print(f"limit measured before / after the runs: {before[0]:.1f} / {after[0]:.1f} cases/s (prompt only), "
          f"{before[3]:.1f} / {after[3]:.1f} (with decoding)")
    limit_cps, pp_tps, mean_added, limit_gen, mean_decodes = (
        (b + a) / 2 for b, a in zip(before, after, strict=True)
    )
    print(f"llama.cpp prompt processing: {pp_tps:,.0f} tokens/s; each case adds {mean_added:.1f} tokens after the "
          f"prefix -> limit {limit_cps:.1f} cases/s")
    print(f"llama.cpp prompt processing + greedy decoding to the stop ({mean_decodes:.2f} decodes per case) -> "
          f"limit for generate {limit_gen:.1f} cases/s")
    head = ("mode", "cases", "cases/s", "of pp limit", "of gen limit", "vs 3.0/s", "accuracy")
    print(f"{head[0]:<36} {head[1]:>6} {head[2]:>8} {head[3]:>12} {head[4]:>13} {head[5]:>9} {head[6]:>9}")
    for name, cps, n, acc in rows:
        gen = f"{cps / limit_gen:.0%}" if name.startswith("generate") else "-"
        print(f"{name:<36} {n:>6} {cps:>8.1f} {cps / limit_cps:>12.0%} {gen:>13} {cps / 3.0:>8.1f}x {acc:>9.3f}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
