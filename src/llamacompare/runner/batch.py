"""`run --batch`: a model's cases through its provider's batch API instead of live requests.

The cases not yet answered or cached become one batch per model (the bodies a live call sends, each under its
cache key as `custom_id`); the batch's id is stored before it is polled, so a killed run re-attaches to it on
`--resume` instead of paying for a second one. A resumed run either re-attaches to the batches in flight or sends
what is still missing (as a new batch, or live with `--missing live`), never both. Every answer is stored the
moment its line is read, exactly as a live answer (same request record, same cache key) at the batch price; a case
the batch ended without (expired, cancelled, an error or unreadable line) is a failed row, which the resume sends
again.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import math
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llamacompare.errors import UsageError
from llamacompare.identity import AnswerKey
from llamacompare.models.base import BatchAPI, BatchJob, BatchLine, Response
from llamacompare.models.retry import with_retries
from llamacompare.runner.items import Item, cached_answer
from llamacompare.runner.outcome import ProgressSink, RunOutcome
from llamacompare.settings import redact
from llamacompare.store.rows import BatchRow

if TYPE_CHECKING:
    from llamacompare.models.client import ModelClient
    from llamacompare.runner.plan import PlannedModel, RunOptions
    from llamacompare.store.db import Store

BATCH_ERROR = "BatchError"
#: --until-decided: the race hears an answer (its text; None: failed)
Tell = Callable[[Item, "str | None"], None]


@dataclass(slots=True)
class ModelBatch:
    """One model's batch work in a run: what goes (or went) in a batch, by custom id, and what goes live."""

    model: PlannedModel
    client: ModelClient
    api: BatchAPI
    run_id: str
    #: custom id (the cache key) -> the answers it serves (the same request asked by two cases is sent once)
    items: dict[str, list[Item]] = field(default_factory=dict)
    requests: dict[str, str] = field(default_factory=dict)  # custom id -> the request's JSON, as stored
    lines: list[BatchLine] = field(default_factory=list)
    attach: list[BatchRow] = field(default_factory=list)  # batches in flight, from an earlier process
    live: list[Item] = field(default_factory=list)  # label scores (no batch endpoint gives them), --missing live
    resend_live: bool = False  # --missing live after an earlier batch: everything left goes live
    cached: list[tuple[Item, str]] = field(default_factory=list)
    #: --until-decided: who hears each answer, the cases after this wave, and how many cases a wave holds
    tell: Tell | None = None
    rest: Iterator[list[Item]] | None = None
    wave: int = 0
    stored: set[AnswerKey] = field(default_factory=set)  # answers this work's batches gave (or failed)

    @property
    def name(self) -> str:
        return self.model.name


def batch_api_of(m: PlannedModel, client: ModelClient) -> BatchAPI | None:
    """The model's batch API; UsageError where a hosted model has none (an in-process model runs live: None)."""
    api = client.provider.batch_api()
    if api is not None and not api.hosted:
        raise UsageError(f"{m.name}: its server takes no batches; run it without --batch, or offline: "
                         "`llamacompare batch export` for vLLM's run-batch, then `llamacompare batch import`")
    if api is None and client.provider.usage() is None:
        raise UsageError(f"{m.name} has no batch API ({client.provider.name}); run it without --batch (or without "
                         "`batch: true` in the suite)")
    return api


def prepare(m: PlannedModel, client: ModelClient, api: BatchAPI, groups: Iterator[list[Item]], store: Store,
            outcome: RunOutcome, progress: ProgressSink | None, options: RunOptions, *,
            tell: Tell | None = None) -> ModelBatch:
    """Sort the model's remaining answers: cached ones are stored now, the rest go in the batch (or live). A batch
    the provider would refuse fails here, in one line, before anything is uploaded. With `tell` (--until-decided)
    the batch is the first wave of `options.wave` cases; the rest wait in `groups` for the race."""
    work = ModelBatch(m, client, api, outcome.run_id, tell=tell)
    earlier = store.batches(outcome.run_id, m.name)
    work.attach = [b for b in earlier if not b.collected]
    work.resend_live = bool(earlier) and not work.attach and options.missing == "live"
    if tell is not None:
        work.rest, work.wave = groups, options.wave
    fill(work, groups if tell is None else itertools.islice(groups, options.wave), store)
    if work.lines and not work.attach:
        _check_size(work)
    _store_cached(work, store, outcome, progress)
    return work


