"""The asynchronous runner.

Cases stream from the dataset into one bounded queue per model; each model has as many workers as its
concurrency allows, behind its own request and token rate limits. Every answer is stored (one transaction) the
moment it arrives; an answer already in the content-addressed cache is reused without sending anything, and a
resumed run skips what it already has. A hosted model's requests in flight adapt to its server (halved on 429/503,
grown back on answers: `runner/concurrency.py`) up to its concurrency. Local models get as many workers as they
compute answers at once, taking cases in order, so the prompts in flight share the few-shot prefix in llama.cpp's
KV cache; a case's requests (its modes and repeats) are sent together, so a local model reads their shared prompt
once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from llamacompare import formatting as fmt
from llamacompare import jsonfast
from llamacompare.errors import AuthenticationError, LlamaCompareError, ModelNotFoundError, ProviderError, UsageError
from llamacompare.identity import AnswerKey, Contender
from llamacompare.models.base import ModelUsage, Response
from llamacompare.models.client import ModelClient
from llamacompare.models.retry import RetryPolicy
from llamacompare.runner import batch
from llamacompare.runner.concurrency import AdaptiveLimit, LimitState
from llamacompare.runner.items import Item as _Item
from llamacompare.runner.items import cached_answer
from llamacompare.runner.outcome import ProgressSink, RunOutcome
from llamacompare.runner.plan import PlannedModel, RunPlan
from llamacompare.settings import redact
from llamacompare.store.db import Store
from llamacompare.store.rows import DecisionRow
from llamacompare.tasks.case import Case, PromptVariant
from llamacompare.tasks.prompt_template import placeholders, render_case, render_few_shot
from llamacompare.tasks.schema import Task

if TYPE_CHECKING:
    from llamacompare.runner.decide import Decider, StopNote


@runtime_checkable
class ShowsConcurrency(Protocol):
    """A progress sink that also shows each adaptive model's requests in flight (its current limit)."""

    def watch_concurrency(self, model: str, state: Callable[[], LimitState]) -> None: ...


CONTENT_FREE_CASE = "(content-free)"
RACE_BATCH = 10  # --until-decided looks at its races every this many cases


def content_free_case(task: Task, variant: PromptVariant | None = None) -> Case:
    """The (variant's) prompt with every field replaced by "N/A" (Zhao et al. 2021), for content-free
    calibration."""
    template = (variant or task.variants()[0]).template or ""
    return Case(CONTENT_FREE_CASE, {name: "N/A" for name in placeholders(template)}, None)


def needs_content_free(task: Task) -> bool:
    return task.type == "classify" and "logprob" in modes_of(task) and task.calibration == "content_free"


def modes_of(task: Task, client: ModelClient | None = None) -> list[str]:
    """The modes a task's cases are run in; for a model that gives no label scores, `both` is generate only."""
    if task.type != "classify":
        return ["generate"]
    mode = task.classify_mode
    modes = ["generate", "logprob"] if mode == "both" else [mode]
    if client is not None and client.capabilities.label_method is None:
        modes = [m for m in modes if m != "logprob"]
    return modes


def _check_label_scores(plan: RunPlan, clients: dict[str, ModelClient], outcome: RunOutcome) -> None:
    """A logprob-only task on a model that gives no label scores fails here, before any request; with `both`, that
    model answers in generate mode only and the summary says why, once."""
    for m in plan.models:
        client = clients[m.name]
        if client.capabilities.label_method is not None:
            continue
        reason = client.capabilities.no_label_reason or "the server gives no log-probabilities"
        tasks = [t for t in plan.suite.tasks if t.type == "classify" and t.classify_mode in ("logprob", "both")]
        strict = [t.id for t in tasks if t.classify_mode == "logprob"]
        if strict:
            raise UsageError(f"task {strict[0]} is mode: logprob but {m.name} gives no label scores ({reason}); "
                             "use mode: generate or both, or another model")
        if tasks:
            outcome.notes.append(f"{m.name}: no label scores ({reason}); its classify answers are scored as "
                                 "generated")


def case_input(case: Case) -> dict[str, Any]:
    """What is stored as a case's input: its fields, and its conversation when it has one."""
    if case.messages is None:
        return case.fields
    return {**case.fields, "messages": [dict(t) for t in case.messages]}


