"""Several prompts at once on one llama.cpp context (continuous batching): greedy answers and label scores.

Why: on a small model one decode step of a single token costs about as much as ten prompt tokens (every step reads
the whole output projection, 262k rows on Gemma 3, from memory), and a one-word answer is a label then the stop:
one such step per case. Answering several cases in the same forward passes shares that read, and llama.cpp reads
several short prompts faster in one batch than one by one. Every step carries the next token of each answer in
progress, the label tokens of each case being scored and the prompt of each case starting, each case in its own
sequence of a unified KV cache; the few-shot prefix is evaluated once, in sequence 0, and shared by reference
(`seq_cp` tags its cells, it copies nothing).

Answers are greedy (temperature 0): the argmax at every step, as when cases go one at a time, up to llama.cpp's
rounding, which depends on how a batch is laid out (on the bundled 4-bit model log-probabilities move by a median
0.03 nats, as much as between a warm and a cold prefix cache; an answer changes only at a near-tie). Text, stop
strings, the end-of-generation token and max_tokens are handled as llama-cpp-python's `create_completion` does.
Scores are log P(label | prompt) summed over the label's tokens. Anything this cannot take (a prompt that does not
fit beside the others, a full KV cache) is handed back, unanswered, to the one-at-a-time path.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class GreedyResult:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    ttft_s: float | None


@dataclass(slots=True, eq=False)
class _Job:
    prompt: str
    head: str | None  # the prompt up to the end of its shared prefix
    future: Future[Any]
    max_tokens: int = 0  # an answer: up to this many tokens, until one of `stop`
    stop: tuple[bytes, ...] = ()
    labels: list[str] | None = None  # label scores instead of an answer
    label_tokens: list[list[int]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    label_i: int = -1  # the label whose 2nd+ tokens are being read (-1: the prompt is not read yet)
    tokens: list[int] = field(default_factory=list)
    kept: int = 0  # prompt tokens shared from sequence 0
    fed: int = 0  # prompt tokens in this job's cache so far
    out: list[int] = field(default_factory=list)
    seq: int = 0
    started: float = 0.0
    first_token_at: float | None = None
    multibyte: int = 0
    claimed: bool = False  # its future is marked running (it may still go back to the queue once)

    def cells(self) -> int:
        """KV cells this job may still come to hold (its own, not the shared prefix)."""
        after = max(map(len, self.label_tokens), default=0) if self.labels is not None else self.max_tokens
        return len(self.tokens) - self.kept + after

    def next_label(self, start: int) -> int:
        """The next label from `start` that has more than one token (-2: none, the scores are complete)."""
        return next((i for i in range(start, len(self.label_tokens)) if len(self.label_tokens[i]) > 1), -2)


class Batcher:
    """Continuous batching for one model. `answer` and `score` from any thread; all llama.cpp work runs on the
    model's own worker thread (one `_drain` job at a time, queued behind whatever else that thread has to do)."""

    def __init__(self, llm: Callable[[], Any], executor: Any, slots: int,
                 sync_prefix: Callable[[Any, list[int], str | None], int]) -> None:
        self._llm = llm
        self._executor = executor
        self.slots = slots
        self._sync_prefix = sync_prefix
        self._lock = threading.Lock()
        self._pending: deque[_Job] = deque()
        self._running = False
        self._active: list[_Job] = []
        self._head: str | None = None  # the prefix sequence 0 holds for the active jobs
        self._prefix: list[int] = []  # ... as tokens
        self._batch: Any = None
        #: what happened so far: answers computed here, jobs handed back, most cases in one forward pass
        self.stats = {"answered": 0, "handed_back": 0, "widest": 0}

    def answer(self, prompt: str, head: str | None, max_tokens: int, stop: tuple[str, ...]) -> Future[Any]:
        """A greedy answer: resolves to a GreedyResult, or None where the one-at-a-time path must answer."""
        return self._submit(_Job(prompt, head, Future(), max_tokens, tuple(s.encode("utf-8") for s in stop)))

    def score(self, prompt: str, head: str | None, labels: list[str]) -> Future[Any]:
        """log P(label | prompt) per label: resolves to a dict, or None where the one-at-a-time path must."""
        return self._submit(_Job(prompt, head, Future(), labels=list(labels)))

    def _submit(self, job: _Job) -> Future[Any]:
        with self._lock:
            self._pending.append(job)
            if not self._running:
                self._running = True
                self._executor.submit(self._drain)
        return job.future

    # --- on the worker thread -------------------------------------------------------------------------------

    def _drain(self) -> None:
        llm = None
        try:
            llm = self._llm()
            while True:
                self._admit(llm)
                if not self._active:
                    with self._lock:
                        if not self._pending:
                            self._running = False
                            return
                    continue
                self._step(llm)
        except BaseException as exc:
            with self._lock:
                jobs = self._active + list(self._pending)
                self._active, self._running = [], False
                self._pending.clear()
            for job in jobs:
                if llm is not None:
                    self._release(llm, job)
                if not job.future.done():
                    job.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise

    def _admit(self, llm: Any) -> None:
        free = sorted(set(range(1, self.slots + 1)) - {j.seq for j in self._active})
        while free:
            with self._lock:
                if not self._pending:
                    return
                job = self._pending[0]
                if self._active and job.head != self._head:
                    return  # another prefix: it waits until the current ones are done (prefixes change rarely)
                self._pending.popleft()
            if not job.claimed:
                if not job.future.set_running_or_notify_cancel():
                    continue  # given up on while it waited
                job.claimed = True
            if not job.tokens:
                job.tokens = llm.tokenize(job.prompt.encode("utf-8"), add_bos=True, special=True)
                n_ctx = llm.n_ctx()
                if job.labels is not None:
                    job.label_tokens = [llm.tokenize(lab.encode("utf-8"), add_bos=False, special=False)
                                        for lab in job.labels]
                elif job.max_tokens <= 0 or job.max_tokens + len(job.tokens) >= n_ctx:
                    job.max_tokens = n_ctx - len(job.tokens)  # as create_completion truncates it
            room = job.max_tokens > 0 if job.labels is None else bool(job.labels) and all(job.label_tokens)
            if not room or job.cells() > llm.n_ctx():
                self._hand_back(job)  # does not fit at all: the one-at-a-time path says why
                continue
            if not self._active:
                kept = self._sync_prefix(llm, job.tokens, job.head)
                if kept == 0:
                    llm._ctx.kv_cache_seq_rm(0, 0, -1)  # no shared prefix: sequence 0 holds nothing
                self._head, self._prefix = job.head, job.tokens[:kept]
            n = len(self._prefix)
            job.kept = n if n < len(job.tokens) and job.tokens[:n] == self._prefix else 0  # 1+ token of its own
            in_use = llm.n_tokens + sum(j.cells() for j in self._active)
            if self._active and in_use + job.cells() > llm.n_ctx():
                with self._lock:  # no room beside the others: it goes first once some are done
                    self._pending.appendleft(job)
                return
            job.seq = free.pop(0)
            job.fed = job.kept
            if job.kept:
                llama_cpp().llama_memory_seq_cp(llm._ctx.memory, 0, job.seq, 0, job.kept)
            job.started = time.perf_counter()
            self._active.append(job)
            self.stats["widest"] = max(self.stats["widest"], len(self._active))

    def _step(self, llm: Any) -> None:
        import numpy as np

        lc = llama_cpp()
        if self._batch is None:
            from llama_cpp._internals import LlamaBatch

            self._batch = LlamaBatch(n_tokens=llm.n_batch, embd=0, n_seq_max=1, verbose=False)
        b = self._batch.batch
        n = 0
        wants: list[tuple[_Job, int, int]] = []  # (job, first batch index with logits, how many)
        for job in self._active:  # answers in progress: one token each; labels being scored: all but their last
            if job.fed < len(job.tokens):
                continue
            if job.labels is None and job.out:
                n = _put(b, n, job.out[-1], len(job.tokens) + len(job.out) - 1, job.seq, True)
                wants.append((job, n - 1, 1))
            elif job.labels is not None and job.label_i >= 0:
                label = job.label_tokens[job.label_i]
                for j in range(len(label) - 1):
                    n = _put(b, n, label[j], len(job.tokens) + j, job.seq, True)
                wants.append((job, n - len(label) + 1, len(label) - 1))
        budget = llm.n_batch
        for job in self._active:  # prompts being read: as much as the batch has room for
            if job.fed < len(job.tokens) and n < budget:
                take = min(len(job.tokens) - job.fed, budget - n)
                for i in range(job.fed, job.fed + take):
                    n = _put(b, n, job.tokens[i], i, job.seq, i == len(job.tokens) - 1)
                job.fed += take
                if job.fed == len(job.tokens):
                    wants.append((job, n - 1, 1))
        b.n_tokens = n
        rc = lc.llama_decode(llm._ctx.ctx, b)
        if rc == 1:  # no room in the KV cache for this batch: answer these one at a time instead
            for job in self._active:
                self._release(llm, job)
                self._hand_back(job)
            self._active = []
            return
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        n_vocab = llm.n_vocab()
        now = time.perf_counter()
        for job, i, count in wants:
            if job.labels is not None:
                self._read_scores(llm, job, [lc.llama_get_logits_ith(llm._ctx.ctx, i + j) for j in range(count)])
                continue
            logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(llm._ctx.ctx, i), shape=(n_vocab,))
            self._advance(llm, job, int(logits.argmax()), now)

    def _read_scores(self, llm: Any, job: _Job, logits: list[Any]) -> None:
        """After the prompt: every label's first token. After a label's own tokens: the rest of that label."""
        n_vocab = llm.n_vocab()
        if job.label_i < 0:
            first = log_softmax(logits[0], n_vocab)
            job.scores = [float(first[t[0]]) for t in job.label_tokens]
            job.label_i = job.next_label(0)
        else:
            label = job.label_tokens[job.label_i]
            for j, ptr in enumerate(logits):
                job.scores[job.label_i] += float(log_softmax(ptr, n_vocab)[label[j + 1]])
            llm._ctx.kv_cache_seq_rm(job.seq, len(job.tokens), -1)  # drop the label, keep the prompt
            job.label_i = job.next_label(job.label_i + 1)
        if job.label_i == -2:
            self._finish(llm, job, dict(zip(job.labels or [], job.scores, strict=True)))

    def _advance(self, llm: Any, job: _Job, token: int, now: float) -> None:
        """Take one greedy token, as create_completion does: end of generation, stop strings (the first listed
        that occurs; not while a UTF-8 character is incomplete), max_tokens."""
        if job.first_token_at is None:
            job.first_token_at = now
        text: bytes | None = None
        finish = None
        if is_eog(llm, token):
            text, finish = llm.detokenize(job.out), "stop"
        else:
            job.out.append(token)
            all_text = llm.detokenize(job.out)
            for k, char in enumerate(all_text[-3:]):
                k = 3 - k
                for num, pattern in ((2, 192), (3, 224), (4, 240)):
                    if num > k and pattern & char == pattern:
                        job.multibyte = num - k
            if job.multibyte > 0:  # no checks until the character is whole (create_completion's rule too)
                job.multibyte -= 1
                return
            for s in job.stop:
                if s in all_text:
                    text, finish = all_text[: all_text.index(s)], "stop"
                    break
            if finish is None and len(job.out) >= job.max_tokens:
                text, finish = all_text, "length"
        if finish is None:
            return
        assert text is not None
        decoded = text.decode("utf-8", errors="ignore")
        self._finish(llm, job, GreedyResult(
            text=decoded, finish_reason=finish, prompt_tokens=len(job.tokens),
            completion_tokens=count_tokens(llm, decoded), latency_s=now - job.started,
            ttft_s=(job.first_token_at - job.started) if decoded else None,
        ))

    def _finish(self, llm: Any, job: _Job, result: Any) -> None:
        self._release(llm, job)
        self._active.remove(job)
        self.stats["answered"] += 1
        job.future.set_result(result)

    def _hand_back(self, job: _Job) -> None:
        self.stats["handed_back"] += 1
        job.future.set_result(None)

    def _release(self, llm: Any, job: _Job) -> None:
        if job.seq:
            llm._ctx.kv_cache_seq_rm(job.seq, -1, -1)
            job.seq = 0


def _put(b: Any, n: int, token: int, pos: int, seq: int, logits: bool) -> int:
    b.token[n] = token
    b.pos[n] = pos
    b.n_seq_id[n] = 1
    b.seq_id[n][0] = seq
    b.logits[n] = logits
    return n + 1


def log_softmax(logits_ptr: Any, n_vocab: int) -> Any:
    """Log-probabilities from one row of llama.cpp's logits (float64: the sums over 262k entries need it)."""
    import numpy as np

    logits = np.ctypeslib.as_array(logits_ptr, shape=(n_vocab,)).astype(np.float64)
    m = logits.max()
    return logits - (m + math.log(np.exp(logits - m).sum()))


def count_tokens(llm: Any, text: str) -> int:
    """Tokens in an answer, counted by tokenizing its text (a stop string is not part of it)."""
    return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)) if text else 0


def is_eog(llm: Any, token: int) -> bool:
    return bool(llama_cpp().llama_vocab_is_eog(llm._model.vocab, token))


def llama_cpp() -> Any:
    import llama_cpp as lc

    return lc
