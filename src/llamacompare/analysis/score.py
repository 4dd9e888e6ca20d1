"""Apply a suite's scorers to a run's stored answers. No model is called (the judge aside, whose answers are
cached like any other request), so `rescore` can change scorers freely."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llamacompare.analysis.human import answers_by_name, human_score_rows
from llamacompare.analysis.judge import judge_score_rows
from llamacompare.identity import AnswerKey
from llamacompare.scorers import Answer, Scorer, Value, running
from llamacompare.scoring.calibration import batch_calibrate, content_free_calibrate, predict
from llamacompare.scoring.checks import field_score, run_check
from llamacompare.scoring.labels import LabelSet, extract_label
from llamacompare.scoring.repetition import is_looping, repetition
from llamacompare.store.db import Store
from llamacompare.store.rows import ResultRow, ScoreRow
from llamacompare.tasks.case import Case
from llamacompare.tasks.checks import JsonSchemaCheck, check_list, resolve
from llamacompare.tasks.schema import Suite, Task
from llamacompare.toolcall import load_calls, load_tools


def score_run(store: Store, run_id: str, suite: Suite, *, base_dir: Path | None = None) -> int:
    """Compute every score of the run and replace the stored ones. Returns the number of score rows.

    Streams: rows go to SQLite as they are computed; only the compact log-probabilities of logprob-mode
    answers wait for the end, since batch calibration needs the run's mean per label first.
    """
    count = 0

    def rows() -> Iterator[ScoreRow]:
        nonlocal count
        for row in score_rows(store, run_id, suite, base_dir=base_dir):
            count += 1
            yield row

    store.replace_scores(run_id, rows())
    return count


def scores_so_far(store: Store, run_id: str, suite: Suite) -> list[ScoreRow]:
    """The scores of what a run has answered so far, computed without storing them: for a run that is still
    going (or was killed), whose stored scores are written only when it ends."""
    return list(score_rows(store, run_id, suite))


def score_rows(store: Store, run_id: str, suite: Suite, *, base_dir: Path | None = None) -> Iterator[ScoreRow]:
    """Every score of the run's stored answers (and stored judge verdicts), as rows of the scores table.
    `base_dir`: the suite file's folder, where the files its checks name are (None: checks that need one are not
    run)."""
    tasks = {t.id: t for t in suite.tasks}
    label_sets = {t.id: LabelSet(t.labels or {}) for t in suite.tasks if t.type == "classify"}
    measured = {t.id: [s for s in running(t.type, t.scorers or ()) if s.score] for t in suite.tasks}
    # calibrated per task, model and prompt variant: each variant is its own prompt to calibrate for
    logprob_groups: dict[tuple[str, str, str, str], list[tuple[AnswerKey, str | None, dict[str, float]]]] = {}
    content_free: dict[tuple[str, ...], dict[str, float]] = {}
    checker = _Checker(base_dir)
    for r in store.results(run_id):
        if r.status != "ok":
            continue
        task = tasks.get(r.task_id)
        if task is None:
            continue
        if r.mode != "calibration" and r.text is not None:
            yield from checker.rows(r, task)
        if r.mode == "calibration":
            content_free[(r.task_id, r.model, r.prompt, r.setting)] = json.loads(r.label_logprobs or "{}")
        elif task.type == "classify" and r.mode == "logprob":
            group = logprob_groups.setdefault((r.task_id, r.model, r.prompt, r.setting), [])
            group.append((r.answer, r.reference, json.loads(r.label_logprobs or "{}")))
        elif task.type == "classify":
            yield _label_row(r, label_sets[task.id])
            yield from _answer_rows(r, task, measured[task.id])
        else:
            yield from _answer_rows(r, task, measured[task.id])
    for (task_id, *variant), group in logprob_groups.items():
        how = tasks[task_id].calibration
        yield from _logprob_rows(run_id, group, how, content_free.get((task_id, *variant)))

    yield from list(judge_score_rows(store, run_id, suite))
    labels = store.human_labels(run_id)
    if labels:
        yield from human_score_rows(labels, answers_by_name(store, run_id))


def _label_row(r: ResultRow, labels: LabelSet) -> ScoreRow:
    match = extract_label(r.text or "", labels)
    gold = r.reference
    correct = None if gold is None else float(match.label == gold)
    detail = {"label": match.label, "compliant": match.compliant, "gold": gold}
    if match.ambiguous:
        detail["ambiguous"] = True
    if match.negated:
        detail["negated"] = True
    detail.update(_stopped(r))
    return ScoreRow.of(r.run_id, r.answer, "label", correct, json.dumps(detail, ensure_ascii=False))


def _stopped(r: ResultRow, rep: float | None = None) -> dict[str, Any]:
    """{"stopped": True, "max_tokens": N} for an answer cut at max_tokens (N as its stored request asked), else {}:
    what the summary counts to say why answers have no label or end mid-sentence. `rep`: the answer's repetition
    where the caller has it."""

    if r.finish_reason != "length":
        return {}
    params = (r.request or {}).get("params") or {}
    max_tokens = params.get("max_tokens")
    out = {"stopped": True, "max_tokens": max_tokens if isinstance(max_tokens, int) else None}
    # a looping answer would loop on to any limit: the advice is not "raise max_tokens"
    return {**out, "loops": True} if is_looping(repetition(r.text or "") if rep is None else rep) else out


def _logprob_rows(
    run_id: str, group: list[tuple[AnswerKey, str | None, dict[str, float]]], how: str, cf: dict[str, float] | None
) -> list[ScoreRow]:
    """Calibrated predictions (batch over this model's answers in the run, or against the content-free input);
    the raw argmax is kept alongside."""
    raw = [scores for _, _, scores in group]
    if how == "content_free" and cf is not None:
        calibrated = content_free_calibrate(raw, cf)
    elif how == "batch" and len(raw) > 1:
        calibrated = batch_calibrate(raw)
    else:
        calibrated = raw
    preds, raw_preds = predict(calibrated), predict(raw)
    out: list[ScoreRow] = []
    for (key, gold, scores), cal, pred, raw_pred in zip(group, calibrated, preds, raw_preds, strict=True):
        correct = None if gold is None else float(pred == gold)
        detail = {"label": pred, "uncalibrated": raw_pred, "gold": gold, "logprobs": scores, "calibrated": cal,
                  "compliant": True}
        out.append(ScoreRow.of(run_id, key, "label", correct, json.dumps(detail, ensure_ascii=False)))
        if gold is not None:
            out.append(ScoreRow.of(run_id, key, "label_uncalibrated", float(raw_pred == gold), None))
    return out


def _answer_rows(r: ResultRow, task: Task, scorers: list[Scorer]) -> list[ScoreRow]:
    """The values of the registered scorers computed from the answer alone (rouge, length, repetition, a
    plugin's); `words` carries why the answer stopped, which the summary counts."""
    if not scorers:
        return []
    fields = json.loads(r.input_json)
    answer = Answer(r.text or "", r.reference,
                    {k: v for k, v in fields.items() if k not in (task.reference, "checks") and isinstance(v, str)},
                    calls=load_calls(r.tool_calls), tools=load_tools((r.request or {}).get("tools")),
                    fold=task.argument_match == "fold")
    values: dict[str, float | None] = {}
    reasons: dict[str, str] = {}
    for s in scorers:
        if s.score is not None and (r.reference or not s.needs_reference):
            for name, v in s.score(answer).items():
                if isinstance(v, Value):
                    values[name] = v.value
                    if v.reason:
                        reasons[name] = v.reason
                else:
                    values[name] = v
    stopped = _stopped(r, values.get("repetition")) if "words" in values else {}

    def detail(name: str) -> str | None:
        if name == "words" and stopped:
            return json.dumps(stopped)
        return json.dumps({"reason": reasons[name]}, ensure_ascii=False) if name in reasons else None

    return [ScoreRow.of(r.run_id, r.answer, name, value, detail(name)) for name, value in values.items()]


class _Checker:
    """The task's and each case's checks on an answer: one ScoreRow per check (`check:NAME`, its reason in the
    detail), and `json_fields` where a json_schema check meets a JSON reference. Checks are resolved once."""

    def __init__(self, base_dir: Path | None):
        self.base_dir = base_dir  # None: a stored run's suite, whose files are not at hand
        self.resolved: dict[str, list[Any]] = {}

    def _resolve(self, key: str, checks: list[Any], on_case: bool) -> list[Any]:
        if key not in self.resolved:
            self.resolved[key] = [resolve(c, self.base_dir, on_case=on_case) for c in checks]
        return self.resolved[key]

    def rows(self, r: ResultRow, task: Task) -> list[ScoreRow]:

        if not task.checks and '"checks"' not in r.input_json:
            return []  # most answers: nothing to parse
        fields = json.loads(r.input_json)
        case_checks = fields.pop("checks", None)
        checks = self._resolve("task:" + task.id, list(task.checks or []), False)
        if case_checks:
            checks = checks + self._resolve(case_checks, check_list(case_checks), True)
        if not checks:
            return []
        case = Case(r.case_id, fields, r.reference)
        out = []
        failed: list[str] = []
        for resolved in checks:
            result = run_check(resolved, r.text or "", case, task)
            detail = json.dumps({"reason": result.reason}, ensure_ascii=False) if result.reason else None
            out.append(ScoreRow.of(r.run_id, r.answer, resolved.metric, result.value, detail))
            if result.value is not None and result.value < 1.0:
                failed.append(resolved.metric.removeprefix("check:"))
        if any(row.value is not None for row in out):
            detail = json.dumps({"reason": "failed: " + ", ".join(failed)}, ensure_ascii=False) if failed else None
            out.append(ScoreRow.of(r.run_id, r.answer, "all_checks", 0.0 if failed else 1.0, detail))
        if any(isinstance(c.check, JsonSchemaCheck) for c in checks):
            fs = field_score(r.text or "", r.reference)
            if fs is not None:
                detail = json.dumps({"reason": fs.reason}, ensure_ascii=False) if fs.reason else None
                out.append(ScoreRow.of(r.run_id, r.answer, "json_fields", fs.value, detail))
        return out
