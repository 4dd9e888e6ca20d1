"""Greedy answers computed together (continuous batching) on the bundled model, against one case at a time."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli

from llamacompare.errors import BadRequestError, UsageError
from llamacompare.models.base import Params, Request, Response
from llamacompare.models.bundled import bundled_model_path
from llamacompare.models.local import PARALLEL, LocalProvider

# nats: llama.cpp's sums depend on the batch's layout, so a near-tie may go either way. With flash attention (on
# by default: its kernel rounds Q·K in f16) a label's log-probability moves by a median 0.02 nats and at most ~0.3
# between one at a time and batched on 120 SST-2-style cases; answers flipped at margins of 0.12 and 0.17.
NEAR_TIE = 0.3


def _provider(**kw: Any) -> LocalProvider:
    return LocalProvider(str(bundled_model_path()), **kw)


async def _one_at_a_time(p: LocalProvider, requests: list[Request]) -> list[Response]:
    return [await p._run(p._generate_sync, "m", r) for r in requests]


async def _together(p: LocalProvider, requests: list[Request]) -> list[Response]:
    return list(await asyncio.gather(*(p.generate("m", r) for r in requests)))


async def _margin(p: LocalProvider, r: Request, a: str, b: str) -> float:
    lp = await p.label_logprobs("m", r.prompt or "", [a, b], prefix=r.prefix)
    return abs(lp[a] - lp[b])


def _sst2_requests(n: int) -> list[Request]:
    from llamacompare.models.registry import resolve
    from llamacompare.models.requests import to_request
    from llamacompare.tasks.loader import load_suite
    from llamacompare.tasks.prompt_template import render_case

    suite = load_suite("sst2").with_overrides(n, None)  # the shipped English reviews, SST-2's format
    task = suite.tasks[0]
    spec, params = resolve("local:gemma-3-270m"), task.generation_params(Params())
    out = []
    for case in suite.cases(task):
        rendered = render_case(task, case)
        # as the runner sends them: a base model's answer ends at its line (the suite's base_model_stop)
        out.append(to_request(spec, rendered.messages(), params, prefix=rendered.prefix,
                              base_stop=task.base_model_stop or ()))
    return out


def test_few_shot_answers_in_batches_match_one_at_a_time() -> None:
    requests = _sst2_requests(48)

    async def go() -> tuple[list[Response], list[Response], list[float]]:
        p = _provider()
        assert p.model.batcher is not None and p.model.parallel == PARALLEL
        alone = await _one_at_a_time(p, requests)
        together = await _together(p, requests)
        margins = [await _margin(p, r, a.text, b.text) for r, a, b in zip(requests, alone, together, strict=True)
                   if a.text != b.text]
        return alone, together, margins

    alone, together, margins = asyncio.run(go())
    assert {a.text for a in alone} == {" positive", " negative"}  # the model really answers with both labels
    same = sum(a.text == b.text for a, b in zip(alone, together, strict=True))
    assert same >= len(requests) - 2 and all(m < NEAR_TIE for m in margins), margins
    for a, b in zip(alone, together, strict=True):
        assert (b.finish_reason, b.prompt_tokens, b.completion_tokens) == (a.finish_reason, a.prompt_tokens, 1)
        assert b.latency_s > 0 and b.ttft_s is not None and 0 < b.ttft_s <= b.latency_s
        assert b.request == a.request


def test_label_scores_in_batches_track_one_at_a_time() -> None:
    """Scores computed four cases per forward pass vary with the batch's layout as much as llama.cpp's own numbers
    already do between a warm and a cold prefix cache (up to ~0.2 nats on this 4-bit model), no more."""
    requests = _sst2_requests(24)
    english = [" positive", " negative"]
    turkish = ["olumlu", " olumsuz", " nötr bir yorum"]  # several tokens each: read after the prompt

    async def go() -> tuple[list[Any], list[Any], dict[str, int]]:
        p = _provider(parallel=4, n_ctx=2048)  # a model of its own: the stats below are this test's alone
        jobs = [(r, english if i % 3 else turkish) for i, r in enumerate(requests)]
        alone = [await p._run(p._label_logprobs_sync, r.prompt, labels, _head(r)) for r, labels in jobs]
        together = await asyncio.gather(*(p.label_logprobs("m", r.prompt or "", labels, prefix=r.prefix)
                                          for r, labels in jobs),
                                        *(p.generate("m", r) for r in requests[:6]))  # answers in the same passes
        assert p.model.batcher is not None
        return alone, list(together[: len(jobs)]), p.model.batcher.stats

    alone, together, stats = asyncio.run(go())
    assert stats["answered"] == 30 and stats["handed_back"] == 0 and stats["widest"] == 4
    assert stats["joined"] == 6  # an answer and scores for the same prompt, asked together: one job
    for a, b in zip(alone, together, strict=True):
        assert a.keys() == b.keys()
        for label in a:
            assert b[label] == pytest.approx(a[label], abs=0.3 if len(a) == 2 else 1.0), (label, a, b)
        if len(a) == 2 and abs(a[" positive"] - a[" negative"]) > 0.3:
            assert max(a, key=a.__getitem__) == max(b, key=b.__getitem__)
    assert sorted(together[0].values()) == pytest.approx(sorted(alone[0].values()), abs=1.0)
    assert min(together[0].values()) < -30  # three-token " nötr bir yorum" summed over its tokens


def _head(r: Request) -> str | None:
    return r.prompt[: r.prompt.find(r.prefix) + len(r.prefix)] if r.prompt and r.prefix else None


PREFIX_A = "Sayılar: bir, iki, üç, dört, beş, altı\nGünler: pazartesi, salı, çarşamba, perşembe, cuma\n"
PREFIX_B = "Counting: 1, 2, 3, 4, 5, 6, 7\nLetters: a, b, c, d, e, f, g\n"
# Each continued with a margin of at least 0.6 nats between the best two tokens over its first 8, with the prefix
# and without (a list such as "on, yirmi, otuz," had 0.07, and the AVX-512 build's rounding flipped it); the
# prompts below too (PREFIX_A alone had 0.07 at its first token, the old mixed emoji 0.03 at its fourth byte).
LISTS_A = ["Sayılar: bir, iki, üç,", "Harfler: a, b, c, ç, d,", "Sayılar: bir, iki, üç, dört,",
           "Sayılar: on, on bir, on iki,"]
LISTS_B = ["Counting: 10, 11, 12,", "Letters: k, l, m,", "Even: 2, 4, 6, 8,", "Counting: 100, 101, 102,"]


def _mixed_requests() -> list[Request]:
    """Two few-shot prefixes and none, interleaved; stops, max_tokens and Turkish text. Lists the model continues
    with confidence: the point is the bookkeeping, not a near-tie that rounding may decide."""
    out: list[Request] = []
    for i, (a, b) in enumerate(zip(LISTS_A, LISTS_B, strict=True)):
        out.append(Request(prompt=PREFIX_A + a, prefix=PREFIX_A,
                           params=Params(max_tokens=4 + i, stop=("\n",) if i % 2 else ())))
        out.append(Request(prompt=PREFIX_B + b, prefix=PREFIX_B, params=Params(max_tokens=6, stop=("\n", ","))))
        out.append(Request(prompt=a, params=Params(max_tokens=8, stop=("xyz", "\n"))))
    out.insert(1, Request(prompt=PREFIX_B, prefix=PREFIX_B, params=Params(max_tokens=3)))  # all prefix, nothing else
    # byte-level tokens: max_tokens falls inside a character, which is finished first (as create_completion does)
    out.append(Request(prompt="Emoji: 🪿🪿🪿🪿🪿🪿 more: 🪿🪿🪿", params=Params(max_tokens=6)))
    out.append(Request(prompt="𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝔱𝔢𝔵𝔱: 𝔄𝔅ℭ𝔇𝔈𝔉 𝔊ℌℑ𝔍𝔎𝔏 ", params=Params(max_tokens=2, stop=("\n",))))
    return out


def test_stops_lengths_prefixes_and_turkish_match_one_at_a_time() -> None:
    requests = _mixed_requests()

    async def go() -> tuple[list[Response], list[Response]]:
        p = _provider()  # flash attention as it runs by default: these prompts are far from near-ties
        return await _one_at_a_time(p, requests), await _together(p, requests)

    alone, together = asyncio.run(go())
    assert {a.finish_reason for a in alone} == {"stop", "length"}
    assert any(any(ch in a.text for ch in "çğıöşü") for a in alone)  # Turkish characters come back whole
    assert alone[-2].text == "🪿🪿" and alone[-2].completion_tokens == 8  # 6 allowed; 8 to finish the character
    for r, a, b in zip(requests, alone, together, strict=True):
        assert (b.text, b.finish_reason, b.completion_tokens, b.prompt_tokens) == \
            (a.text, a.finish_reason, a.completion_tokens, a.prompt_tokens), r.prompt


def test_a_stop_string_cuts_the_answer_where_one_at_a_time_does() -> None:
    base = Request(prompt=f"{PREFIX_B}apple:", prefix=PREFIX_B, params=Params(max_tokens=10))

    async def go() -> tuple[Response, Response, Response]:
        p = _provider()
        full = await p.generate("m", base)
        stop = full.text.strip()[2:4]  # a piece from the middle of the free answer
        cut = Request(prompt=base.prompt, prefix=base.prefix, params=Params(max_tokens=10, stop=("@@", stop)))
        return full, await p._run(p._generate_sync, "m", cut), await p.generate("m", cut)

    full, alone, together = asyncio.run(go())
    assert full.finish_reason == "length" and len(full.text.strip()) >= 4
    assert together.finish_reason == "stop" and len(together.text) < len(full.text)
    assert full.text.startswith(together.text)
    assert (together.text, together.finish_reason) == (alone.text, alone.finish_reason)


def test_cases_that_do_not_fit_together_wait_and_too_long_ones_fail_clearly() -> None:
    # 512 cells: the 64-token prefix, then per case ~65 tokens of its own and room for 100 more: two fit, not three
    prefix = "Review: a slow, dull and far too long film with nothing to say.\nSentiment: negative\n" * 3
    requests = [Request(prompt=f"{prefix}Review: {'a moving story ' * (18 + i)}\nSentiment:", prefix=prefix,
                        params=Params(max_tokens=100, stop=("\n",))) for i in range(6)]
    too_long = Request(prompt="word " * 600, params=Params(max_tokens=4))

    async def go() -> tuple[list[Response], list[Response], BaseException | Response, dict[str, int]]:
        p = _provider(n_ctx=512)
        alone = await _one_at_a_time(p, requests)
        together = await _together(p, requests)
        (failed,) = await asyncio.gather(p.generate("m", too_long), return_exceptions=True)
        assert p.model.batcher is not None
        return alone, together, failed, p.model.batcher.stats

    alone, together, failed, stats = asyncio.run(go())
    assert [b.text for b in together] == [a.text for a in alone]
    assert isinstance(failed, BadRequestError) and "512-token context" in str(failed)
    assert (stats["answered"], stats["handed_back"]) == (6, 1)
    assert stats["widest"] == 2  # never more at once than the cache holds


def test_an_abandoned_request_leaves_the_others_and_the_cache_intact() -> None:
    requests = _sst2_requests(10)
    labels = [" positive", " negative"]

    async def go() -> tuple[dict[str, float], list[Any], dict[str, float], int]:
        p = _provider()
        r0 = requests[0]
        before = await p.label_logprobs("m", r0.prompt or "", labels, prefix=r0.prefix)
        tasks = [asyncio.create_task(p.generate("m", r)) for r in requests]
        await asyncio.sleep(0)
        tasks[7].cancel()  # still waiting for a free sequence: it is dropped, never computed
        results = await asyncio.gather(*tasks, return_exceptions=True)
        after = await p.label_logprobs("m", r0.prompt or "", labels, prefix=r0.prefix)
        cells = await p._run(lambda: p.model.llm().n_tokens)
        return before, results, after, cells

    before, results, after, cells = asyncio.run(go())
    assert isinstance(results[7], asyncio.CancelledError)
    assert all(isinstance(r, Response) and r.text.strip() for i, r in enumerate(results) if i != 7)
    assert after == pytest.approx(before, abs=1e-3)  # sequence 0 still holds exactly the prefix, nothing else
    assert cells > 0


def test_an_answer_given_up_on_in_flight_stops_before_the_next_pass() -> None:
    """An interrupted run cancels its requests: one already generating must not run on to its max_tokens (minutes
    on a long answer) while the worker thread, and so the process's exit, waits for it."""
    long = Request(prompt="Once upon a time", params=Params(max_tokens=1500))
    short = Request(prompt=LISTS_A[0], params=Params(max_tokens=3))

    async def go() -> tuple[dict[str, int], Response, bool]:
        p = _provider(parallel=3, n_ctx=2048)  # a model of its own: the stats below are this test's alone
        batcher = p.model.batcher
        assert batcher is not None
        task = asyncio.create_task(p.generate("m", long))
        while batcher.stats["widest"] == 0:  # until it is in flight
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a few tokens into its answer
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        answer = await p.generate("m", short)  # the model still answers others
        for _ in range(100):  # and soon has nothing left to do
            if not batcher._running:
                break
            await asyncio.sleep(0.05)
        return batcher.stats, answer, batcher._running

    stats, answer, running = asyncio.run(go())
    assert stats["dropped"] == 1 and stats["answered"] == 1  # dropped in flight, never finished
    assert answer.text.strip() and answer.finish_reason == "length"
    assert not running