def iter_task_cases(plan: RunPlan, task: Task) -> Iterator[tuple[int, Case]]:
    yield from enumerate(plan.loaded.cases(task))


async def execute(
    plan: RunPlan, store: Store, *, progress: ProgressSink | None = None, resume: bool = False
) -> RunOutcome:
    # loading validated the suite (every dataset read once): bad input has failed before any request
    validation = plan.loaded.validation or plan.loaded.validate()
    outcome = RunOutcome(plan.run_id)
    clients = {m.name: _client(m, plan) for m in plan.models}
    usage_before: dict[str, ModelUsage] = {}
    started = time.perf_counter()
    completed = False  # only a run whose every item was driven is done; any exception leaves it resumable
    refused = False
    try:
        check_batch(plan, clients, outcome)  # a model with no batch API: refused before anything is asked
        await asyncio.gather(*(c.prepare() for c in clients.values()))
        usage_before = {name: u for name, c in clients.items() if (u := c.provider.usage()) is not None}
        for c in clients.values():
            c.cached_keys = store.cached_keys(c.spec.name)
            outcome.notes.extend(f"{c.name}: {note}" for note in c.notes)
        _check_label_scores(plan, clients, outcome)
        counts = validation.counts()
        for c in clients.values():
            per_case = sum(len(modes_of(t, c)) * len(t.variants()) * len(t.setting_ids()) * counts.get(t.id, 0)
                           for t in plan.suite.tasks)
            outcome.total += per_case * plan.options.repeats
            outcome.total += sum(len(t.variants()) * len(t.setting_ids()) for t in plan.suite.tasks
                                 if needs_content_free(t) and c.capabilities.label_method is not None)
        await _check_context(plan, clients)
        done: set[AnswerKey] = set()
        if resume:
            done = store.done_keys(plan.run_id)
            store.set_run_config(plan.run_id, plan.config())  # what it goes on with: a moved server, other limits
            store.set_run_status(plan.run_id, "running")
        else:
            store.create_run(plan.run_id, plan.suite.name or plan.suite_ref, plan.config())
        decider = _decider(plan, clients, store, resume) if plan.options.until_decided else None
        if progress is not None:
            progress.start(outcome.total, f"{plan.suite.name or plan.suite_ref}: {len(plan.models)} model(s)")
        store.start_writer()
        await _drive(plan, store, clients, done, outcome, progress, decider)
        if decider is not None:
            _finish_races(plan, store, decider, outcome)
        completed = True
    except (asyncio.CancelledError, KeyboardInterrupt):
        outcome.interrupted = True
        raise
    except UsageError:
        refused = not resume  # bad input found once the run began (a batch too large): leave nothing behind
        raise
    finally:
        outcome.elapsed_s = time.perf_counter() - started
        if progress is not None:
            progress.close()
        await asyncio.gather(*(c.aclose() for c in clients.values()), return_exceptions=True)
        store.stop_writer()  # flush every answer received before the run's status changes
        if refused:
            store.forget_run(plan.run_id)
        if store.run_exists(plan.run_id):
            for name, before in usage_before.items():  # what in-process models cost on this machine
                after = clients[name].provider.usage()
                if after is not None:
                    store.add_model_usage(plan.run_id, name, after.since(before))
            status = "done" if completed and not outcome.interrupted else "interrupted"
            store.set_run_status(plan.run_id, status)
    return outcome


def _client(m: PlannedModel, plan: RunPlan) -> ModelClient:
    opts = plan.options
    timeout = m.config.timeout_s or opts.timeout_s
    return ModelClient(
        m.spec,
        timeout_s=timeout,
        stream=opts.stream,
        retry=RetryPolicy(attempts=opts.retry_attempts, base_s=opts.retry_base_s),
    )


def _decider(plan: RunPlan, clients: dict[str, ModelClient], store: Store, resume: bool) -> Decider:
    """The run's races; on resume they first hear the answers the run already has."""
    from llamacompare.runner.decide import Decider  # only --until-decided races: it loads ROUGE (about 0.2 s)

    tasks = list(plan.suite.tasks)
    contenders = {(t.id, mode): [Contender(m.name, mode) for m in plan.models
                                 if mode in modes_of(t, clients[m.name])]
                  for t in tasks for mode in modes_of(t)}
    decider = Decider(tasks, contenders, repeats=plan.options.repeats, seed=plan.options.seed,
                      margin=plan.options.margin, batch=RACE_BATCH)
    for task in tasks:
        decider.order(task, list(iter_task_cases(plan, task)))
    if resume:
        by_id = {t.id: t for t in tasks}
        for r in store.results(plan.run_id):
            raced = by_id.get(r.task_id)
            if raced is not None and r.status == "ok":
                _tell(decider, raced, r.answer, r.text, r.reference,
                      jsonfast.loads(r.label_logprobs) if r.label_logprobs else None)
    return decider


