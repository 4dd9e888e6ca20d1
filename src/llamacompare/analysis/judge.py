"""LLM-as-judge for generate tasks: any model grades each answer with a rubric (reference-free when the task has
no reference). Judge answers are cached in the store like any other response, so scoring again (`rescore`) reads
them back instead of asking the judge twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

from llamacompare.store.db import Store, canonical_json, response_key
from llamacompare.tasks.suite import Suite, Task

_TURKISH = set("ğışçöüĞİŞÇÖÜ")


def judge_language(text: str) -> str:
    return "tr" if any(ch in _TURKISH for ch in text[:4000]) else "en"


def judged_tasks(suite: Suite) -> list[Task]:
    return [t for t in suite.tasks if t.type == "generate" and t.judge is not None and "judge" in (t.scorers or [])]


def judge_prompt(task: Task, row: Any) -> str:
    from llamacompare.analysis.summary import _input_text
    from llamacompare.scoring.judge import rubric_prompt

    source = _input_text(task, json.loads(row["input_json"]))
    assert task.judge is not None
    return rubric_prompt(row["text"] or "", source=source, reference=row["reference"], rubric=task.judge.rubric,
                         language=judge_language(source))


def judge_key(judge_model: str, prompt: str, max_tokens: int) -> str:
    """Independent of how the judge's chat template renders the prompt, so scoring can find it without a model."""
    return response_key(judge_model, "judge", canonical_json({"prompt": prompt, "max_tokens": max_tokens}))


def judge_items(store: Store, run_id: str, task: Task) -> Iterator[tuple[Any, str, str]]:
    from llamacompare.models.registry import resolve

    assert task.judge is not None
    model = resolve(task.judge.model).name
    for r in store.results(run_id, task=task.id):
        if r["status"] == "ok" and r["mode"] == "generate":
            prompt = judge_prompt(task, r)
            yield r, prompt, judge_key(model, prompt, task.judge.max_tokens)


async def run_judges(store: Store, run_id: str, suite: Suite, *, concurrency: int = 8, timeout_s: float = 120.0,
                     base_url: str | None = None) -> tuple[int, int]:
    """Ask each task's judge about every answer it has not judged yet. Returns (asked, failed)."""
    asked = failed = 0
    for task in judged_tasks(suite):
        a, f = await _judge_task(store, run_id, task, concurrency, timeout_s, base_url)
        asked, failed = asked + a, failed + f
    return asked, failed


async def _judge_task(store: Store, run_id: str, task: Task, concurrency: int, timeout_s: float,
                      base_url: str | None) -> tuple[int, int]:
    from llamacompare.errors import ProviderError
    from llamacompare.models.base import Params
    from llamacompare.models.client import ModelClient
    from llamacompare.models.registry import resolve

    assert task.judge is not None
    spec = resolve(task.judge.model, base_url=base_url)
    client = ModelClient(spec, timeout_s=timeout_s)
    sem = asyncio.Semaphore(1 if spec.provider == "local" else concurrency)
    counts = {"asked": 0, "failed": 0}

    async def one(prompt: str, key: str) -> None:
        async with sem:
            request = client.request_for([{"role": "user", "content": prompt}],
                                         Params(temperature=0.0, max_tokens=task.judge.max_tokens))
            try:
                response = await client.send(request)
            except ProviderError:
                counts["failed"] += 1
                return
            counts["asked"] += 1
            store.save_response(key, "judge", response)

    try:
        await client.prepare()
        pending = [one(prompt, key) for _, prompt, key in judge_items(store, run_id, task)
                   if store.cached_response(key) is None]
        await asyncio.gather(*pending)
    finally:
        await client.aclose()
    return counts["asked"], counts["failed"]


def judge_score_rows(store: Store, run_id: str, suite: Suite) -> Iterator[tuple[Any, ...]]:
    """Score rows from cached judge answers (no model is called)."""
    from llamacompare.scoring.judge import parse_score

    for task in judged_tasks(suite):
        for r, _, key in judge_items(store, run_id, task):
            hit = store.cached_response(key)
            if hit is None:
                continue
            score = parse_score(hit["text"] or "")
            detail = json.dumps({"judge": hit["model"], "verdict": (hit["text"] or "")[-300:]}, ensure_ascii=False)
            yield (run_id, r["task_id"], r["case_id"], r["model"], r["mode"], r["rep"], "judge", score, detail)
