"""In-process GGUF models through llama-cpp-python.

One Llama per file per process, loaded on first use; all access goes through one worker thread per model, so
calls are serialised and the event loop never blocks. Consecutive prompts that share a prefix (few-shot examples)
reuse its KV cache: the prefix stays in the cache and only the rest of each prompt is evaluated. Greedy answers and
label scores requested together are computed together (`local_batch`): each forward pass is filled with up to
`BATCH_TOKENS` tokens from up to `PARALLEL` cases, with flash attention where llama.cpp has it (`_with_context`).
A response format holds an answer to the grammar built from its schema on both paths (`models/grammar.py`); one at a
time, llama-cpp-python's sampler filters the whole vocabulary at every token (Gemma 3 has 262k: several times the
time of a free token), where the batched path checks the model's first choice first (`bench/structured_output.py`).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from llamacompare.errors import BadRequestError, UsageError
from llamacompare.models.base import ModelUsage, Prepared, Provider, Request, Response
from llamacompare.models.capabilities import Capabilities
from llamacompare.models.grammar import TOOL_CALLS, Held, gbnf, llama_grammar
from llamacompare.models.local_batch import (
    COMPUTE,
    Batcher,
    Throughput,
    count_tokens,
    llama_cpp,
    logprobs_of,
    tokenize,
)

_models: dict[tuple[str, int, int, int, int], LoadedModel] = {}
_models_lock = threading.Lock()

DEFAULT_CTX = int(os.environ.get("LLAMACOMPARE_LOCAL_CTX", "4096"))
#: cases whose greedy answers and label scores share forward passes (1: one case at a time, bit-for-bit repeatable)
PARALLEL = max(1, int(os.environ.get("LLAMACOMPARE_LOCAL_PARALLEL", "32")))
#: tokens in one forward pass: llama.cpp's prompt rate on CPU is best at a few hundred (bench/local_classification.py)
BATCH_TOKENS = max(16, int(os.environ.get("LLAMACOMPARE_LOCAL_BATCH_TOKENS", "256")))
#: llama.cpp's flash-attention setting: -1 auto (llama.cpp's default, on where the device supports it), 0 off, 1 on
FLASH_ATTN = int(os.environ.get("LLAMACOMPARE_LOCAL_FLASH_ATTN", "-1"))


class LoadedModel:
    """A Llama and the single thread allowed to touch it."""

    def __init__(self, path: str, n_ctx: int, parallel: int = PARALLEL, batch_tokens: int = BATCH_TOKENS,
                 flash_attn: int = FLASH_ATTN) -> None:
        self.path = path
        self.n_ctx = n_ctx
        self.parallel = parallel
        self.flash_attn = flash_attn
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llamacompare-local")
        self._llm: Any = None
        self._prefix_cache: dict[str, list[int]] = {}
        self.throughput = Throughput()
        self.load_s: float | None = None
        self.memory_bytes: int | None = None
        self.batcher = (Batcher(self.llm, self.executor, parallel, self.sync_prefix, batch_tokens, self.throughput)
                        if parallel > 1 else None)

    def usage(self) -> ModelUsage:
        t = self.throughput.copy()
        return ModelUsage(self.load_s, self.memory_bytes, peak_rss_bytes(), t.prompt_tokens, t.prompt_s,
                          t.generated_tokens, t.generation_s)

    @contextlib.contextmanager
    def measured(self, llm: Any) -> Iterator[None]:
        """Count what llama.cpp computes inside the block (one at a time: its own counters split prompt reading,
        batches of several tokens, from generation, one token per decode)."""
        lc = llama_cpp()
        before = lc.llama_perf_context(llm._ctx.ctx)
        try:
            with COMPUTE:  # the one-at-a-time path takes its turn with other models' passes (local_batch.COMPUTE)
                yield
        finally:
            after = lc.llama_perf_context(llm._ctx.ctx)
            self.throughput.add(after.n_p_eval - before.n_p_eval, 0, (after.t_p_eval_ms - before.t_p_eval_ms) / 1e3)
            self.throughput.add(0, after.n_eval - before.n_eval, (after.t_eval_ms - before.t_eval_ms) / 1e3)

    def llm(self) -> Any:  # only called on the worker thread
        if self._llm is None:
            from llama_cpp import Llama  # llama.cpp loads in about 0.3 s: only where a local model runs

            started, rss = time.perf_counter(), rss_bytes()
            with _quiet_stderr():  # llama.cpp prints load-time notes straight to fd 2, even when not verbose
                try:
                    self._llm = Llama(
                        self.path,
                        n_ctx=self.n_ctx,
                        n_threads=max(1, os.cpu_count() or 1),
                        swa_full=True,  # sliding-window models (Gemma 3) need it to keep a prefix and drop the rest
                        verbose=False,
                    )
                except ValueError as exc:  # llama-cpp-python says no more than "Failed to load model from file"
                    raise UsageError(_unloadable(self.path)) from exc
                _with_context(self._llm, self.parallel + 1 if self.parallel > 1 else 1, self.flash_attn)
                # The first decode pays one-time costs (buffers, weight repacking); keep them out of latencies. The
                # single-token step leaves llama.cpp's decode counter above its floor of 1 (`measured` takes deltas).
                with COMPUTE:
                    self._llm.eval(self._llm.tokenize(b"warm up", add_bos=True))
                    self._llm.eval([self._llm.token_bos()])
                self._llm.reset()
            self.load_s = time.perf_counter() - started
            self.memory_bytes = max(0, rss_bytes() - rss) if rss else None
        return self._llm

    def sync_prefix(self, llm: Any, tokens: list[int], head: str | None) -> int:
        """Leave exactly the shared prefix in the KV cache (sequence 0): reuse it when cached, else evaluate it on
        its own. Returns its length in tokens.

        The prefix is always evaluated as its own batch and the rest after it, so the numbers are the same
        whether the cache was warm or not (llama.cpp's results depend slightly on how tokens are batched).
        Without a prefix the state is reset: an ad-hoc prompt is evaluated from scratch.
        """
        n = self._prefix_tokens(llm, tokens, head) if head else 0
        if n == 0 or n >= len(tokens):
            llm.reset()
            return 0
        if llm.n_tokens >= n and list(llm.input_ids[:n]) == tokens[:n] and llm._ctx.kv_cache_seq_rm(0, n, -1):
            llm.n_tokens = n
        else:
            llm.reset()
            with COMPUTE:
                llm.eval(tokens[:n])
        llm._requires_eval = True  # the logits are the prefix's, never sample from them directly
        return n

    def _prefix_tokens(self, llm: Any, tokens: list[int], head: str) -> int:
        known = self._prefix_cache.get(head)
        if known is None:
            head_tokens = llm.tokenize(head.encode("utf-8"), add_bos=True, special=True)
            if len(self._prefix_cache) > 64:
                self._prefix_cache.clear()
            known = self._prefix_cache[head] = shared_prefix(head_tokens, tokens)
        return len(known) if tokens[: len(known)] == known else 0


def shared_prefix(head: list[int], prompt: list[int]) -> list[int]:
    """The head's tokens that the prompt's own tokenization starts with: all a KV cache can share. A token may merge
    across the boundary: a head ending in a space ("Review: ") loses its last token, which the prompt merges into the
    case's first word (" it")."""
    n = 0
    while n < min(len(head), len(prompt)) and head[n] == prompt[n]:
        n += 1
    return head[:n]


def _unloadable(path: str) -> str:
    import llama_cpp  # llama.cpp loads in about 0.3 s: only where a local model runs

    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        return f"local model {path} could not be read: {exc.strerror or exc}"
    if magic != b"GGUF":
        why = f"it is not a GGUF file (it starts with {magic!r}, not b'GGUF')"
    else:
        why = ("llama.cpp cannot read it: a download cut short, or a model architecture newer than "
               f"llama-cpp-python {llama_cpp.__version__} knows (pip install -U llama-cpp-python)")
    return f"local model {path} could not be loaded: {why}"


def _with_context(llm: Any, n_seq: int, flash_attn: int) -> None:
    """Give the Llama the context the batcher needs; llama-cpp-python's constructor can ask for neither part:
    - `n_seq` sequences in one shared (unified) KV cache (it only asks for more than one when computing embeddings;
      its own calls keep using sequence 0);
    - flash attention where llama.cpp supports it (its own `auto`; llama-cpp-python offers only on or off). On
      CPU its kernel skips the KV cells a token may not see, so cases in flight beside each other cost no attention
      for one another: without it every token attends over every cell in use, and 20 other cases in the cache
      slowed a 256-token forward pass by 16% (bench/local_classification.py measures the rate either way)."""
    from llama_cpp._internals import LlamaContext  # llama.cpp loads in about 0.3 s: only where a local model runs

    params = llm.context_params
    params.n_seq_max = n_seq
    params.kv_unified = n_seq > 1
    params.flash_attn_type = flash_attn
    ctx = LlamaContext(model=llm._model, params=params, verbose=False)
    old, llm._ctx = llm._ctx, llm._stack.enter_context(contextlib.closing(ctx))
    old.close()


def vocab_tokenizer(path: str) -> Callable[[str], int]:
    """A token counter from the GGUF file's vocabulary only (no weights loaded), counting as `count_tokens` does."""
    from llama_cpp import Llama  # llama.cpp loads in about 0.3 s: only where a local model runs

    with _quiet_stderr():
        llm = Llama(path, vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(tokenize(llm, text.encode("utf-8"), add_bos=True, special=True))

    return count


def rss_bytes() -> int:
    """This process's resident memory now (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def peak_rss_bytes() -> int | None:
    try:
        import resource  # POSIX only (see the except)
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


#: one swap of the process's stderr (and llama-cpp-python's of stdout and stderr) at a time: two models loading on
#: two worker threads (a run comparing two local models) interleaved their save/redirect/restore, and one of them
#: restored the other's /dev/null: a run's whole summary, on stdout, was lost about one time in six
_fd_swap = threading.Lock()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Nothing on fd 2 inside the block; the block holds `_fd_swap`, so every Llama(...) built in one (they swap
    fds 1 and 2 themselves when not verbose: llama_cpp._utils.suppress_stdout_stderr) is built alone."""
    with _fd_swap:
        try:
            saved = os.dup(2)
        except OSError:
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


@atexit.register
def _close_models() -> None:
    """Free llama.cpp models before interpreter teardown (its __del__ fails once module globals are gone)."""
    for model in list(_models.values()):
        if model._llm is not None:
            with contextlib.suppress(Exception):
                model._llm.close()
            model._llm = None


def get_model(path: str, n_ctx: int = DEFAULT_CTX, parallel: int = PARALLEL, batch_tokens: int = BATCH_TOKENS,
              flash_attn: int = FLASH_ATTN) -> LoadedModel:
    with _models_lock:
        key = (path, n_ctx, parallel, batch_tokens, flash_attn)
        model = _models.get(key)
        if model is None:
            if not os.path.isfile(path):
                raise UsageError(f"local model file not found: {path}")
            model = _models[key] = LoadedModel(path, n_ctx, parallel, batch_tokens, flash_attn)
        return model


class LocalProvider(Provider):
    name = "local"
    capabilities = Capabilities(
        chat=False, label_methods=("in_process",), streaming=False, context_check=True, exact_tokens=True, free=True,
        hosted=False,
    )

    def __init__(self, path: str, *, n_ctx: int = DEFAULT_CTX, parallel: int = PARALLEL,
                 batch_tokens: int = BATCH_TOKENS, flash_attn: int = FLASH_ATTN) -> None:
        self.path = path
        self.model = get_model(path, n_ctx, parallel, batch_tokens, flash_attn)

    async def prepare(self, model: str) -> Prepared:
        return Prepared(model, self.capabilities, context_length=self.model.n_ctx,
                        chat_template=await self.chat_template())

    def width(self, hosted_concurrency: int) -> int:
        return self.model.parallel

    async def _run(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.model.executor, fn, *args)

    def usage(self) -> ModelUsage | None:
        return self.model.usage()

    async def chat_template(self) -> str | None:
        return await self._run(lambda: self.model.llm().metadata.get("tokenizer.chat_template"))

    async def count_tokens(self, text: str) -> int:
        return await self._run(lambda: len(self.model.llm().tokenize(text.encode("utf-8"), add_bos=True, special=True)))

    async def generate(self, model: str, request: Request) -> Response:
        if request.prompt is None:
            raise ValueError("local models take a rendered prompt; use prompts.to_request")
        p = request.params
        batcher = self.model.batcher
        held = _held(request)
        if held is not None:
            gbnf(held)  # a schema llama.cpp's converter cannot take fails here, before any work
        if batcher is not None and p.temperature == 0:
            head = _head(request.prompt, request.prefix)
            result = await _awaited(batcher, batcher.answer(request.prompt, head, p.max_tokens, p.stop, held))
            if result is not None:
                return self._response(model, request, result.text, result.finish_reason, result.prompt_tokens,
                                      result.completion_tokens, result.latency_s, result.ttft_s)
        return await self._run(self._generate_sync, model, request)

    def _generate_sync(self, model: str, request: Request) -> Response:
        llm = self.model.llm()
        p = request.params
        assert request.prompt is not None  # a local model is always sent text (models.requests.to_request)
        prompt_tokens = tokenize(llm, request.prompt.encode("utf-8"), add_bos=True, special=True)
        if len(prompt_tokens) + 1 > llm.n_ctx():
            raise BadRequestError(
                f"prompt is {len(prompt_tokens)} tokens; {os.path.basename(self.path)} is loaded with a "
                f"{llm.n_ctx()}-token context (set LLAMACOMPARE_LOCAL_CTX to raise it)"
            )
        started = time.perf_counter()
        self.model.sync_prefix(llm, prompt_tokens, _head(request.prompt, request.prefix))
        ttft = None
        parts: list[str] = []
        finish = None
        kwargs: dict[str, Any] = {"max_tokens": p.max_tokens, "temperature": p.temperature, "stream": True}
        if p.top_p is not None:
            kwargs["top_p"] = p.top_p
        if p.stop:
            kwargs["stop"] = list(p.stop)
        if p.seed is not None:
            kwargs["seed"] = p.seed
        held = _held(request)
        if held is not None:  # held to the format's grammar, as the batched path holds it
            kwargs["grammar"] = llama_grammar(held)
        with self.model.measured(llm):
            for chunk in llm.create_completion(prompt_tokens, **kwargs):
                choice = chunk["choices"][0]
                if choice.get("text"):
                    if ttft is None:
                        ttft = time.perf_counter() - started
                    parts.append(choice["text"])
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
        latency = time.perf_counter() - started
        text = "".join(parts)
        return self._response(model, request, text, finish, len(prompt_tokens), count_tokens(llm, text), latency,
                              ttft)

    def _response(self, model: str, request: Request, text: str, finish: str | None, prompt_tokens: int,
                  completion_tokens: int, latency: float, ttft: float | None) -> Response:
        return Response(
            model=model, text=text, finish_reason=finish, prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens, latency_s=latency, ttft_s=ttft, cost_usd=0.0,
            cost_source="local (no per-token price)", request=request.to_dict(),
        )

    async def label_logprobs(
        self, model: str, prompt: str, labels: list[str], *, prefix: str | None = None
    ) -> dict[str, float]:
        head = _head(prompt, prefix)
        if self.model.batcher is not None:
            scores = await _awaited(self.model.batcher, self.model.batcher.score(prompt, head, labels))
            if scores is not None:
                return scores
        return await self._run(self._label_logprobs_sync, prompt, labels, head)

    def _label_logprobs_sync(self, prompt: str, labels: list[str], head: str | None = None) -> dict[str, float]:
        """log P(label tokens | prompt), summed over the label's tokens, sharing the prompt's KV cache."""
        llm = self.model.llm()
        tokens = tokenize(llm, prompt.encode("utf-8"), add_bos=True, special=True)
        label_tokens = {lab: tokenize(llm, lab.encode("utf-8"), add_bos=False, special=False) for lab in labels}
        longest = max(len(t) for t in label_tokens.values())
        if len(tokens) + longest > llm.n_ctx():
            raise BadRequestError(f"prompt is {len(tokens)} tokens; the local context is {llm.n_ctx()}")
        kept = self.model.sync_prefix(llm, tokens, head)
        with self.model.measured(llm):
            llm.eval(tokens[kept:])
            first = _last_logprobs(llm, [t[0] for t in label_tokens.values()])
            base = llm.n_tokens
            out: dict[str, float] = {}
            for (label, ltoks), total in zip(label_tokens.items(), first, strict=True):
                for i in range(1, len(ltoks)):
                    llm.n_tokens = base + i - 1
                    llm.eval([ltoks[i - 1]])
                    total += _last_logprobs(llm, [ltoks[i]])[0]
                out[label] = total
        llm.n_tokens = base  # the next eval drops the label tokens from the KV cache
        llm._requires_eval = True  # the logits no longer belong to the prompt's last token
        return out


async def _awaited(batcher: Batcher, future: Future[Any]) -> Any:
    """The batcher's answer; a caller cancelled while waiting (an interrupted run) tells the batcher to stop."""
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        batcher.drop(future)
        raise


def _last_logprobs(llm: Any, tokens: list[int]) -> list[float]:
    return logprobs_of(llm._ctx.get_logits_ith(-1), llm.n_vocab(), tokens)


def _head(prompt: str, prefix: str | None) -> str | None:
    """The prompt up to the end of the shared prefix (templates may put text before it)."""
    if not prefix:
        return None
    i = prompt.find(prefix)
    return prompt[: i + len(prefix)] if i >= 0 else None


def _held(request: Request) -> Held | None:
    """The grammar an answer is held to: the response format asked for, or, for tools offered in the text format,
    that format's (valid JSON in each `<tool_call>` block)."""
    if request.params.response_format is not None:
        return request.params.response_format
    return TOOL_CALLS if request.tools_in_text else None