def _tell(decider: Decider, task: Task, answer: AnswerKey, text: str | None, reference: str | None,
          label_logprobs: dict[str, float] | None) -> None:
    """An answer for the race: a content-free prompt's label scores calibrate the model's label-score race."""
    c = answer.contender
    if c.mode == "calibration":
        decider.calibrate(task.id, Contender(c.model, "logprob"), label_logprobs)
    else:  # raced tasks have one prompt and one setting: a raced contender is its model and mode
        decider.record(task.id, answer.case, Contender(c.model, c.mode), text, reference, label_logprobs)


def _finish_races(plan: RunPlan, store: Store, decider: Decider, outcome: RunOutcome) -> None:
    """Say, and store, why each model stopped and what it saved."""
    notes = decider.finish()
    outcome.saved = decider.total_saved
    tasks = {t.id: t for t in plan.suite.tasks}

    def line(n: StopNote) -> str:
        show_mode = len(modes_of(tasks[n.task])) > 1
        if n.tied:
            return fmt.undecided_line([fmt.contender_name(c, show_mode=show_mode) for c in n.tied], n.answered)
        other = n.decision.other
        return fmt.decision_line(fmt.contender_name(n.contender, show_mode=show_mode), n.decision,
                                 plan.options.margin,
                                 None if other is None else fmt.contender_name(other, show_mode=show_mode))

    lines = {id(n): line(n) for n in notes}
    said = list(dict.fromkeys((n.task, lines[id(n)]) for n in notes))  # tied models share one line
    outcome.decisions = decider.notes() + [f"{task}: {text}" if len(tasks) > 1 else text for task, text in said]
    store.save_decisions(DecisionRow(plan.run_id, n.task, n.contender.model, n.contender.mode,
                                     n.decision.verdict, n.decision.n, n.saved, lines[id(n)])
                         for n in notes)


async def _check_context(plan: RunPlan, clients: dict[str, ModelClient]) -> None:
    """A prompt longer than a model's context fails here, before any request is sent."""
    if not any(c.context_length for c in clients.values()):
        return  # nothing to check against: skip the extra pass over the data
    for task in plan.suite.tasks:
        longest, longest_id = "", ""
        for _, case in iter_task_cases(plan, task):
            for variant in task.variants():
                text = render_case(task, case, variant=variant).text
                if len(text) > len(longest):
                    longest, longest_id = text, case.id
        for m in plan.models:
            client = clients[m.name]
            limit = client.context_length
            if not limit:
                continue
            n, exact = await client.count_tokens(longest)
            how = "" if exact else "about "
            if n >= limit:
                raise UsageError(
                    f"task {task.id}, case {longest_id}: the prompt is {how}{n} tokens but {m.name} has a "
                    f"{limit}-token context; shorten the prompt or choose a model with a longer context"
                )


