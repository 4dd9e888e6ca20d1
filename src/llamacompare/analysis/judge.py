"""LLM-as-judge for generate tasks: any model grades each answer with a rubric (reference-free when the task has
no reference). Verdicts are asked through the runner (limits, retries, progress) and stored by key like any response, so
scoring again (`rescore`) reads them back instead of asking the judge twice, and a rerun asks only for the missing."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from llamacompare.identity import AnswerKey, Contender
from llamacompare.models.registry import resolve
from llamacompare.scoring.judge import combine_swapped, pairwise_prompt, parse_preference, parse_score, rubric_prompt
from llamacompare.store.db import Store, canonical_json, response_key
from llamacompare.store.rows import ResultRow, ScoreRow
from llamacompare.tasks.prompt_template import input_text
from llamacompare.tasks.schema import ModelConfig, Suite, Task

if TYPE_CHECKING:
    from llamacompare.runner.engine import ProgressSink
    from llamacompare.runner.plan import RunOptions

_TURKISH = set("ğışçöüĞİŞÇÖÜ")


def judge_language(text: str) -> str:
    return "tr" if any(ch in _TURKISH for ch in text[:4000]) else "en"


def is_judged(task: Task) -> bool:
    return task.type == "generate" and task.judge is not None and bool({"judge", "pairwise"} & set(task.scorers or []))


def judged_tasks(suite: Suite) -> list[Task]:
    return [t for t in suite.tasks if is_judged(t)]


def _pair_items(store: Store, run_id: str, task: Task) -> Iterator[tuple[str, Contender, Contender, str, str]]:
    """For each case and each two answers to it (models, and a model's prompt variants): (case, a, b, judge prompt,
    key), in both orders (A/B swapped)."""

    assert task.judge is not None
    spec = task.judge
    judge = resolve(spec.model).name
    current: str | None = None
    answers: dict[Contender, str] = {}
    source = ""

    def pairs() -> Iterator[tuple[str, Contender, Contender, str, str]]:
        names = sorted(answers)
        lang = judge_language(source)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                for x, y in ((a, b), (b, a)):
                    prompt = pairwise_prompt(answers[x], answers[y], source=source, rubric=spec.rubric, language=lang)
                    yield current or "", x, y, prompt, judge_key(judge, prompt, spec.max_tokens)

    for r in store.results(run_id, task=task.id):
        if r.status != "ok" or r.mode != "generate" or r.rep != 0:
            continue
        if r.case_id != current:
            yield from pairs()
            current, answers = r.case_id, {}
            source = input_text(task, json.loads(r.input_json))
        answers[r.answer.contender] = r.text or ""
    yield from pairs()


def judge_prompt(task: Task, row: ResultRow) -> str:

    source = input_text(task, json.loads(row.input_json))
    assert task.judge is not None
    return rubric_prompt(row.text or "", source=source, reference=row.reference, rubric=task.judge.rubric,
                         language=judge_language(source))


def judge_key(judge_model: str, prompt: str, max_tokens: int) -> str:
    """Independent of how the judge's chat template renders the prompt, so scoring can find it without a model."""
    return response_key(judge_model, "judge", canonical_json({"prompt": prompt, "max_tokens": max_tokens}))


def judge_items(store: Store, run_id: str, task: Task) -> Iterator[tuple[ResultRow, str, str]]:
    assert task.judge is not None
    model = resolve(task.judge.model).name
    for r in store.results(run_id, task=task.id):
        if r.status == "ok" and r.mode == "generate":
            prompt = judge_prompt(task, r)
            yield r, prompt, judge_key(model, prompt, task.judge.max_tokens)


async def run_judges(
    store: Store, run_id: str, suite: Suite, options: RunOptions, *, models: Sequence[ModelConfig] = (),
    progress: ProgressSink | None = None,
) -> int:
    """Ask each task's judge about every answer it has not judged yet, through the runner: the judge model's
    concurrency and rate limits (from `models`, the suite's list, when it is there), retries, progress, each
    verdict stored as it arrives. Returns how many verdicts are still missing (a rerun asks for them)."""
    # start-up: every report reads this module (reliability), and only judging sends: the runner loads here
    from llamacompare.runner.keyed import KeyedPrompt, ask_keyed
    from llamacompare.runner.plan import PlannedModel  # start-up: as the line above

    listed = {m.name: m for m in models}
    missing = 0
    for task in judged_tasks(suite):
        assert task.judge is not None
        config = listed.get(task.judge.model) or ModelConfig(name=task.judge.model)
        judge = PlannedModel(config, resolve(config.name, base_url=options.base_url, label=config.label))
        scorers = set(task.scorers or [])
        prompts: list[KeyedPrompt] = []
        if "judge" in scorers:
            prompts += [KeyedPrompt(key, prompt, task.judge.max_tokens)
                        for _, prompt, key in judge_items(store, run_id, task)]
        if "pairwise" in scorers:
            prompts += [KeyedPrompt(key, prompt, task.judge.max_tokens)
                        for *_, prompt, key in _pair_items(store, run_id, task)]
        outcome = await ask_keyed(judge, prompts, store, options, kind="judge", progress=progress,
                                  description=f"judge {task.id}: {judge.name}")
        missing += outcome.failed
    return missing


def judge_score_rows(store: Store, run_id: str, suite: Suite) -> Iterator[ScoreRow]:
    """Score rows from cached judge answers (no model is called)."""

    for task in judged_tasks(suite):
        if "pairwise" in (task.scorers or []):
            yield from _pairwise_rows(store, run_id, task, parse_preference, combine_swapped)
        if "judge" not in (task.scorers or []):
            continue
        for r, _, key in judge_items(store, run_id, task):
            hit = store.cached_response(key)
            if hit is None:
                continue
            score = parse_score(hit.text or "")
            detail = json.dumps({"judge": hit.model, "verdict": (hit.text or "")[-300:]}, ensure_ascii=False)
            yield ScoreRow.of(r.run_id, r.answer, "judge", score, detail)


def _pairwise_rows(store: Store, run_id: str, task: Task, parse: Any, combine: Any) -> Iterator[ScoreRow]:
    """Per case and model: the share of its pairwise comparisons won (a tie counts half), judged both ways round
    so that a judge's preference for the first (or second) position cancels out."""
    verdicts: dict[tuple[str, Contender, Contender], str | None] = {}
    for case, a, b, _, key in _pair_items(store, run_id, task):
        hit = store.cached_response(key)
        verdicts[(case, a, b)] = parse(hit.text or "") if hit is not None else None
    wins: dict[tuple[str, Contender], list[float]] = {}
    for (case, a, b), first in verdicts.items():
        if a > b:
            continue  # each unordered pair once, with its swapped twin
        pref = combine(first, verdicts.get((case, b, a)))
        if pref is None:
            continue
        value = {"A": 1.0, "B": 0.0, "tie": 0.5}[pref]
        wins.setdefault((case, a), []).append(value)
        wins.setdefault((case, b), []).append(1.0 - value)
    for (case, who), values in wins.items():
        yield ScoreRow.of(run_id, AnswerKey(task.id, case, who), "pairwise", sum(values) / len(values))