def test_one_at_a_time_when_asked() -> None:
    p = _provider(parallel=1)
    assert p.model.batcher is None
    r = asyncio.run(p.generate("m", _sst2_requests(1)[0]))
    assert r.text in (" positive", " negative") and r.finish_reason == "stop"


def test_a_model_that_fails_to_load_fails_its_requests(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    p = LocalProvider(str(bad))

    async def go() -> list[Any]:
        requests = [Request(prompt=f"x {i}", params=Params(max_tokens=2)) for i in range(3)]
        return list(await asyncio.wait_for(asyncio.gather(*(p.generate("m", r) for r in requests),
                                                          return_exceptions=True), 60))

    results = asyncio.run(go())
    assert all(isinstance(r, UsageError) and "could not be loaded" in str(r) for r in results), results


def test_a_model_file_llama_cpp_cannot_load_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cut = tmp_path / "cut short.gguf"  # a real model's first megabyte: a download that stopped
    with open(bundled_model_path(), "rb") as f:
        cut.write_bytes(f.read(1 << 20))
    text = tmp_path / "notes.gguf"
    text.write_text("not a model", encoding="utf-8")
    db = tmp_path / "runs.db"
    for path, why in ((cut, "a download cut short"), (text, "not a GGUF file")):
        res = run_cli("run", "sst2", "-m", f"local:{path}", "--limit", "2", "--db", str(db), "--no-progress")
        assert res.returncode == 2, res.stderr
        assert res.stderr.startswith(f"error: local model {path} could not be loaded: "), res.stderr
        assert why in res.stderr and "Traceback" not in res.stderr and len(res.stderr.splitlines()) == 1
        assert res.stdout == ""
    import sqlite3

    with sqlite3.connect(db) as conn:  # the model fails before the run is recorded: nothing half-written
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)
    named = run_cli("run", "sst2", "-m", "llama 3", "--limit", "2", "--db", str(db), "--no-progress")
    assert named.returncode == 2 and named.stderr.startswith("error: -m 'llama 3': model name 'llama 3' is empty or "
                                                             "has spaces"), named.stderr
    assert len(named.stderr.splitlines()) == 1