async def _drive(
    plan: RunPlan,
    store: Store,
    clients: dict[str, ModelClient],
    done: set[AnswerKey],
    outcome: RunOutcome,
    progress: ProgressSink | None,
    decider: Decider | None = None,
) -> None:
    fatal: list[BaseException] = []

    def items_for(m: PlannedModel) -> Iterator[list[_Item]]:
        """This model's work, streamed from the datasets, one case's requests (its modes and repeats) at a time:
        no queue, and nothing held beyond the current case. Prompt variants go one after the other over all the
        cases, so the cases in flight share the variant's few-shot prefix (a local model's KV cache)."""
        reps = plan.options.repeats
        name = m.name
        client = clients[m.name]
        scores_labels = client.capabilities.label_method is not None
        for task in plan.suite.tasks:
            modes = modes_of(task, client)
            # one variant and one setting unless the task has prompts or settings (then not raced: check_decidable)
            for variant, sid in ((v, s) for v in task.variants() for s in task.setting_ids()):
                pid = variant.id
                params = task.generation_params(m.config.params.apply(), sid)  # the task's (setting's) win
                prefix = render_few_shot(task, variant)
                cf_key = AnswerKey(task.id, CONTENT_FREE_CASE, Contender(name, "calibration", pid, sid))
                if needs_content_free(task) and scores_labels and cf_key not in done:
                    cf = content_free_case(task, variant)
                    yield [_Item(task, cf_key, -1, render_case(task, cf, variant=variant), params,
                                 jsonfast.dumps(cf.fields), None)]
                cases = iter_task_cases(plan, task) if decider is None else iter(decider.cases[task.id])
                racing = [Contender(name, mode) for mode in modes]
                for seq, case in cases:
                    if fatal:
                        return
                    if decider is not None and decider.stopped(task.id, racing):
                        _skip_rest(decider, task, name, modes, reps, [(seq, case), *cases], done, progress)
                        break
                    rendered = None
                    group: list[_Item] = []
                    for mode in modes:
                        who = Contender(name, mode, pid, sid)
                        for rep in range(reps):
                            answer = AnswerKey(task.id, case.id, who, rep)
                            if answer in done:
                                outcome.already_done += 1
                                if progress is not None:
                                    progress.advance(tokens=0, cost=0.0, failed=False)
                                continue
                            if rendered is None:
                                rendered = render_case(task, case, prefix, variant)
                                input_json = jsonfast.dumps(case_input(case))
                            group.append(_Item(task, answer, seq, rendered, params, input_json, case.reference))
                    if group:
                        yield group

    workers: list[asyncio.Task[None]] = []
    adaptive: dict[str, AdaptiveLimit] = {}
    batched = _batched(plan, clients, store, outcome, progress, items_for, decider)  # refused before any upload
    for m in plan.models:
        client = clients[m.name]
        n_workers = m.config.concurrency or client.width(plan.options.default_concurrency)
        groups = items_for(m)  # shared by this model's workers: each takes the next case when it is free
        if m.name in batched:
            work = batched[m.name]
            live = _sender(client, RateLimits(m.config.rpm, m.config.tpm), store, outcome, progress, decider)
            workers.append(asyncio.create_task(batch.run(work, store, outcome, progress, plan.options, live)))
            first = list(work.live)  # what no batch asks: label scores, --missing live
            work.live.clear()
            groups = iter([[item] for item in first])
        limiter = RateLimits(m.config.rpm, m.config.tpm)
        most = max(len(modes_of(t)) for t in plan.suite.tasks) * plan.options.repeats
        gate = _Gate(n_workers) if most > 1 else None
        # a batched model's few live requests (label scores) need no adapting
        slots = None if m.name in batched else _adaptive_limit(m, client, plan, n_workers)
        if slots is not None:
            adaptive[m.name] = slots
            if isinstance(progress, ShowsConcurrency):
                progress.watch_concurrency(m.name, slots.state)
        for _ in range(n_workers):
            workers.append(asyncio.create_task(_worker(groups, client, limiter, store, outcome, progress, fatal, gate,
                                                       decider, 2 * RACE_BATCH + n_workers, slots)))
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for name, slots in adaptive.items():
            state = outcome.concurrency[name] = slots.state()
            if state.overloads:
                outcome.notes.append(
                    f"{name}: {state.overloads} request(s) refused as too many (429/503/Retry-After); requests in "
                    f"flight adapted to {state.limit} of {state.ceiling} (lowest {state.lowest}; "
                    f"--fixed-concurrency keeps {state.ceiling})")
    if fatal:
        raise fatal[0]


def _batched(plan: RunPlan, clients: dict[str, ModelClient], store: Store, outcome: RunOutcome,
             progress: ProgressSink | None, items_for: Any, decider: Decider | None) -> dict[str, batch.ModelBatch]:
    """The batch work of each model asked for in batches (`--batch`, `batch: true`); an in-process model runs live,
    a hosted one without a batch API has failed before the run began (`check_batch`)."""
    out = {}
    for m in plan.models:
        if not m.batched(plan.options):
            continue
        api = batch.batch_api_of(m, clients[m.name])
        if api is not None:
            out[m.name] = batch.prepare(m, clients[m.name], api, items_for(m), store, outcome, progress,
                                        plan.options, tell=None if decider is None else _teller(decider))
    return out


