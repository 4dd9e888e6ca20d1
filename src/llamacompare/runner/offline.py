"""`llamacompare batch export` and `batch import`: a run's requests as a batch file that runs elsewhere (vLLM's
`run-batch` on a GPU box with no server), and its output stored as the run's answers.

The file's lines are the ones a provider batch would get (the body a live call sends, its cache key as
`custom_id`), for the answers the run still needs; answers already in the cache are stored at export. Importing
stores each answer exactly as a live one (same request record, same cache key), and each error line as a failed row
that a later export (or `run --resume`) asks for again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from llamacompare import jsonfast
from llamacompare.errors import UsageError
from llamacompare.identity import AnswerKey, Contender
from llamacompare.models.client import ModelClient
from llamacompare.runner import batch
from llamacompare.runner.engine import case_input, iter_task_cases, modes_of
from llamacompare.runner.items import Item
from llamacompare.runner.outcome import RunOutcome
from llamacompare.runner.plan import PlannedModel, RunPlan
from llamacompare.store.db import Store
from llamacompare.tasks.prompt_template import render_case, render_few_shot


@dataclass(slots=True)
class Exported:
    run_id: str
    lines: int  # requests written
    cached: int  # answers found in the cache and stored instead
    models: list[str]


def export_batch(plan: RunPlan, store: Store, out: IO[bytes], *, model: str | None = None,
                 new: bool = False) -> Exported:
    """Write the batch lines of the answers the run still needs (of `model`, or of every model with a batch file
    format); a `new` run is stored first, so that `batch import` and `run --resume` find it."""
    works = _works(plan, store, model)
    if new:
        store.create_run(plan.run_id, plan.suite.name or plan.suite_ref, plan.config())
        store.set_run_status(plan.run_id, "interrupted")  # nothing answered yet: `run --resume` would go on live
    for work in works:
        for item, key in work.cached:
            item.record(store, plan.run_id, response_key=key, kind=item.mode, response=None, cached=True)
        for line in work.lines:
            out.write(jsonfast.dumps_bytes(line.payload) + b"\n")
    return Exported(plan.run_id, sum(len(w.lines) for w in works), sum(len(w.cached) for w in works),
                    [w.name for w in works])


def import_batch(plan: RunPlan, store: Store, path: Path) -> RunOutcome:
    """Store the answers of an output file (vLLM run-batch's, or a provider batch's downloaded output): each line
    whose custom_id is an answer the run still needs; lines of other runs are counted, never stored."""
    outcome = RunOutcome(plan.run_id)
    works = _works(plan, store, None)
    by_key = {key: w for w in works for key in w.items}
    unknown = unreadable = 0
    try:
        raw_lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}; check the path") from None
    for n, raw in enumerate(raw_lines, 1):
        if not raw.strip():
            continue
        try:
            custom_id = jsonfast.loads(raw).get("custom_id")
        except (ValueError, AttributeError):
            custom_id = None
        work = by_key.get(custom_id) if isinstance(custom_id, str) else None
        if work is None:
            unknown += custom_id is not None
            unreadable += custom_id is None
            continue
        answer = work.api.read_line(work.client.served_id, raw)
        items = work.items.pop(str(custom_id))
        if answer.response is not None:
            batch.store_answer(work, str(custom_id), items, answer.response, store, outcome, None)
        else:
            batch.store_failure(work, str(custom_id), items, f"{path.name}:{n}: {answer.error}", store, outcome,
                                None)
    left = sum(len(w.items) for w in works)
    if unreadable:
        outcome.notes.append(f"{path.name}: {unreadable} line(s) could not be read (no custom_id)")
    if unknown:
        outcome.notes.append(f"{path.name}: {unknown} line(s) answer nothing this run still needs (another run's, or "
                             "already stored)")
    if left:
        outcome.notes.append(f"{left:,} request(s) of the run still unanswered: `llamacompare batch export "
                             f"{plan.run_id}` writes them")
    store.set_run_status(plan.run_id, "done" if not left and not outcome.failed else "interrupted")
    return outcome


def _works(plan: RunPlan, store: Store, model: str | None) -> list[batch.ModelBatch]:
    """Each model's batch work (of `model`, or of every model with a batch file format): the lines of the answers
    the run still needs, and those the cache already has (`cached`), as `run --batch` fills them."""
    names = [m.name for m in plan.models]
    if model is not None and model not in names:
        raise UsageError(f"-m {model}: not a model of run {plan.run_id} (its models: {', '.join(names)})")
    done = store.done_keys(plan.run_id) if store.run_exists(plan.run_id) else set()
    works = []
    for m in plan.models:
        if model is not None and m.name != model:
            continue
        client = ModelClient(m.spec)
        api = client.provider.batch_api()
        if api is None:
            if model is not None:
                raise UsageError(f"{m.name} has no batch file format; only OpenAI-compatible, Together, Anthropic "
                                 "and vLLM models can be exported")
            continue
        client.cached_keys = store.cached_keys(client.name)
        work = batch.ModelBatch(m, client, api, plan.run_id)
        batch.fill(work, ([item] for item in _items(plan, m, client, done)), store)
        works.append(work)
    if not works:
        raise UsageError(f"run {plan.run_id} has no model with a batch file format (OpenAI-compatible, Together, "
                         "Anthropic, vLLM)")
    return works


def _items(plan: RunPlan, m: PlannedModel, client: ModelClient, done: set[AnswerKey]) -> Iterator[Item]:
    """The model's generated answers the run still needs (label scores have no batch endpoint: a live run asks
    for those)."""
    for task in plan.suite.tasks:
        if "generate" not in modes_of(task, client):
            continue
        for variant in task.variants():
            prefix = render_few_shot(task, variant)
            for sid in task.setting_ids():
                params = task.generation_params(m.config.params.apply(), sid)
                for seq, case in iter_task_cases(plan, task):
                    rendered = None
                    for rep in range(plan.options.repeats):
                        answer = AnswerKey(task.id, case.id, Contender(m.name, "generate", variant.id, sid), rep)
                        if answer in done:
                            continue
                        if rendered is None:
                            rendered = render_case(task, case, prefix, variant)
                        yield Item(task, answer, seq, rendered, params, jsonfast.dumps(case_input(case)),
                                   case.reference)
