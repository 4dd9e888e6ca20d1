"""Apply a suite's scorers to a run's stored answers. No model is called (the judge aside, whose answers are
cached like any other request), so `rescore` can change scorers freely."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from llamacompare.store.db import Store
from llamacompare.tasks.suite import Suite, Task

ScoreRow = tuple[str, str, str, str, str, int, str, float | None, str | None]


def score_run(store: Store, run_id: str, suite: Suite) -> int:
    """Compute every score of the run and replace the stored ones. Returns the number of score rows."""
    tasks = {t.id: t for t in suite.tasks}
    rows: list[ScoreRow] = []
    logprob_groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in store.results(run_id):
        if r["status"] != "ok":
            continue
        task = tasks.get(r["task_id"])
        if task is None:
            continue
        if task.type == "classify" and r["mode"] == "logprob":
            logprob_groups[(r["task_id"], r["model"])].append(r)
        elif task.type == "classify":
            rows.append(_label_row(r, task))
        else:
            rows.extend(_generate_rows(r, task))
    for (task_id, _), group in logprob_groups.items():
        rows.extend(_logprob_rows(group, tasks[task_id]))
    store.replace_scores(run_id, rows)
    return len(rows)


def _key(r: Any) -> tuple[str, str, str, str, str, int]:
    return (r["run_id"], r["task_id"], r["case_id"], r["model"], r["mode"], r["rep"])


_label_sets: dict[int, Any] = {}


def _labelset(task: Task) -> Any:
    from llamacompare.scoring.labels import LabelSet

    ls = _label_sets.get(id(task))
    if ls is None:
        ls = _label_sets[id(task)] = LabelSet(task.labels or {})
    return ls


def _label_row(r: Any, task: Task) -> ScoreRow:
    from llamacompare.scoring.labels import extract_label

    match = extract_label(r["text"] or "", _labelset(task))
    gold = r["reference"]
    correct = None if gold is None else float(match.label == gold)
    detail = {"label": match.label, "compliant": match.compliant, "gold": gold}
    if match.ambiguous:
        detail["ambiguous"] = True
    if match.negated:
        detail["negated"] = True
    return (*_key(r), "label", correct, json.dumps(detail, ensure_ascii=False))


def _logprob_rows(group: list[Any], task: Task) -> list[ScoreRow]:
    """Batch calibration (Zhou et al. 2023) over this model's answers in the run; raw argmax kept alongside."""
    from llamacompare.scoring.calibration import batch_calibrate, predict

    raw = [json.loads(r["label_logprobs"]) for r in group]
    calibrated = batch_calibrate(raw) if len(raw) > 1 else raw
    preds, raw_preds = predict(calibrated), predict(raw)
    out: list[ScoreRow] = []
    for r, pred, raw_pred, scores in zip(group, preds, raw_preds, raw, strict=True):
        gold = r["reference"]
        correct = None if gold is None else float(pred == gold)
        detail = {"label": pred, "uncalibrated": raw_pred, "gold": gold, "logprobs": scores, "compliant": True}
        out.append((*_key(r), "label", correct, json.dumps(detail, ensure_ascii=False)))
        if gold is not None:
            out.append((*_key(r), "label_uncalibrated", float(raw_pred == gold), None))
    return out


def _generate_rows(r: Any, task: Task) -> list[ScoreRow]:
    from llamacompare.scoring.rouge import length_stats, rouge_scores

    text = r["text"] or ""
    scorers = set(task.scorers or [])
    out: list[ScoreRow] = []
    fields = json.loads(r["input_json"])
    source = "\n".join(v for k, v in fields.items() if k != task.reference and isinstance(v, str))
    if r["reference"] and ("rouge" in scorers or not scorers):
        for name, value in rouge_scores(text, r["reference"]).items():
            out.append((*_key(r), name, value, None))
    for name, value in length_stats(text, source).items():  # cheap, and useful beside any other metric
        out.append((*_key(r), name, value, None))
    return out