def _sender(client: ModelClient, limits: RateLimits, store: Store, outcome: RunOutcome,
            progress: ProgressSink | None, decider: Decider | None) -> Any:
    """Live requests for what a later batch wave cannot ask (label scores), one after the other."""
    async def send(items: list[_Item]) -> None:
        for item in items:
            await _process(item, client, limits, store, outcome, progress, decider)
        items.clear()
    return send


def _teller(decider: Decider) -> batch.Tell:
    """--until-decided with batches: each answer of a wave, for the race."""
    def tell(item: _Item, text: str | None) -> None:
        _tell(decider, item.task, item.answer, text, item.reference if text is not None else None, None)
    return tell


def check_batch(plan: RunPlan, clients: dict[str, ModelClient], outcome: RunOutcome) -> None:
    """Before the run is created: a hosted model without a batch API is refused in one line; an in-process one is
    said to run live."""
    for m in plan.models:
        if m.batched(plan.options) and batch.batch_api_of(m, clients[m.name]) is None:
            outcome.notes.append(f"{m.name}: runs in this process, live (--batch is for hosted models)")


def _adaptive_limit(m: PlannedModel, client: ModelClient, plan: RunPlan, n_workers: int) -> AdaptiveLimit | None:
    """The adaptive limit of a hosted model's requests in flight, starting at its concurrency; None where they stay
    fixed (asked for, one at a time, or an in-process model, whose width is what its batch computes at once)."""
    fixed = m.config.fixed_concurrency
    if fixed is None:
        fixed = plan.options.fixed_concurrency
    if fixed or n_workers < 2 or not client.capabilities.hosted:
        return None
    return AdaptiveLimit(n_workers)


def _skip_rest(decider: Decider, task: Task, model: str, modes: list[str], reps: int,
               rest: list[tuple[int, Case]], done: set[AnswerKey],
               progress: ProgressSink | None) -> None:
    """A decided model's remaining requests for the task: not sent, counted as saved."""
    for _, case in rest:
        for mode in modes:
            key = (task.id, Contender(model, mode))
            for rep in range(reps):
                if AnswerKey(task.id, case.id, Contender(model, mode), rep) not in done:  # raced: one prompt
                    decider.saved[key] = decider.saved.get(key, 0) + 1
                    if progress is not None:
                        progress.advance(tokens=0, cost=0.0, failed=False)


class RateLimits:
    """Requests- and tokens-per-minute limits as leaky buckets (aiolimiter) that drain every second: a limit of
    600/minute allows bursts of 10, not of 600, since providers count over short windows too."""

    def __init__(self, rpm: float | None, tpm: int | None) -> None:
        self.rpm = _bucket(rpm) if rpm else None
        self.tpm = _bucket(float(tpm)) if tpm else None
        self.active = self.rpm is not None or self.tpm is not None

    async def acquire(self, estimated_tokens: int) -> None:
        if self.rpm is not None:
            await self.rpm.acquire()
        if self.tpm is not None:
            await self.tpm.acquire(min(estimated_tokens, self.tpm.max_rate))


def _bucket(per_minute: float) -> Any:
    from aiolimiter import AsyncLimiter  # aiolimiter: only where rate limits apply

    if per_minute >= 60:
        return AsyncLimiter(per_minute / 60, 1.0)
    return AsyncLimiter(1, 60 / per_minute)


