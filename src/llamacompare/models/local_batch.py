"""Many prompts at once on one llama.cpp context (continuous batching): greedy answers and label scores.

Why: llama.cpp reads a prompt fastest in batches of a few hundred tokens (on the bundled model ~30 tokens at a
time run at ~550 tokens/s, 256 at a time at ~690), and a decode step of a single token costs about as much as ten
prompt tokens (every step reads the whole output projection, 262k rows on Gemma 3, from memory). So every forward
pass is filled up to a token budget: the next token of each answer in progress, the label tokens of each case
being scored, then as many prompts (or pieces of long prompts) as fit. Each case has its own sequence in a unified
KV cache; the few-shot prefix is evaluated once, in sequence 0, and shared by reference (`seq_cp` tags its cells,
it copies nothing).

An answer and label scores asked for the same prompt at the same time (a task's `mode: both`) are one job: the
prompt is read once, the label scores and the answer's first token come from the same logits, then the labels'
later tokens and the answer's later tokens continue from the same cached prompt.

Answers are greedy (temperature 0): the argmax at every step (held to a response format: the likeliest token its
grammar allows, `models/grammar.py`), as when cases go one at a time, up to llama.cpp's
rounding, which depends on how a batch is laid out (on the bundled 4-bit model, with flash attention, a label's
log-probability moves by a median 0.02 nats and at most ~0.3; an answer changes only at a near-tie). Text, stop
strings, the end-of-generation token and max_tokens are handled as llama-cpp-python's `create_completion` does.
Scores are log P(label | prompt) summed over the label's tokens. Anything this cannot take (a prompt that does not
fit beside the others, a full KV cache) is handed back, unanswered, to the one-at-a-time path.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from llamacompare.models.grammar import Constrained, Held, Vocabulary

#: one forward pass at a time in this process. Each pass uses every core (n_threads = cpu_count), and llama.cpp's
#: threads spin while they wait for each other: two local models computing side by side (a run comparing them)
#: oversubscribe the cores and slowed each several-fold (the default run's two bundled models: 4x the time of one).
#: Passes of different models take turns instead; one model's passes are serial on its worker thread anyway.
COMPUTE = threading.RLock()


@dataclass(slots=True)
class GreedyResult:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    ttft_s: float | None


@dataclass(slots=True)
class Throughput:
    """Tokens llama.cpp computed for a model and the time it took. A forward pass that mixes prompt tokens and
    generated tokens charges each token an equal share of its time (they cost about the same inside one pass)."""

    prompt_tokens: int = 0
    prompt_s: float = 0.0
    generated_tokens: int = 0
    generation_s: float = 0.0

    def add(self, prompt_tokens: int, generated_tokens: int, seconds: float) -> None:
        total = prompt_tokens + generated_tokens
        if total:
            self.prompt_tokens += prompt_tokens
            self.generated_tokens += generated_tokens
            self.prompt_s += seconds * prompt_tokens / total
            self.generation_s += seconds * generated_tokens / total

    def copy(self) -> Throughput:
        return Throughput(self.prompt_tokens, self.prompt_s, self.generated_tokens, self.generation_s)


@dataclass(slots=True, eq=False)
class _Job:
    """One prompt and what is asked of it: a greedy answer (`answer`), label scores (`score`), or both."""

    prompt: str
    head: str | None  # the prompt up to the end of its shared prefix
    answer: Future[Any] | None = None  # resolves to a GreedyResult (None: answer it one at a time)
    max_tokens: int = 0  # the answer: up to this many tokens, until one of `stop`
    stop: tuple[bytes, ...] = ()
    fmt: Held | None = None  # the answer is held to this format's grammar (`grammar`, once admitted)
    grammar: Constrained | None = None
    score: Future[Any] | None = None  # resolves to {label: log-prob}
    labels: list[str] | None = None
    label_tokens: list[list[int]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    label_i: int = -1  # the label whose 2nd+ tokens are being read (-1: the prompt is not read yet; -2: done)
    tokens: list[int] = field(default_factory=list)
    kept: int = 0  # prompt tokens shared from sequence 0
    fed: int = 0  # prompt tokens in this job's cache so far
    out: list[int] = field(default_factory=list)
    seq: int = 0
    started: float = 0.0
    first_token_at: float | None = None
    multibyte: int = 0
    ready: bool = False  # may be admitted (a request's partner for the same prompt had its chance to join)

    def parts(self) -> list[Future[Any]]:
        return [f for f in (self.answer, self.score) if f is not None]

    def joins(self, other: _Job) -> bool:
        """`other` asks for what this job does not, about the same prompt: one job can do both."""
        return (other.prompt == self.prompt and other.head == self.head
                and (self.answer is None) != (other.answer is None) and (self.score is None) != (other.score is None))

    def join(self, other: _Job) -> None:
        if other.answer is not None:
            self.answer, self.max_tokens, self.stop, self.fmt = other.answer, other.max_tokens, other.stop, other.fmt
        else:
            self.score, self.labels, self.label_tokens = other.score, other.labels, []

    def cells(self) -> int:
        """KV cells this job may still come to hold (its own, not the shared prefix): the labels' tokens are
        dropped before the answer continues, so the larger of the two."""
        labels = max(map(len, self.label_tokens), default=0) if self.score is not None else 0
        answer = self.max_tokens if self.answer is not None else 0
        return len(self.tokens) - self.kept + max(labels, answer)

    def work(self) -> int:
        """Tokens this job puts in the next forward pass."""
        if self.fed < len(self.tokens):
            return len(self.tokens) - self.fed
        if self.score is not None and self.label_i >= 0:
            return len(self.label_tokens[self.label_i]) - 1
        return 1 if self.answer is not None and self.out else 0

    def end_grammar(self) -> None:
        if self.grammar is not None:
            self.grammar.close()
            self.grammar = None

    def next_label(self, start: int) -> int:
        """The next label from `start` that has more than one token (-2: none, the scores are complete)."""
        return next((i for i in range(start, len(self.label_tokens)) if len(self.label_tokens[i]) > 1), -2)


class Batcher:
    """Continuous batching for one model. `answer` and `score` from any thread; all llama.cpp work runs on the
    model's own worker thread (one `_drain` job at a time, queued behind whatever else that thread has to do).

    `slots` bounds the cases in flight (one sequence each), `budget` the tokens in one forward pass."""

    def __init__(self, llm: Callable[[], Any], executor: Any, slots: int,
                 sync_prefix: Callable[[Any, list[int], str | None], int], budget: int = 256,
                 throughput: Throughput | None = None) -> None:
        self._llm = llm
        self._executor = executor
        self.slots = slots
        self.budget = budget
        self._sync_prefix = sync_prefix
        self._lock = threading.Lock()
        self._pending: deque[_Job] = deque()
        self._waiting: dict[tuple[str, str | None], _Job] = {}  # pending jobs by prompt: a partner joins them
        self._flush_due = False
        self._running = False
        self._active: list[_Job] = []
        self._head: str | None = None  # the prefix sequence 0 holds for the active jobs
        self._prefix: list[int] = []  # ... as tokens
        self._batch: Any = None
        self._dropped: set[Future[Any]] = set()  # requests given up on while in flight (see `drop`)
        self._labels: dict[str, list[int]] = {}  # label tokens (a task asks for the same labels case after case)
        self._vocab: Vocabulary | None = None  # for answers held to a grammar (`_choose`)
        self.throughput = throughput if throughput is not None else Throughput()
        #: what happened so far: requests answered here and handed back, requests that joined another for the same
        #: prompt, the most cases in flight at once and the most tokens in one forward pass
        self.stats = {"answered": 0, "handed_back": 0, "joined": 0, "widest": 0, "most_tokens": 0, "dropped": 0}

    def answer(self, prompt: str, head: str | None, max_tokens: int, stop: tuple[str, ...],
               fmt: Held | None = None) -> Future[Any]:
        """A greedy answer (held to `fmt`'s grammar where given): resolves to a GreedyResult, or None where the
        one-at-a-time path must answer."""
        job = _Job(prompt, head, answer=Future(), max_tokens=max_tokens, stop=tuple(s.encode("utf-8") for s in stop),
                   fmt=fmt)
        return self._submit(job)

    def score(self, prompt: str, head: str | None, labels: list[str]) -> Future[Any]:
        """log P(label | prompt) per label: resolves to a dict, or None where the one-at-a-time path must."""
        return self._submit(_Job(prompt, head, score=Future(), labels=list(labels)))

    def drop(self, future: Future[Any]) -> None:
        """The caller gave up on this request (its run was cancelled or interrupted). A queued one is dropped when
        it comes up; one in flight is dropped before the next forward pass, its KV cells freed, rather than
        generated to its end: an interrupted run stops within one pass."""
        if not future.cancel():  # already running (or done): the worker thread drops it
            with self._lock:
                self._dropped.add(future)

    def _submit(self, job: _Job) -> Future[Any]:
        """Queue a job, or join it to a queued one for the same prompt. Requests made in one turn of an event
        loop (the runner sends a case's answer and label-score requests together) become admissible together at
        the end of that turn, so the second always finds the first still waiting."""
        (future,) = job.parts()
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            key = (job.prompt, job.head)
            waiting = self._waiting.get(key)
            if waiting is not None and waiting.joins(job):
                waiting.join(job)
                self.stats["joined"] += 1
                return future
            self._waiting[key] = job
            self._pending.append(job)
            if loop is None:
                job.ready = True
                self._start()
            elif not self._flush_due:
                self._flush_due = True
                loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        with self._lock:
            self._flush_due = False
            for job in self._pending:
                job.ready = True
            self._start()

    def _start(self) -> None:  # with the lock held
        if not self._running:
            self._running = True
            self._executor.submit(self._drain)

    # --- on the worker thread -------------------------------------------------------------------------------

    def _drain(self) -> None:
        llm = None
        try:
            llm = self._llm()
            while True:
                self._admit(llm)
                if self._dropped:
                    self._drop_given_up(llm)
                if not self._active:
                    with self._lock:
                        if not (self._pending and self._pending[0].ready):
                            self._running = False
                            return
                    continue
                self._step(llm)
        except BaseException as exc:
            with self._lock:
                jobs = self._active + list(self._pending)
                self._active, self._running = [], False
                self._pending.clear()
                self._waiting.clear()
            for job in jobs:
                if llm is not None:
                    self._release(llm, job)
                for f in job.parts():
                    if not f.done():
                        f.set_exception(exc)
            if not isinstance(exc, Exception):
                raise

    def _drop_given_up(self, llm: Any) -> None:
        with self._lock:
            dropped, self._dropped = self._dropped, set()
        for job in list(self._active):
            for f in job.parts():
                if f in dropped:
                    if f is job.answer:
                        job.answer = None
                    else:
                        job.score = None
                    self.stats["dropped"] += 1
                    f.set_exception(asyncio.CancelledError())
            if not job.parts():
                self._release(llm, job)
                self._active.remove(job)

    def _take(self) -> _Job | None:
        """The next admissible job, off the queue (with the lock held)."""
        if not self._pending or not self._pending[0].ready:
            return None
        job = self._pending[0]
        if self._active and job.head != self._head:
            return None  # another prefix: it waits until the current ones are done (prefixes change rarely)
        self._pending.popleft()
        if self._waiting.get((job.prompt, job.head)) is job:
            del self._waiting[(job.prompt, job.head)]
        return job

    def _admit(self, llm: Any) -> None:
        """Start jobs while the next forward pass has room (tokens, sequences, KV cells)."""
        free = sorted(set(range(1, self.slots + 1)) - {j.seq for j in self._active})
        work = sum(j.work() for j in self._active)
        n_ctx = llm.n_ctx()
        while free and work < self.budget:
            with self._lock:
                job = self._take()
            if job is None:
                return
            for f in job.parts():  # a request given up on while it waited is dropped
                if not f.running() and not f.set_running_or_notify_cancel():
                    if f is job.answer:
                        job.answer = None
                    else:
                        job.score = None
            if not job.parts():
                continue
            if not job.tokens:
                job.tokens = tokenize(llm, job.prompt.encode("utf-8"), add_bos=True, special=True)
            if job.score is not None and not job.label_tokens:
                job.label_tokens = [self._label(llm, lab) for lab in job.labels or []]
            if job.answer is not None and (job.max_tokens <= 0 or job.max_tokens + len(job.tokens) >= n_ctx):
                job.max_tokens = n_ctx - len(job.tokens)  # as create_completion truncates it
            fits = job.answer is None or job.max_tokens > 0
            fits &= job.score is None or (bool(job.label_tokens) and all(job.label_tokens)
                                          and max(map(len, job.label_tokens)) <= self._room(llm))
            if not fits or job.cells() > n_ctx:
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
            if self._active and in_use + job.cells() > n_ctx:
                with self._lock:  # no room beside the others: it goes first once some are done
                    self._pending.appendleft(job)
                    self._waiting.setdefault((job.prompt, job.head), job)
                return
            job.seq = free.pop(0)
            job.fed = job.kept
            if job.answer is not None and job.fmt is not None:
                job.grammar = Constrained(llm, job.fmt)
            if job.kept:
                llama_cpp().llama_memory_seq_cp(llm._ctx.memory, 0, job.seq, 0, job.kept)
            job.started = time.perf_counter()
            self._active.append(job)
            work += job.work()
            self.stats["widest"] = max(self.stats["widest"], len(self._active))

    def _label(self, llm: Any, label: str) -> list[int]:
        tokens = self._labels.get(label)
        if tokens is None:
            if len(self._labels) > 1024:
                self._labels.clear()
            tokens = self._labels[label] = tokenize(llm, label.encode("utf-8"), add_bos=False, special=False)
        return tokens

    def _room(self, llm: Any) -> int:
        """Tokens one forward pass carries."""
        return min(self.budget, llm.n_batch)

    def _step(self, llm: Any) -> None:
        import numpy as np  # numpy: only where numbers are computed, not at start-up

        lc = llama_cpp()
        if self._batch is None:
            from llama_cpp._internals import LlamaBatch  # llama.cpp loads in about 0.3 s: only where a local model runs

            self._batch = LlamaBatch(n_tokens=llm.n_batch, embd=0, n_seq_max=1, verbose=False)
        b = self._batch.batch
        room = self._room(llm)
        n = 0
        generated = 0
        wants: list[tuple[_Job, int, int]] = []  # (job, first batch index with logits, how many)
        for job in self._active:  # labels being scored: all but their last token; answers: their last token
            if job.fed < len(job.tokens):
                continue
            if job.score is not None and job.label_i >= 0:
                label = job.label_tokens[job.label_i]
                if n + len(label) - 1 > room:
                    continue  # next time
                for j in range(len(label) - 1):
                    n = _put(b, n, label[j], len(job.tokens) + j, job.seq, True)
                wants.append((job, n - len(label) + 1, len(label) - 1))
            elif job.answer is not None and job.out and n < room:
                n = _put(b, n, job.out[-1], len(job.tokens) + len(job.out) - 1, job.seq, True)
                wants.append((job, n - 1, 1))
                generated += 1
        for job in self._active:  # prompts being read: as much as the pass has room for
            if job.fed < len(job.tokens) and n < room:
                take = min(len(job.tokens) - job.fed, room - n)
                for i in range(job.fed, job.fed + take):
                    n = _put(b, n, job.tokens[i], i, job.seq, i == len(job.tokens) - 1)
                job.fed += take
                if job.fed == len(job.tokens):
                    wants.append((job, n - 1, 1))
        b.n_tokens = n
        with COMPUTE:
            t0 = time.perf_counter()
            rc = lc.llama_decode(llm._ctx.ctx, b)
            now = time.perf_counter()
        if rc == 1:  # no room in the KV cache for this batch: answer these one at a time instead
            for job in self._active:
                self._release(llm, job)
                self._hand_back(job)
            self._active = []
            return
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        self.throughput.add(n - generated, generated, now - t0)
        self.stats["most_tokens"] = max(self.stats["most_tokens"], n)
        n_vocab = llm.n_vocab()
        for job, i, count in wants:
            if job.score is not None and job.label_i >= 0:
                self._read_label(llm, job, [lc.llama_get_logits_ith(llm._ctx.ctx, i + j) for j in range(count)])
            elif job.out or job.label_i != -1:  # the answer's next token
                logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(llm._ctx.ctx, i), shape=(n_vocab,))
                self._advance(llm, job, self._choose(llm, job, logits), now)
            else:  # the prompt's last token: label scores and the answer's first token from the same logits
                ptr = lc.llama_get_logits_ith(llm._ctx.ctx, i)
                if job.score is not None:
                    self._first_scores(llm, job, ptr)
                if job.answer is not None:
                    logits = np.ctypeslib.as_array(ptr, shape=(n_vocab,))
                    self._advance(llm, job, self._choose(llm, job, logits), now)
            if not job.parts() and job in self._active:
                self._release(llm, job)
                self._active.remove(job)

    def _first_scores(self, llm: Any, job: _Job, ptr: Any) -> None:
        job.scores = logprobs_of(ptr, llm.n_vocab(), [t[0] for t in job.label_tokens])
        job.label_i = job.next_label(0)
        if job.label_i == -2:
            self._scores_done(job)

    def _read_label(self, llm: Any, job: _Job, logits: list[Any]) -> None:
        """After a label's own tokens: the rest of that label's score; then the next label, or done."""
        n_vocab = llm.n_vocab()
        label = job.label_tokens[job.label_i]
        for j, ptr in enumerate(logits):
            job.scores[job.label_i] += logprobs_of(ptr, n_vocab, [label[j + 1]])[0]
        llm._ctx.kv_cache_seq_rm(job.seq, len(job.tokens), -1)  # drop the label, keep the prompt
        job.label_i = job.next_label(job.label_i + 1)
        if job.label_i == -2:
            self._scores_done(job)

    def _scores_done(self, job: _Job) -> None:
        future, job.score = job.score, None
        assert future is not None
        self.stats["answered"] += 1
        future.set_result(dict(zip(job.labels or [], job.scores, strict=True)))

    def _choose(self, llm: Any, job: _Job, logits: Any) -> int:
        """The greedy token: the argmax, or the likeliest one the job's grammar allows (-1: none, the answer ends)."""
        if job.grammar is None:
            return int(logits.argmax())
        if self._vocab is None:
            self._vocab = Vocabulary(llm.n_vocab())
        token = job.grammar.pick(logits, self._vocab)
        return -1 if token is None else token

    def _advance(self, llm: Any, job: _Job, token: int, now: float) -> None:
        """Take one greedy token, as create_completion does: end of generation, stop strings (the first listed
        that occurs; not while a UTF-8 character is incomplete), max_tokens."""
        if job.first_token_at is None:
            job.first_token_at = now
        text: bytes | None = None
        finish = None
        if token < 0 or is_eog(llm, token):
            text, finish = llm.detokenize(job.out), "stop"
        else:
            job.out.append(token)
            if job.grammar is not None:
                job.grammar.accept(token)
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
        job.end_grammar()
        decoded = text.decode("utf-8", errors="ignore")
        future, job.answer = job.answer, None
        assert future is not None
        self.stats["answered"] += 1
        future.set_result(GreedyResult(
            text=decoded, finish_reason=finish, prompt_tokens=len(job.tokens),
            completion_tokens=count_tokens(llm, decoded), latency_s=now - job.started,
            ttft_s=(job.first_token_at - job.started) if decoded else None,
        ))

    def _hand_back(self, job: _Job) -> None:
        job.end_grammar()
        for f in job.parts():
            self.stats["handed_back"] += 1
            f.set_result(None)
        job.answer = job.score = None

    def _release(self, llm: Any, job: _Job) -> None:
        job.end_grammar()
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


def logprobs_of(logits_ptr: Any, n_vocab: int, tokens: list[int]) -> list[float]:
    """Log-probabilities of `tokens` from one row of llama.cpp's logits. The exponentials are float32 (the row's
    own precision), their sum over 262k entries float64; the whole row is never converted (8x faster)."""
    import numpy as np  # numpy: only where numbers are computed, not at start-up

    logits = np.ctypeslib.as_array(logits_ptr, shape=(n_vocab,))
    m = float(logits.max())
    lse = m + math.log(float(np.exp(logits - m).sum(dtype=np.float64)))
    return [float(logits[t]) - lse for t in tokens]


def tokenize(llm: Any, text: bytes, add_bos: bool, special: bool) -> list[int]:
    """`llm.tokenize`, twice as fast on a few-shot prompt: llama-cpp-python allocates a buffer of the model's whole
    training context (32k tokens on Gemma 3) for every call; this one holds as many tokens as the text has bytes."""
    lc = llama_cpp()
    room = len(text) + 2  # a token is at least one byte, and BOS (or EOS) may be added
    buf = (lc.llama_token * room)()
    n = lc.llama_tokenize(llm._model.vocab, text, len(text), buf, room, add_bos, special)
    if n < 0:  # a vocabulary where that does not hold: ask again with the size llama.cpp says
        return list(llm.tokenize(text, add_bos=add_bos, special=special))
    return buf[:n]


def count_tokens(llm: Any, text: str) -> int:
    """Tokens in an answer, counted by tokenizing its text (a stop string is not part of it)."""
    return len(tokenize(llm, text.encode("utf-8"), add_bos=False, special=False)) if text else 0


def is_eog(llm: Any, token: int) -> bool:
    return bool(llama_cpp().llama_vocab_is_eog(llm._model.vocab, token))


def llama_cpp() -> Any:
    import llama_cpp as lc  # llama.cpp loads in about 0.3 s: only where a local model runs

    return lc
