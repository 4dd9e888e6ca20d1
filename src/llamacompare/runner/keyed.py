"""Requests known only by their cache key (a judge's verdicts), sent the way a run's answers are: under the model's
concurrency and rate limits, with retries, on the progress bar, each answer stored by its key the moment it
arrives. A key already stored is never asked again, so an interrupted or failed pass resumes where it stopped."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from llamacompare.errors import AuthenticationError, ModelNotFoundError, ProviderError
from llamacompare.models.base import Params
from llamacompare.models.client import ModelClient
from llamacompare.models.retry import RetryPolicy
from llamacompare.runner.engine import ProgressSink, RateLimits
from llamacompare.runner.plan import PlannedModel, RunOptions
from llamacompare.store.db import Store


@dataclass(frozen=True, slots=True)
class KeyedPrompt:
    key: str  # where the answer is stored, and how it is found again
    prompt: str  # sent as one user message
    max_tokens: int


@dataclass(slots=True)
class KeyedOutcome:
    asked: int = 0
    failed: int = 0  # not answered this time (a later pass asks again)
    errors: dict[str, int] = field(default_factory=dict)


async def ask_keyed(
    model: PlannedModel,
    prompts: list[KeyedPrompt],
    store: Store,
    options: RunOptions,
    *,
    kind: str,
    progress: ProgressSink | None = None,
    description: str = "",
) -> KeyedOutcome:
    """Ask `model` every prompt whose key is not stored yet, greedily (temperature 0)."""
    outcome = KeyedOutcome()
    pending = [p for p in {p.key: p for p in prompts}.values() if store.cached_response(p.key) is None]
    if not pending:
        return outcome
    client = ModelClient(model.spec, timeout_s=model.config.timeout_s or options.timeout_s, stream=options.stream,
                         retry=RetryPolicy(attempts=options.retry_attempts, base_s=options.retry_base_s))
    limits = RateLimits(model.config.rpm, model.config.tpm)
    items = iter(pending)
    stop: list[ProviderError] = []

    async def worker() -> None:
        for p in items:
            if stop:  # every other prompt would fail the same way
                outcome.failed += 1
                if progress is not None:
                    progress.advance(tokens=0, cost=None, failed=True)
                continue
            request = client.request_for([{"role": "user", "content": p.prompt}],
                                         Params(temperature=0.0, max_tokens=p.max_tokens))
            try:
                if limits.active:
                    await limits.acquire(len(p.prompt) // 4 + p.max_tokens)
                response = await client.send(request)
            except ProviderError as exc:
                outcome.failed += 1
                name = type(exc).__name__
                outcome.errors[name] = outcome.errors.get(name, 0) + 1
                if isinstance(exc, AuthenticationError | ModelNotFoundError):
                    stop.append(exc)
                if progress is not None:
                    progress.advance(tokens=0, cost=None, failed=True)
                continue
            store.save_response(p.key, kind, response)
            outcome.asked += 1
            if progress is not None:
                tokens = (response.prompt_tokens or 0) + (response.completion_tokens or 0)
                progress.advance(tokens=tokens, cost=response.cost_usd, failed=False)

    try:
        await client.prepare()
        if progress is not None:
            progress.start(len(pending), description or f"{kind}: {model.name}")
        width = model.config.concurrency or client.width(options.default_concurrency)
        await asyncio.gather(*(worker() for _ in range(min(width, len(pending)))))
    finally:
        if progress is not None:
            progress.close()
        await client.aclose()
    return outcome