def fill(work: ModelBatch, groups: Iterable[list[Item]], store: Store, carried: Iterable[Item] = ()) -> None:
    """Each item's request into the batch (one line per distinct request), the cache (`work.cached`) or, for label
    scores and `--missing live`, the live list."""
    client, api = work.client, work.api
    for item in itertools.chain(carried, (item for group in groups for item in group)):
        if item.mode != "generate" or work.resend_live:
            work.live.append(item)
            continue
        request, _, request_json, key = item.prepare(client)
        if cached_answer(client, store, key) is not None:
            work.cached.append((item, key))
            continue
        if key not in work.items:
            work.items[key] = []
            work.requests[key] = request_json
            work.lines.append(api.line(key, client.served_id, request))  # (re-attached: not sent again)
        work.items[key].append(item)


def _store_cached(work: ModelBatch, store: Store, outcome: RunOutcome, progress: ProgressSink | None) -> None:
    """Stored once the batch is known to be acceptable: a refused run leaves nothing."""
    for item, key in work.cached:
        item.record(store, outcome.run_id, response_key=key, kind=item.mode, response=None, cached=True)
        outcome.cached += 1
        if work.tell is not None:
            hit = store.cached_response(key)
            work.tell(item, hit.text if hit is not None else None)
        if progress is not None:
            progress.advance(tokens=0, cost=0.0, failed=False)
    work.cached.clear()


def _check_size(work: ModelBatch) -> None:
    limits = work.api.limits
    n = len(work.lines)
    if n > limits.max_requests:
        raise UsageError(f"{work.name}: {n:,} requests in one batch, its provider takes at most "
                         f"{limits.max_requests:,}; use --limit, or run it without --batch")
    if limits.max_bytes is not None:
        size = work.api.size(work.lines)
        if size > limits.max_bytes:
            raise UsageError(f"{work.name}: the batch would be {size / 1e6:,.1f} MB, its provider takes at most "
                             f"{limits.max_bytes / 1e6:,.0f} MB; use --limit, or run it without --batch")


async def run(work: ModelBatch, store: Store, outcome: RunOutcome, progress: ProgressSink | None,
              options: RunOptions, live: Callable[[list[Item]], Awaitable[None]] | None = None) -> None:
    """Re-attach to the model's batches in flight, or submit one; poll each until it is over; store its answers.
    With --until-decided, wave after wave: the race hears each wave's answers before the next wave is made, and a
    model it has decided gets no further wave. `live` sends what a wave cannot ask (label scores)."""
    while True:
        carried = await _one_round(work, store, outcome, progress, options)
        if work.rest is None:
            return
        if live is not None and work.live:
            await live(work.live)
        nxt = ModelBatch(work.model, work.client, work.api, work.run_id, resend_live=work.resend_live,
                         tell=work.tell, rest=work.rest, wave=work.wave)
        groups = list(itertools.islice(work.rest, max(0, work.wave - len(carried))))
        if not groups and not carried:
            return  # every case asked, or every model decided
        fill(nxt, groups, store, carried)
        if nxt.lines:
            _check_size(nxt)
        _store_cached(nxt, store, outcome, progress)
        work = nxt


async def _one_round(work: ModelBatch, store: Store, outcome: RunOutcome, progress: ProgressSink | None,
                     options: RunOptions) -> list[Item]:
    """One batch (or the batches in flight) of the model, to its end; returns the answers a re-attached batch did
    not hold, for the next wave."""
    api, client = work.api, work.client
    jobs: list[BatchJob] = []
    if work.attach:
        jobs = [BatchJob(b.batch_id, b.status, "running", b.input_file, total=b.requests) for b in work.attach]
        outcome.notes.append(f"{work.name}: re-attached to batch {', '.join(j.id for j in jobs)}")
    elif work.lines:  # only the answers still missing: a resumed run never pays for one twice
        job = await with_retries(lambda: api.submit(client.served_id, work.lines), client.retry)
        # stored before the first poll: from here on a killed process finds it again
        store.add_batch(BatchRow(outcome.run_id, work.name, job.id, job.input_file, len(work.lines), job.status))
        jobs = [job]
    carried: list[Item] = []
    for job in jobs:
        job = await _wait(work, job, store, progress, options)
        await _collect(work, job, store, outcome, progress)
    if work.attach and work.rest is not None:
        # a re-attached wave's batch was made by the process that died: what it did not hold goes in the next
        carried = [item for items in work.items.values() for item in items if item.answer not in work.stored]
    return carried


