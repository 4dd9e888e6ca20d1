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

The limit is the best any client could do without skipping work: llama.cpp's best prompt rate on the same model
object (bare `eval` of these prompts' tokens after the cached prefix: a sweep of 64 to 512 tokens per eval first,
then, around every round, best of 3 at the two best sizes), divided by the tokens each case adds (the tokens after
the cached prefix: the prefix is the token prefix every prompt's own tokenization starts with, so the space that
ends "Review: " is the case's, merged into its first word). Generating also decodes: after the prompt, one token per
answer token but the last (here " positive" then the stop "\\n": one decode per case), so generate's limit counts
those tokens too, at the same rate. The few-shot prefix stays in the KV cache between measurements, as it does
between the runs of a notebook session: the rounds cost what one run of all the cases does, one prefix evaluation
(0.3 s of about 80). This machine's speed drifts by 10-20% within minutes, so the batched modes run in rounds: the
cases in chunks, each chunk run in every mode between two measurements of the limit, and each mode's figure is the
median over rounds of its rate against the limit around it. Beside it: llama.cpp alone doing exactly the work the
cases need (their tokens in their own sequences, a logits row for each case's last token and for each decode, passes
filled to the same token budget, no Python between them), which no client can beat on this work; and the old limit,
the same work one case at a time (bare `eval` of each case's tokens, then bare greedy decoding to the stop).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
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

    def per_case(self, mode: str) -> float:
        """Tokens' worth of work per case: what it adds, and for an answer the decodes too."""
        return self.mean_added + (self.mean_decodes if mode != "logprob" else 0)

    def first(self, n: int) -> Work:
        return Work(self.prefix, self.added[:n], self.decodes[:n])

    def without_decodes(self) -> Work:
        """The same cases scored, not answered (logprob): their tokens and a logits row each, no decodes."""
        return Work(self.prefix, self.added, [0] * len(self.added))


def run_mode(suite: Any, mode: str, db: Path, concurrency: int | None = None) -> Row:
    from llamacompare.analysis.score import score_run
    from llamacompare.analysis.summary import build_report
    from llamacompare.runner import RunOptions, execute, make_plan
    from llamacompare.store import Store
    from llamacompare.tasks.schema import ModelConfig

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


def task_work(llm: Any, suite: Any, decodes: bool = True) -> Work:
    """Each case's tokens after the task's cached prefix (the whole prompt when there is none), and the greedy
    decodes to the task's stop (bare llama.cpp, one case at a time; 0 each without `decodes`)."""
    import numpy as np

    from llamacompare.models.base import Params
    from llamacompare.models.local import shared_prefix
    from llamacompare.models.registry import resolve
    from llamacompare.models.requests import to_request
    from llamacompare.tasks.prompt_template import render_case

    task = suite.tasks[0]
    spec, params = resolve(MODEL), task.generation_params(Params())
    work = Work([], [], [])
    for i, case in enumerate(suite.cases(task)):
        r = render_case(task, case)
        prompt = to_request(spec, r.messages(), Params()).prompt or ""
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if i == 0 and r.prefix:
            head = prompt[: prompt.find(r.prefix) + len(r.prefix)]
            # what the runner shares: the head's tokens the prompt's own tokenization starts with
            work.prefix = shared_prefix(llm.tokenize(head.encode("utf-8"), add_bos=True, special=True), tokens)
        n = len(work.prefix) if tokens[: len(work.prefix)] == work.prefix else 0
        work.added.append(tokens[n:])
        if not decodes:
            work.decodes.append(0)
            continue
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


def batched_rates(llm: Any, work: Work, sizes: tuple[int, ...] = SIZES, repeats: int = 3,
                  singles: list[float] | None = None) -> dict[int, float]:
    """llama.cpp's prompt rate (tokens/s) by tokens per `eval`: these cases' tokens, after the cached prefix, the
    best of `repeats`. `singles` collects every eval's own rate."""
    stream = [t for toks in work.added for t in toks]
    while len(stream) < max(sizes):
        stream += stream
    best: dict[int, float] = {}
    for size in sizes:
        times = []
        for r in range(repeats):
            start = (r * size) % (len(stream) - size + 1)
            _to_prefix(llm, work.prefix)
            t0 = time.perf_counter()
            llm.eval(stream[start : start + size])
            times.append(time.perf_counter() - t0)
        best[size] = size / min(times)
        if singles is not None:
            singles.extend(size / t for t in times)
    _to_prefix(llm, work.prefix)  # left cached, as after a run
    return best


def with_rows(llm: Any, work: Work, budget: int) -> float:
    """llama.cpp alone doing exactly the work these cases need, no Python between forward passes: each case's
    tokens in its own sequence after the shared prefix, passes filled to `budget` tokens, a logits row at each
    case's last token, and each decode (one token and its row) in the next pass. Tokens/s over all passes."""
    from llama_cpp._internals import LlamaBatch

    from llamacompare.models.local_batch import _put, llama_cpp

    lc = llama_cpp()
    mem = llm._ctx.memory
    batch = LlamaBatch(n_tokens=llm.n_batch, embd=0, n_seq_max=1, verbose=False)
    b = batch.batch
    _to_prefix(llm, work.prefix)
    p = len(work.prefix)
    free = list(range(1, llm.context_params.n_seq_max))
    live: list[tuple[int, int, int]] = []  # (sequence, next position, decodes left)
    tokens, seconds, i = 0, 0.0, 0
    while i < len(work.added) or live:
        n, done, following = 0, [], []
        for seq, pos, left in live:
            n = _put(b, n, 0, pos, seq, True)
            if left > 1:
                following.append((seq, pos + 1, left - 1))
            else:
                done.append(seq)
        live = following
        while i < len(work.added) and free and n + len(work.added[i]) <= budget:
            seq, toks = free.pop(), work.added[i]
            if p:
                lc.llama_memory_seq_cp(mem, 0, seq, 0, p)
            for j, tok in enumerate(toks):
                n = _put(b, n, tok, p + j, seq, j == len(toks) - 1)
            if work.decodes[i]:
                live.append((seq, p + len(toks), work.decodes[i]))
            else:
                done.append(seq)
            i += 1
        b.n_tokens = n
        t0 = time.perf_counter()
        if lc.llama_decode(llm._ctx.ctx, b) != 0:
            raise RuntimeError("llama_decode failed")
        seconds += time.perf_counter() - t0
        tokens += n
        for seq in done:
            lc.llama_memory_seq_rm(mem, seq, -1, -1)
            free.append(seq)
    _to_prefix(llm, work.prefix)  # left cached, as after a run
    return tokens / seconds


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
    _to_prefix(llm, work.prefix)  # left cached, as after a run
    return n / t_prompt, n / (t_prompt + t_decode)


def chunks(suite: Any, work: Work, rounds: int, folder: Path, name: str) -> list[tuple[Path, Work]]:
    """The suite's cases in `rounds` files of about equal size, in order (JSONL: `text`, `label`), each with its
    part of `work`."""
    import json

    cases = list(suite.cases(suite.tasks[0]))
    size = -(-len(cases) // rounds)
    out = []
    for k in range(0, len(cases), size):
        path = folder / f"{name}-{len(out)}.jsonl"
        path.write_text("".join(json.dumps(c.fields, ensure_ascii=False) + "\n" for c in cases[k : k + size]),
                        encoding="utf-8")
        out.append((path, Work(work.prefix, work.added[k : k + size], work.decodes[k : k + size])))
    return out


@dataclass
class Rounds:
    """A mode run chunk by chunk, each chunk between two measurements of the limit (the machine's speed drifts
    by 10-20% within minutes here: a limit measured at another moment says little)."""

    name: str
    cases: int = 0
    seconds: float = 0.0
    accuracy_sum: float = 0.0
    ratios: list[float] = field(default_factory=list)  # each round's rate over the limit measured around it
    raw: float | None = None  # llama.cpp alone on the same work, with its logits rows, of the limit

    def add(self, row: Row, limit: float) -> None:
        self.cases += row.cases
        self.seconds += row.seconds
        self.accuracy_sum += row.accuracy * row.cases
        self.ratios.append(row.rate / limit)

    @property
    def rate(self) -> float:
        return self.cases / self.seconds

    @property
    def accuracy(self) -> float:
        return self.accuracy_sum / self.cases


def add_data_option(ap: argparse.ArgumentParser) -> None:
    """--data: the SST-2 dev set beside the checkout when it is there (benchmarks may read ../shared; tests never)."""
    shared = ROOT.parent / "shared" / "datasets" / "sst2_dev.tsv"
    ap.add_argument("--data", default=str(shared) if shared.is_file() else None,
                    help="FILE, hf:NAME[:CONFIG]/SPLIT or hf (default: ../shared/datasets/sst2_dev.tsv if present, "
                    "else the suite's shipped sample)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_option(ap)
    ap.add_argument("--limit", type=int, default=None, help="first N SST-2 cases (default: all)")
    ap.add_argument("--rounds", type=int, default=4, help="SST-2 chunks, each between two limit measurements")
    ap.add_argument("--alone-limit", type=int, default=300,
                    help="cases for the one-case-at-a-time rows (default 300)")
    ap.add_argument("--no-prefix-limit", type=int, default=100,
                    help="cases for the slow no-shared-prefix baseline (default 100)")
    ap.add_argument("--long-limit", type=int, default=None, help="first N long reviews (default: all 96)")
    ap.add_argument("--long-rounds", type=int, default=4, help="long-review chunks (default 4)")
    args = ap.parse_args()
    from llamacompare.models.bundled import bundled_model_path
    from llamacompare.models.local import BATCH_TOKENS, FLASH_ATTN, PARALLEL, get_model
    from llamacompare.tasks.loader import load_suite

    def sst2(limit: int | None, data: str | Path | None = args.data) -> Any:
        return load_suite("sst2", data=data).with_overrides(limit, None)

    def long_reviews(data: Path | None = None) -> Any:
        return load_suite(LONG_SUITE, data=data).with_overrides(None if data else args.long_limit, None)

    def no_prefix(limit: int) -> Any:
        """The same prompts with nothing shared: the few-shot block is each case's first field (a template's
        literal start would be shared like a few-shot block)."""
        from llamacompare.tasks.loaded import LoadedSuite
        from llamacompare.tasks.prompt_template import render

        s = sst2(limit)
        t = s.tasks[0]
        block = "".join(render(t.few_shot_template, ex) for ex in t.few_shot or [])
        cases = [{"block": block, **c.fields} for c in s.cases(t)]
        task = type(t).model_validate({**t.model_dump(exclude_none=True), "template": "{block}" + t.template,
                                       "few_shot": None, "few_shot_template": None, "dataset": None,
                                       "cases": cases})
        return LoadedSuite.of(type(s.suite).model_validate({**s.suite.model_dump(exclude_none=True),
                                                            "tasks": [task.model_dump(exclude_none=True)]}))

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        run_mode(sst2(2), "generate", d / "warm.db")  # load the model once, outside the timings
        llm = get_model(str(bundled_model_path())).llm()
        sst2_work, long_work = task_work(llm, sst2(args.limit)), task_work(llm, long_reviews())
        sst2_rates, long_rates = batched_rates(llm, sst2_work), batched_rates(llm, long_work)
        # the limit in each round: the best of 3 at the two best sizes of this first sweep
        sst2_sizes = tuple(sorted(sst2_rates, key=sst2_rates.__getitem__)[-2:])
        long_sizes = tuple(sorted(long_rates, key=long_rates.__getitem__)[-2:])
        dbs = iter(range(10**6))

        singles: list[float] = []  # every bare eval around the SST-2 rounds: how far its best is from its typical

        def rate(work: Work, sizes: tuple[int, ...]) -> float:
            return max(batched_rates(llm, work, sizes, singles=singles if work is sst2_work else None).values())

        def once(name: str, suite: Any, n: int, mode: str, concurrency: int | None = None) -> Rounds:
            before = rate(sst2_work, sst2_sizes)
            row = run_mode(suite, mode, d / f"{next(dbs)}.db", concurrency)
            r = Rounds(name)
            r.add(row, (before + rate(sst2_work, sst2_sizes)) / 2 / sst2_work.first(n).per_case(mode))
            return r

        rows = [once("generate, new prompt per case", no_prefix(args.no_prefix_limit), args.no_prefix_limit,
                     "generate"),
                once("generate, prefix cached, one at a time", sst2(args.alone_limit), args.alone_limit, "generate",
                     1),
                once("logprob, prefix cached, one at a time", sst2(args.alone_limit), args.alone_limit, "logprob", 1)]
        gen, lp, both = (Rounds(f"{m}, prefix cached (default)") for m in ("generate", "logprob", "both"))
        long = Rounds("long reviews, generate (default)")
        raw_lp: list[float] = []
        raw_gen: list[float] = []
        limits_lp: list[float] = []
        sst2_limits: list[float] = []  # the limit in tokens/s, each round
        for path, work in chunks(sst2(args.limit), sst2_work, args.rounds, d, "sst2"):
            chunk = sst2(None, path)
            before = rate(sst2_work, sst2_sizes)
            alone_lp = with_rows(llm, work.without_decodes(), BATCH_TOKENS)
            alone_gen = with_rows(llm, work, BATCH_TOKENS)
            runs = {m: run_mode(chunk, m, d / f"{next(dbs)}.db") for m in ("generate", "logprob", "both")}
            tokens_per_s = (before + rate(sst2_work, sst2_sizes)) / 2
            sst2_limits.append(tokens_per_s)
            # the chunk's limit over its own cases' tokens, not the whole set's mean
            lim_lp, lim_gen = tokens_per_s / work.per_case("logprob"), tokens_per_s / work.per_case("generate")
            limits_lp.append(lim_lp)
            raw_lp.append(alone_lp / work.per_case("logprob") / lim_lp)
            raw_gen.append(alone_gen / work.per_case("generate") / lim_gen)
            gen.add(runs["generate"], lim_gen)
            lp.add(runs["logprob"], lim_lp)
            both.add(runs["both"], lim_gen)
        lp.raw, gen.raw = statistics.median(raw_lp), statistics.median(raw_gen)
        limits_long: list[float] = []
        for path, work in chunks(long_reviews(), long_work, args.long_rounds, d, "long"):
            before = rate(long_work, long_sizes)
            row = run_mode(long_reviews(path), "generate", d / f"{next(dbs)}.db")
            limits_long.append((before + rate(long_work, long_sizes)) / 2 / work.per_case("generate"))
            long.add(row, limits_long[-1])
        old_lp, old_gen = one_at_a_time(llm, sst2_work)
        mean_limit = statistics.mean(limits_lp)

    flash = {-1: "auto", 0: "off"}.get(FLASH_ATTN, "on")
    print(f"bundled model, {PARALLEL} cases in flight at most, {BATCH_TOKENS} tokens per forward pass at most, "
          f"flash attention {flash}")
    print("llama.cpp prompt rate by tokens per eval (tokens/s, best of 3, before the runs):")
    print("  " + "  ".join(f"{k}: {v:,.0f}" for k, v in sst2_rates.items()) + "   (SST-2 tokens after the prefix)")
    print("  " + "  ".join(f"{k}: {v:,.0f}" for k, v in long_rates.items()) + "   (long reviews, whole prompts)")
    print(f"SST-2: each case adds {sst2_work.mean_added:.1f} tokens after the {len(sst2_work.prefix)}-token prefix "
          f"and generate decodes {sst2_work.mean_decodes:.2f} more -> batched limit {mean_limit:.1f} cases/s "
          f"(logprob), {mean_limit * sst2_work.per_case('logprob') / sst2_work.per_case('generate'):.1f} "
          f"(generate); one case at a time: {old_lp:.1f} / {old_gen:.1f}")
    print(f"  (the limit in each of {args.rounds} rounds: best of 3 at {' and '.join(map(str, sst2_sizes))} tokens "
          f"per eval, before and after the round's runs; rounds' logprob limits {min(limits_lp):.1f}-"
          f"{max(limits_lp):.1f} cases/s)")
    print(f"  llama.cpp alone on the same cases with the logits row each needs, no Python between passes: "
          f"{lp.raw:.0%} of the logprob limit, {gen.raw:.0%} of generate's")
    print(f"  the machine's noise: the median single bare eval around the rounds ran at "
          f"{statistics.median(singles) / statistics.mean(sst2_limits):.0%} of the limit's best-of-3 rate "
          f"({len(singles)} evals); a run is timed over its whole length, so it sees typical speed, not the best")
    print(f"long reviews: {long_work.mean_added:.1f} tokens per prompt, {long_work.mean_decodes:.2f} decodes -> "
          f"batched limit {statistics.mean(limits_long):.1f} cases/s (best of 3 at "
          f"{' and '.join(map(str, long_sizes))} tokens per eval, around each of {len(limits_long)} rounds)")
    head = ("mode", "cases", "cases/s", "of batched limit", "of 1-at-a-time limit", "accuracy")
    print(f"{head[0]:<40} {head[1]:>6} {head[2]:>8} {head[3]:>17} {head[4]:>21} {head[5]:>9}")
    for row in [*rows, gen, lp, both, long]:
        ratio = statistics.median(row.ratios)
        spread = f" ({min(row.ratios):.0%}-{max(row.ratios):.0%})" if len(row.ratios) > 1 else ""
        if row.name.startswith("long"):
            alone = "-"
        elif row.name.startswith("logprob"):
            alone = f"{row.rate / old_lp:.0%}"
        else:
            alone = f"{row.rate / old_gen:.0%}"
        print(f"{row.name:<40} {row.cases:>6} {row.rate:>8.1f} {f'{ratio:.0%}{spread}':>17} {alone:>21} "
              f"{row.accuracy:>9.3f}")
    print("  (of batched limit: the median over rounds of each round's rate against the limit measured around it, "
          "lowest-highest in brackets)")
    slower = max(gen.seconds / gen.cases, lp.seconds / lp.cases)
    print(f"mode both: {both.seconds / both.cases * 1e3:.1f} ms per case against {slower * 1e3:.1f} for the slower "
          f"single mode = {both.seconds / both.cases / slower:.2f}x")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
