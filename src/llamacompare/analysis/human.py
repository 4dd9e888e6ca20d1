"""Human labels: the file the HTML report exports, checked against the run before anything is stored, and what
the labels give the analysis (the `human` metric, and the marks set beside a judge's verdicts).

The file (format "llamacompare-labels", version 1) is one JSON object:

    {"format": "llamacompare-labels", "version": 1, "run_id": "...", "exported_at": "...",
     "labels": [{"run_id": "...", "task": "...", "case": "...", "model": "...", "mode": "generate",
                 "repeat": 0, "label": "correct", "reviewer": "ayse", "timestamp": "2026-12-01T18:00:00Z"},
                {..., "model": "A's model", "versus": "B's model", "label": "a_better"}]}

`label` is correct | wrong for one answer, or a_better | b_better | tie for two answers to the same case (A is
`model`, B is `versus`). `reviewer` may be left out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from llamacompare.errors import UsageError
from llamacompare.formatting import variant_label
from llamacompare.identity import AnswerKey
from llamacompare.store.db import Store
from llamacompare.store.rows import HumanLabelRow, ScoreRow

FORMAT = "llamacompare-labels"
ANSWER_LABELS = ("correct", "wrong")
PAIR_LABELS = ("a_better", "b_better", "tie")
_PREFERENCE = {"a_better": "A", "b_better": "B", "tie": "tie"}
_SWAP = {"A": "B", "B": "A", "tie": "tie"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class LabelEntry(_Strict):
    run_id: str
    task: str
    case: str
    model: str
    mode: str = "generate"
    repeat: int = Field(0, ge=0)
    versus: str | None = None
    label: Literal["correct", "wrong", "a_better", "b_better", "tie"]
    reviewer: str | None = None
    timestamp: str

    @field_validator("timestamp")
    @classmethod
    def _iso(cls, v: str) -> str:
        try:
            datetime.fromisoformat(v)
        except ValueError:
            raise ValueError(f"{v!r} is not an ISO 8601 time (e.g. 2026-12-01T18:00:00Z)") from None
        return v


class LabelFile(_Strict):
    format: Literal["llamacompare-labels"]
    version: Literal[1]
    run_id: str
    exported_at: str | None = None
    labels: list[LabelEntry]


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def read_labels(path: Path, store: Store, run_id: str) -> list[HumanLabelRow]:
    """The labels of `path`, each checked against run `run_id`'s stored answers. Any problem is a UsageError
    naming the file and the field; nothing is stored here."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the labels file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text; export the labels from the HTML report again") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); export the labels from the HTML "
                         "report again") from None
    try:
        parsed = LabelFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        raise UsageError(f"{path}: {_where(tuple(err['loc']))}: {msg}") from None
    answered = answers_by_name(store, run_id)
    tasks = {k[0] for k in answered}
    rows = []
    for i, e in enumerate(parsed.labels):
        where = f"{path}: labels[{i}]"
        if e.run_id != run_id or parsed.run_id != run_id:
            bad = e.run_id if e.run_id != run_id else parsed.run_id
            field = "run_id" if e.run_id != run_id else "run_id (top level)"
            raise UsageError(f"{where}.{field}: labels of run {bad!r}, not of run {run_id}; rescore that run")
        if e.task not in tasks:
            raise UsageError(f"{where}.task: run {run_id} has no task {e.task!r} (its tasks: "
                             f"{', '.join(sorted(tasks))})")
        pairwise = e.label in PAIR_LABELS
        if pairwise and not e.versus:
            raise UsageError(f"{where}.versus: a {e.label} label compares two answers; name the other model")
        if not pairwise and e.versus:
            raise UsageError(f"{where}.versus: a {e.label} label is about one answer; leave versus out")
        for field, model in (("model", e.model), ("versus", e.versus)):
            if model is not None and (e.task, e.case, model, e.mode, e.repeat) not in answered:
                raise UsageError(f"{where}.{field}: run {run_id} has no answer of {model!r} to task {e.task!r}, "
                                 f"case {e.case!r} (mode {e.mode}, repeat {e.repeat})")
        if e.versus == e.model:
            raise UsageError(f"{where}.versus: compares {e.model!r} with itself")
        rows.append(HumanLabelRow(run_id, e.task, e.case, e.model, e.mode, e.repeat, e.versus or "", e.label,
                                  e.reviewer or "", e.timestamp))
    return rows


def human_score_rows(labels: Iterable[HumanLabelRow], answers: Mapping[HumanKey, AnswerKey]) -> Iterator[ScoreRow]:
    """The `human` metric: per answer, the share of its reviewers who marked it correct. `answers`: the run's
    answers by the names labels give them (`answers_by_name`); a label of any other answer is left out."""
    marks: dict[tuple[str, AnswerKey], list[float]] = defaultdict(list)
    for label in labels:
        answer = answers.get(label.answer)
        if label.label in ANSWER_LABELS and answer is not None:
            marks[(label.run_id, answer)].append(1.0 if label.label == "correct" else 0.0)
    for (run, answer), values in marks.items():
        yield ScoreRow.of(run, answer, "human", sum(values) / len(values), json.dumps({"reviewers": len(values)}))


#: how a label names an answer: (task, case, the answer's name in the report, mode, repeat)
HumanKey = tuple[str, str, str, str, int]


def human_key(answer: AnswerKey) -> HumanKey:
    """The name human labels give an answer: made from the answer (the report's `MODEL · PROMPT`), never parsed."""
    return (answer.task, answer.case, variant_label(answer.model, answer.prompt, setting=answer.setting),
            answer.mode, answer.repeat)


def answers_by_name(store: Store, run_id: str) -> dict[HumanKey, AnswerKey]:
    """The run's answers by the names its labels give them."""
    return {human_key(r.answer): r.answer for r in store.results(run_id) if r.status == "ok"}


def unanimous_answer_labels(labels: Sequence[HumanLabelRow]) -> dict[tuple[str, str, str, str, int], str]:
    """(task, case, model, mode, repeat) -> correct | wrong, where every reviewer of that answer agrees."""
    marks: dict[tuple[str, str, str, str, int], set[str]] = defaultdict(set)
    for label in labels:
        if label.label in ANSWER_LABELS:
            marks[label.answer].add(label.label)
    return {k: next(iter(v)) for k, v in marks.items() if len(v) == 1}


def pair_labels(labels: Sequence[HumanLabelRow]) -> dict[tuple[str, str, str], str]:
    """(case, a, b) with a < b -> A | B | tie (A meaning model a is better), for the first answers (repeat 0)
    of one task's labels, where every reviewer of that pair agrees."""
    marks: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for label in labels:
        if label.label not in PAIR_LABELS or label.rep != 0:
            continue
        pref = _PREFERENCE[label.label]
        if label.model < label.versus:
            marks[(label.case_id, label.model, label.versus)].add(pref)
        else:
            marks[(label.case_id, label.versus, label.model)].add(_SWAP[pref])
    return {k: next(iter(v)) for k, v in marks.items() if len(v) == 1}
