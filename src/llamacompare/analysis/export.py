"""A run's answers as flat records (one per task x case x model x prompt variant x mode x repeat) and their
CSV/JSONL/JSON forms. A run with prompt variants has a `prompt` column (the variant's id, empty for a task with one
template), a run with settings a `setting` column; a run without has none. A run with tool_call tasks has
`tool_calls` (the calls each model made: name, arguments as written, id) and `tool_reasons` (why a tool metric is
0)."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator
from typing import Any, Literal, TextIO

from llamacompare.analysis.checks import is_check_metric, reason_of
from llamacompare.identity import AnswerKey
from llamacompare.store.db import Store
from llamacompare.toolcall import TOOL_METRICS, load_calls

ExportFormat = Literal["csv", "jsonl", "json"]

FIELDS = ["run_id", "task", "case", "model", "prompt", "setting", "mode", "repeat", "status", "error", "input",
          "reference",
          "answer", "tool_calls", "finish_reason", "prompt_tokens", "completion_tokens", "latency_s", "ttft_s",
          "cost_usd", "cost_source", "label_method", "label_covered", "label_logprobs", "cached", "attempts", "scores",
          "check_reasons", "tool_reasons", "request"]


def export_rows(store: Store, run_id: str) -> Iterator[dict[str, Any]]:
    """Every answer with its request, measurements and scores; streamed, so a large run is never all in memory
    (its scores are: one small dict per answer)."""

    scores: dict[AnswerKey, dict[str, float | None]] = {}
    reasons: dict[AnswerKey, dict[str, str]] = {}
    tool_reasons: dict[AnswerKey, dict[str, str]] = {}
    with_tools = False
    calibrated: dict[AnswerKey, Any] = {}
    for s in store.scores(run_id):
        scores.setdefault(s.answer, {})[s.scorer] = s.value
        if s.scorer == "label" and s.detail and '"calibrated"' in s.detail:
            calibrated[s.answer] = json.loads(s.detail).get("calibrated")
        if is_check_metric(s.scorer) and (why := reason_of(s.detail)):
            reasons.setdefault(s.answer, {})[s.scorer] = why  # why a check failed (or did not run)
        if s.scorer in TOOL_METRICS:
            with_tools = True
            if why := reason_of(s.detail):
                tool_reasons.setdefault(s.answer, {})[s.scorer] = why
    with_prompts, with_settings = store.has_prompt_variants(run_id), store.has_settings(run_id)
    for r in store.results(run_id):
        row = {
            "run_id": run_id, "task": r.task_id, "case": r.case_id, "model": r.model, "prompt": r.prompt,
            "setting": r.setting,
            "mode": r.mode,
            "repeat": r.rep, "status": r.status, "error": r.error, "input": r.fields, "reference": r.reference,
            "answer": r.text, "finish_reason": r.finish_reason, "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens, "latency_s": r.latency_s, "ttft_s": r.ttft_s,
            "cost_usd": r.cost_usd, "cost_source": r.cost_source,
            # how label scores were obtained (None for generated answers, and for those stored before it was kept)
            "label_method": r.label_method,
            "label_covered": None if r.label_covered is None else bool(r.label_covered),
            # every label's log P(label | prompt) as scored, and after the task's calibration (normalised over the
            # labels): to check an engine, recompute a metric or feed another tool
            "label_logprobs": None if r.label_logprobs is None else {
                "raw": json.loads(r.label_logprobs),
                "calibrated": calibrated.get(r.answer)},
            "cached": bool(r.cached), "attempts": r.attempts,
            "scores": scores.get(r.answer, {}),
            "check_reasons": reasons.get(r.answer, {}),
            "request": r.request,
        }
        if with_tools:
            row["tool_calls"] = [c.to_dict() for c in load_calls(r.tool_calls)]
            row["tool_reasons"] = tool_reasons.get(r.answer, {})
        if not with_prompts:
            del row["prompt"]
        if not with_settings:
            del row["setting"]
        yield row


def write_export(rows: Iterator[dict[str, Any]], fmt: ExportFormat, out: TextIO) -> None:
    if fmt == "jsonl":
        for r in rows:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif fmt == "json":
        json.dump(list(rows), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        first = next(rows, None)
        w = csv.DictWriter(out, fieldnames=[f for f in FIELDS
                                            if f not in ("prompt", "setting", "tool_calls", "tool_reasons")
                                            or (first and f in first)])
        w.writeheader()
        for r in itertools.chain([first] if first else [], rows):
            w.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                        for k, v in r.items()})