# --- mode both: one prompt pass; forward passes filled by tokens --------------------------------------------------

LONG_REVIEWS = Path(__file__).resolve().parents[1] / "bench" / "data" / "long_reviews.tsv"


def _long_requests(n: int) -> list[Request]:
    """IMDB-length reviews (~200 tokens, written for this project), no shared prefix."""
    rows = [line.split("\t")[0] for line in LONG_REVIEWS.read_text(encoding="utf-8").splitlines()[1 : n + 1]]
    return [Request(prompt=f"Classify the sentiment of the film review.\n\nReview: {text}\nSentiment:",
                    params=Params(max_tokens=4, stop=("\n",))) for text in rows]


def _prompt_tokens(p: LocalProvider, requests: list[Request]) -> int:
    """Tokens each prompt adds after its shared prefix: what reading every prompt once costs."""
    llm = p.model.llm()

    def tokens(text: str) -> list[int]:
        return list(llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def after_prefix(r: Request) -> int:
        prompt, head = tokens(r.prompt or ""), tokens(_head(r) or "") if r.prefix else []
        shared = 0  # the head's last token may merge with what follows it ("Review: " + "a" -> "Review:" " a")
        while shared < min(len(prompt), len(head)) and prompt[shared] == head[shared]:
            shared += 1
        return len(prompt) - shared

    return sum(after_prefix(r) for r in requests)


def test_both_modes_read_each_prompt_once_from_the_same_logits() -> None:
    requests = _sst2_requests(16)
    labels = [" positive", " negative"]

    async def go() -> tuple[list[Response], list[dict[str, float]], list[Any], int, dict[str, int]]:
        p = _provider()
        assert p.model.batcher is not None
        answers = await _together(p, requests)  # each mode alone, batched
        scores = await asyncio.gather(*(p.label_logprobs("m", r.prompt or "", labels, prefix=r.prefix)
                                        for r in requests))
        read, joined = p.model.throughput.prompt_tokens, p.model.batcher.stats["joined"]
        both = await asyncio.gather(*(x for r in requests for x in (
            p.generate("m", r), p.label_logprobs("m", r.prompt or "", labels, prefix=r.prefix))))
        read = p.model.throughput.prompt_tokens - read
        once = await p._run(_prompt_tokens, p, requests)
        return answers, list(scores), list(both), read - once, {"joined": p.model.batcher.stats["joined"] - joined}

    answers, scores, both, extra_read, stats = asyncio.run(go())
    assert stats["joined"] == len(requests) and extra_read == 0  # every prompt read once for both modes
    for i, (answer, score) in enumerate(zip(answers, scores, strict=True)):
        fused_answer, fused_scores = both[2 * i], both[2 * i + 1]
        assert fused_scores.keys() == score.keys()
        assert fused_scores == pytest.approx(score, abs=0.3)
        if fused_answer.text != answer.text:
            assert abs(score[" positive"] - score[" negative"]) < NEAR_TIE
        if fused_answer.text in labels:  # the answer's first token is the argmax of the logits the scores read
            assert max(fused_scores, key=fused_scores.__getitem__) == fused_answer.text
        assert (fused_answer.finish_reason, fused_answer.completion_tokens) == (answer.finish_reason, 1)


def test_both_modes_with_long_answers_and_multi_token_labels() -> None:
    """The labels' later tokens are read first, then dropped; the answer continues from the same prompt."""
    requests = [r for r in _mixed_requests() if "𝔘" not in (r.prompt or "")]
    turkish = ["olumlu", " olumsuz", " nötr bir yorum"]

    async def go() -> tuple[list[Response], list[dict[str, float]], list[Any], dict[str, int]]:
        p = _provider()
        alone = await _one_at_a_time(p, requests)
        scores = [await p._run(p._label_logprobs_sync, r.prompt, turkish, _head(r)) for r in requests]
        assert p.model.batcher is not None
        joined = p.model.batcher.stats["joined"]
        both = await asyncio.gather(*(x for r in requests for x in (
            p.label_logprobs("m", r.prompt or "", turkish, prefix=r.prefix), p.generate("m", r))))
        return alone, scores, list(both), {"joined": p.model.batcher.stats["joined"] - joined}

    alone, scores, both, stats = asyncio.run(go())
    assert stats["joined"] == len(requests)
    for a, s, i in zip(alone, scores, range(0, len(both), 2), strict=True):
        fused_scores, fused = both[i], both[i + 1]
        assert (fused.text, fused.finish_reason, fused.completion_tokens) == (a.text, a.finish_reason,
                                                                             a.completion_tokens)
        assert fused_scores == pytest.approx(s, abs=1.0) and min(fused_scores.values()) < -20


def test_forward_passes_fill_a_token_budget_with_many_cases_and_pieces_of_long_prompts() -> None:
    short, long = _sst2_requests(24), _long_requests(6)

    async def go() -> tuple[list[Response], list[Response], dict[str, int], int]:
        p = _provider(batch_tokens=64)  # small, so the long prompts are read in pieces over several passes
        alone = await _one_at_a_time(p, short + long)
        assert p.model.batcher is not None
        read = p.model.throughput.prompt_tokens
        together = await _together(p, short) + await _together(p, long)
        return alone, together, dict(p.model.batcher.stats), p.model.throughput.prompt_tokens - read

    alone, together, stats, read = asyncio.run(go())
    assert stats["most_tokens"] == 64 and stats["widest"] > 4  # full passes, more cases than the old fixed 4
    assert stats["handed_back"] == 0
    same = sum(a.text == b.text for a, b in zip(alone, together, strict=True))
    assert same >= len(alone) - 2
    assert [b.text for b in together[-6:]] == [a.text for a in alone[-6:]]  # long prompts, read in pieces
    assert all(b.prompt_tokens == a.prompt_tokens > 150 for a, b in zip(alone[-6:], together[-6:], strict=True))


BOTH_SUITE = """
name: both
tasks:
  - id: reviews
    type: classify
    mode: both
    labels: {positive: [pos], negative: [neg]}
    few_shot:
      - {text: "A warm, funny and beautifully acted film.", label: positive}
      - {text: "Two hours of tedium with characters you never care about.", label: negative}
    few_shot_template: "Review: {text}\\nSentiment: {label}\\n\\n"
    template: "Review: {text}\\nSentiment:"
    params: {temperature: 0.0, max_tokens: 4, stop: ["\\n"]}
    cases:
"""


def test_a_run_in_mode_both_reads_each_prompt_once_and_reports_what_the_model_cost(tmp_path: Path) -> None:
    """Through the command line: `mode: both` costs llama.cpp the prompt tokens of generate mode alone, and the
    run stores the model's load time, memory and token rates, which `show` and both reports print."""
    from tests.conftest import run_cli

    from llamacompare.store import Store

    rows = [line.split("\t") for line in LONG_REVIEWS.read_text(encoding="utf-8").splitlines()[1:13]]
    cases = "".join(f'      - {{id: c{i}, text: "{t[:300]}", label: {lab}}}\n' for i, (t, lab) in enumerate(rows))
    suite = tmp_path / "both.yaml"
    suite.write_text(BOTH_SUITE + cases, encoding="utf-8")
    usage = {}
    for mode in ("both", "generate"):
        db = tmp_path / f"{mode}.db"  # a database each: nothing comes from the cache
        res = run_cli("run", str(suite), "-m", "local:gemma-3-270m", "--mode", mode, "--db", str(db), "--no-progress")
        assert res.returncode == 0, res.stderr
        with Store(db) as store:
            run_id = store.list_runs(1)[0].run.id
            (usage[mode],) = store.model_usage(run_id).values()
    both, generate = usage["both"], usage["generate"]
    assert both.prompt_tokens == generate.prompt_tokens > 12 * 60  # not twice: one prompt pass for both modes
    assert both.generated_tokens == generate.generated_tokens >= 12
    assert both.load_s and both.load_s > 0 and both.memory_bytes and both.memory_bytes > 100e6
    assert both.peak_rss_bytes and both.peak_rss_bytes > both.memory_bytes
    assert both.prompt_s > 0 and both.generation_s > 0

    db = str(tmp_path / "both.db")
    shown = run_cli("show", "--db", db)
    assert shown.returncode == 0, shown.stderr
    assert "local models on this machine" in shown.stdout
    assert f"({both.prompt_tokens:,})" in shown.stdout and " MB (peak " in shown.stdout
    for fmt, name in (("markdown", "r.md"), ("html", "r.html")):
        out = tmp_path / name
        res = run_cli("report", "--db", db, "--format", fmt, "-o", str(out))
        assert res.returncode == 0, res.stderr
        text = out.read_text(encoding="utf-8")
        assert "Local models on this machine" in text and "tok/s" in text and f"({both.prompt_tokens:,})" in text


def test_the_fast_tokenizer_gives_llama_cpp_pythons_tokens() -> None:
    from llamacompare.models.local_batch import tokenize

    llm = _provider().model.llm()
    texts = ["", "a", " ", "Yorum: Çok güzel bir film, ağladım 🪿🪿\nDuygu:", "<start_of_turn>user\nhi<end_of_turn>\n",
             "x" * 3000, "\u0301\u0301", "ğ" * 50]
    for text in texts:
        for add_bos, special in ((True, True), (False, False), (True, False)):
            expected = llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)
            assert tokenize(llm, text.encode("utf-8"), add_bos, special) == expected, (text[:20], add_bos, special)