class _Gate:
    """At most `n` requests in flight for a model whose cases make several requests each: a case's requests are
    admitted together (all or, while others run, none yet), so they reach the provider in the same turn of the
    event loop. A local model then reads the prompt they share once (`mode: both`)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._free = asyncio.Semaphore(n)
        self._turn = asyncio.Lock()  # one case takes its permits at a time: two half-admitted cases cannot deadlock

    async def enter(self, k: int) -> int:
        k = min(k, self.n)
        async with self._turn:
            for _ in range(k):
                await self._free.acquire()
        return k

    def leave(self) -> None:
        self._free.release()


async def _worker(
    groups: Iterator[list[_Item]],
    client: ModelClient,
    limits: RateLimits,
    store: Store,
    outcome: RunOutcome,
    progress: ProgressSink | None,
    fatal: list[BaseException],
    gate: _Gate | None,
    decider: Decider | None = None,
    lead: int = 0,
    slots: AdaptiveLimit | None = None,
) -> None:
    for group in groups:
        if fatal:
            return
        try:
            if decider is not None:
                await decider.wait_turn(group[0].task.id, group[0].answer.case, lead)
                if fatal:
                    return
            if gate is None:
                for item in group:
                    await _process(item, client, limits, store, outcome, progress, decider, slots)
                continue
            for start in range(0, len(group), gate.n):  # a case's requests together, `gate.n` at most
                part = group[start : start + gate.n]
                await gate.enter(len(part))
                done = await asyncio.gather(*(_gated(gate, _process(item, client, limits, store, outcome, progress,
                                                                     decider, slots))
                                              for item in part), return_exceptions=True)
                errors = [e for e in done if isinstance(e, BaseException)]
                if errors:
                    raise errors[0]
        except (AuthenticationError, ModelNotFoundError, UsageError) as exc:
            fatal.append(exc)  # every other case would fail the same way: stop, keep what we have
            if decider is not None:
                decider.abort()  # models waiting for this one to catch up stop too


async def _gated(gate: _Gate, work: Any) -> None:
    try:
        await work
    finally:
        gate.leave()


async def _process(
    item: _Item,
    client: ModelClient,
    limits: RateLimits,
    store: Store,
    outcome: RunOutcome,
    progress: ProgressSink | None,
    decider: Decider | None = None,
    slots: AdaptiveLimit | None = None,
) -> None:
    task = item.task
    request, sent, request_json, key = item.prepare(client)
    hit = cached_answer(client, store, key)
    if hit is not None:
        item.record(store, outcome.run_id, response_key=key, kind=item.mode, response=None, cached=True)
        if decider is not None:
            _tell(decider, task, item.answer, hit.text, item.reference,
                  jsonfast.loads(hit.label_logprobs) if hit.label_logprobs else None)
        outcome.cached += 1
        if progress is not None:
            progress.advance(tokens=0, cost=0.0, failed=False)
        return
    attempts = 0

    def count(*_: Any) -> None:
        nonlocal attempts
        attempts += 1

    try:
        if limits.active:
            await limits.acquire(len(item.rendered.text) // 4 + item.params.max_tokens)
        if item.mode in ("logprob", "calibration"):
            started = time.perf_counter()
            scores = await client.score_labels(request, list(sent["labels"].values()), on_retry=count, slots=slots)
            by_label = {lab: scores.logprobs[s] for lab, s in sent["labels"].items()}
            top = max(by_label, key=by_label.__getitem__)
            response = Response(
                model=client.name,
                text=top,
                finish_reason="logprob",
                prompt_tokens=scores.prompt_tokens,
                completion_tokens=scores.completion_tokens,
                latency_s=time.perf_counter() - started,
                cost_usd=scores.cost_usd,
                cost_source=scores.cost_source,
                request=sent,
                label_logprobs=by_label,
                label_method=scores.method or None,
                label_covered=scores.covered if scores.method else None,
            )
        else:
            response = await client.send(request, on_retry=count, slots=slots)
    except ProviderError as exc:
        message = redact(f"{type(exc).__name__}: {exc}")
        item.record(store, outcome.run_id, response_key=key, kind=item.mode, response=None, cached=False,
                    error=message, attempts=attempts + 1)
        outcome.failed += 1
        if decider is not None:
            _tell(decider, task, item.answer, None, None, None)
        name = type(exc).__name__
        outcome.errors[name] = outcome.errors.get(name, 0) + 1
        if progress is not None:
            progress.advance(tokens=0, cost=None, failed=True)
        if isinstance(exc, AuthenticationError | ModelNotFoundError):
            raise
        return
    except LlamaCompareError:
        raise
    item.record(store, outcome.run_id, response_key=key, kind=item.mode, response=response, cached=False,
                attempts=attempts + 1, request_json=request_json)
    if decider is not None:
        _tell(decider, task, item.answer, response.text, item.reference,
              response.label_logprobs)
    outcome.sent += 1
    tokens = (response.prompt_tokens or 0) + (response.completion_tokens or 0)
    outcome.tokens += tokens
    if response.cost_usd is None:
        outcome.cost_unknown += 1
    else:
        outcome.cost_usd += response.cost_usd
    if progress is not None:
        progress.advance(tokens=tokens, cost=response.cost_usd, failed=False)