async def _wait(work: ModelBatch, job: BatchJob, store: Store, progress: ProgressSink | None,
                options: RunOptions) -> BatchJob:
    """Poll every `poll_s` at first, then less often (up to ten times as long), showing the provider's state."""
    wait = options.poll_s
    first = True
    while first or not job.over:
        if not first:
            await asyncio.sleep(wait)
            wait = min(wait * 1.5, options.poll_s * 10)
        first = False
        job = await with_retries(functools.partial(work.api.poll, job), work.client.retry)
        store.set_batch_status(work.run_id, job.id, job.status)
        _show(progress, work, job)
    return job


def _show(progress: ProgressSink | None, work: ModelBatch, job: BatchJob) -> None:
    note = getattr(progress, "note", None)
    if note is None:
        return
    if job.completed is not None:
        done = f"{job.completed:,}/{job.total or len(work.items):,} done"
        done += f", {job.failed:,} failed" if job.failed else ""
    elif job.percent is not None:
        done = f"{job.percent:.0f}%"
    else:
        done = ""
    note(f"{work.name}: batch {job.status}" + (f" ({done})" if done else ""))


async def _collect(work: ModelBatch, job: BatchJob, store: Store, outcome: RunOutcome,
                   progress: ProgressSink | None) -> None:
    """Store each answer as it is read; then every answer the batch ended without is a failed row."""
    answered: set[str] = set()
    unreadable = failed = 0
    async for answer in work.api.results(work.client.served_id, job):
        items = work.items.get(answer.custom_id or "")
        if answer.custom_id is None or items is None:
            unreadable += answer.custom_id is None
            continue
        if answer.custom_id in answered:
            continue
        answered.add(answer.custom_id)
        if answer.response is not None:
            store_answer(work, answer.custom_id, items, answer.response, store, outcome, progress)
        else:
            failed += 1
            store_failure(work, answer.custom_id, items, answer.error or "no answer", store, outcome, progress)
    missing = [cid for cid, items in work.items.items()
               if cid not in answered and not any(i.answer in work.stored for i in items)]
    if work.attach and work.rest is not None:
        missing = []  # a re-attached wave: what its batch did not hold goes in the next wave (`_one_round`)
    why = (f"batch {job.id} {job.status} without answering it" + (f" ({job.message})" if job.message else "")
           + (f"; {unreadable} line(s) of its output could not be read" if unreadable else ""))
    for cid in missing:
        store_failure(work, cid, work.items[cid], why, store, outcome, progress)
    store.set_batch_status(work.run_id, job.id, job.status, collected=True)
    if missing or failed:
        outcome.notes.append(f"{work.name}: batch {job.id} {job.status}: {len(missing) + failed:,} of "
                             f"{len(work.items):,} requests unanswered; --resume sends only those (--missing live: "
                             "as live requests)")


def store_answer(work: ModelBatch, key: str, items: list[Item], response: Response, store: Store,
                  outcome: RunOutcome, progress: ProgressSink | None) -> None:
    response.model = work.client.name
    for item in items:
        work.stored.add(item.answer)
        if work.tell is not None:
            work.tell(item, response.text)
    first, *rest = items
    first.record(store, outcome.run_id, response_key=key, kind=first.mode, response=response, cached=False,
                 request_json=work.requests[key])
    for item in rest:  # the same request for another case: answered by the same stored response
        item.record(store, outcome.run_id, response_key=key, kind=item.mode, response=None, cached=True)
        outcome.cached += 1
        if progress is not None:
            progress.advance(tokens=0, cost=0.0, failed=False)
    outcome.sent += 1
    tokens = (response.prompt_tokens or 0) + (response.completion_tokens or 0)
    outcome.tokens += tokens
    if response.cost_usd is None or math.isnan(response.cost_usd):
        outcome.cost_unknown += 1
    else:
        outcome.cost_usd += response.cost_usd
    if progress is not None:
        progress.advance(tokens=tokens, cost=response.cost_usd, failed=False)


def store_failure(work: ModelBatch, key: str, items: list[Item], error: str, store: Store, outcome: RunOutcome,
                   progress: ProgressSink | None) -> None:
    message = redact(f"{BATCH_ERROR}: {error}")
    for item in items:
        work.stored.add(item.answer)
        if work.tell is not None:
            work.tell(item, None)
        item.record(store, outcome.run_id, response_key=key, kind=item.mode, response=None, cached=False,
                    error=message)
        outcome.failed += 1
        outcome.errors[BATCH_ERROR] = outcome.errors.get(BATCH_ERROR, 0) + 1
        if progress is not None:
            progress.advance(tokens=0, cost=None, failed=True)
