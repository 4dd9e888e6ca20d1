"""`run --until-decided`: every model answers the cases in the same seeded random order, each answer is scored
the moment it arrives, and a model is sent no more cases of a task once the task's race (scoring/sequential.py)
has decided it: worse than another model, or within the margin of every model still in the race.

What is stored does not change: every answer sent is a result row like any other, and a resumed run feeds the
race the answers it already has (in the same order, from the same seed) before it sends anything.

The race decides on the metric the summary reports. For label scores that is calibrated accuracy, and batch
calibration's offsets come from the answers themselves: a race that recalibrated on every case so far would
compare scores that each depend on all the others, and its confidence sequences assume independent cases. So the
offsets are fixed on the first `CALIBRATION_CASES` cases of the shuffled order and the race runs on the cases
after them (sample splitting: the slice that fits the calibration is not used to test; Cox 1975, "A note on
data-splitting for the evaluation of significance levels", Biometrika 62(2)). Given the slice, the later cases
stay exchangeable, so the race's error bound holds unchanged (`tests/scoring/test_race_calibration.py`
simulates it). Content-free calibration's offsets come from one extra prompt, so every case is raced.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from llamacompare.errors import UsageError
from llamacompare.identity import Contender
from llamacompare.scoring.calibration import batch_offsets, content_free_offsets, predict_with
from llamacompare.scoring.labels import LabelSet, extract_label
from llamacompare.scoring.rouge import rouge_scores
from llamacompare.scoring.sequential import Decision, Race
from llamacompare.tasks.case import Case
from llamacompare.tasks.schema import Task

__all__ = ["CALIBRATION_CASES", "Decider", "StopNote", "score_answer"]

#: the first cases of a race on batch-calibrated label scores: they fix the calibration and are not raced on
CALIBRATION_CASES = 50


def score_answer(task: Task, mode: str, text: str | None, reference: str | None,
                 label_logprobs: dict[str, float] | None = None, offsets: dict[str, float] | None = None
                 ) -> float | None:
    """The task's primary metric for one answer: accuracy of the parsed label (generate), of the label the
    calibrated label scores pick (logprob: with `offsets`; without, the highest raw score), or ROUGE-L."""
    if reference is None or text is None:
        return None
    if task.type == "classify":
        if mode == "logprob":
            if offsets and label_logprobs:
                return float(predict_with(label_logprobs, offsets) == reference)
            return float(text == reference)
        return float(extract_label(text, LabelSet(task.labels or {})).label == reference)

    return rouge_scores(text, reference)["rougeL"]


def check_decidable(tasks: Iterable[Task]) -> None:
    """A task whose primary metric is known only after the run (a judge) cannot be raced, nor yet one with prompt
    variants (its races would be between model x prompt pairs)."""
    for task in tasks:
        if task.prompts or task.settings:
            what = "prompts: (variants)" if task.prompts else "settings:"
            raise UsageError(f"task {task.id}: --until-decided races models under one prompt and setting, and this "
                             f"task has {what}; run it without --until-decided")
        if task.type == "tool_call":  # its score needs the answer's calls, which the race is not given yet
            raise UsageError(f"task {task.id}: --until-decided does not race tool_call tasks yet; run it without "
                             "--until-decided")
        scorers = set(task.scorers or [])
        if task.type == "generate" and ({"judge", "pairwise"} & scorers or "rouge" not in scorers):
            raise UsageError(f"task {task.id}: --until-decided needs a metric scored as answers arrive (accuracy "
                             "or ROUGE against a reference); this task is scored by "
                             f"{', '.join(sorted(scorers)) or 'length'}. Run it without --until-decided")


@dataclass(slots=True)
class StopNote:
    """Why one contender stopped asking a task's cases: its race's decision (against another contender), the
    requests that saved, and `tied`: the contenders the race could not tell apart before the cases ran out (this
    one among them), or () where it decided. Facts only: `formatting.decision_line` words them."""

    task: str
    contender: Contender
    decision: Decision[Contender]
    saved: int
    tied: tuple[Contender, ...] = ()
    answered: int = 0  # tied: the most cases any of them answered, which their shared line says


@dataclass(slots=True)
class _Answer:
    text: str | None
    reference: str | None
    label_logprobs: dict[str, float] | None


@dataclass(slots=True)
class _Calibration:
    """One contender's calibration in a race on label scores: its offsets once known, the label scores of the
    slice that fixes them (batch), and the cases that wait for them."""

    how: str  # batch | content_free
    slice_size: int
    offsets: dict[str, float] | None = None
    fitted: dict[int, dict[str, float] | None] = field(default_factory=dict)
    waiting: dict[int, list[_Answer]] = field(default_factory=dict)


def calibration_note(task: Task, mode: str, n_cases: int) -> str | None:
    """How the race on a task's label scores reads them, in words (None: as the summary does, nothing to say)."""
    if mode != "logprob" or task.type != "classify" or task.calibration == "none":
        return None
    if task.calibration == "content_free":
        return "raced on calibrated accuracy (content-free calibration), as the summary reports it"
    k = min(CALIBRATION_CASES, n_cases)
    return (f"raced on calibrated accuracy, its calibration fixed on the first {k} cases of the order (not raced on; "
            "the summary calibrates on every case)")


class Decider:
    """The races of one run, one per task and mode (a model's generated answers race the others' generated
    answers, its label scores theirs), and the shared case order of each task."""

    def __init__(self, tasks: list[Task], contenders: dict[tuple[str, str], list[Contender]], *, repeats: int,
                 seed: int, margin: float, alpha: float = 0.05, batch: int = 10) -> None:
        check_decidable(tasks)
        self.tasks = {t.id: t for t in tasks}
        self.repeats = repeats
        self.seed = seed
        self.margin = margin
        self.races = {key: Race(names, alpha=alpha, margin=margin, batch=batch) for key, names in contenders.items()}
        self._positions: dict[str, dict[str, int]] = {}
        self.cases: dict[str, list[tuple[int, Case]]] = {}
        self._pending: dict[tuple[str, Contender, int], list[_Answer]] = {}
        self._calibrations: dict[tuple[str, Contender], _Calibration] = {}
        self.saved: dict[tuple[str, Contender], int] = {}  # (task, contender) -> requests not sent: it was decided
        self._news: asyncio.Future[None] | None = None  # resolved whenever a race hears something
        self._aborted = False

    def order(self, task: Task, cases: list[tuple[int, Case]]) -> list[tuple[int, Case]]:
        """The task's cases in this run's order: shuffled by the seed, the same for every model and on resume."""
        shuffled = list(cases)
        random.Random(f"{self.seed}:{task.id}").shuffle(shuffled)
        self._positions[task.id] = {case.id: i for i, (_, case) in enumerate(shuffled)}
        self.cases[task.id] = shuffled
        if task.type == "classify" and task.calibration != "none" and (task.id, "logprob") in self.races:
            size = min(CALIBRATION_CASES, len(shuffled)) if task.calibration == "batch" else 0
            for name in self.races[(task.id, "logprob")].models:
                self._calibrations[(task.id, name)] = _Calibration(task.calibration, size)
        return shuffled

    def notes(self) -> list[str]:
        """How each race on label scores reads them (one line per task that has such a race)."""
        out = []
        for task_id, mode in self.races:
            note = calibration_note(self.tasks[task_id], mode, len(self.cases.get(task_id, ())))
            if note:
                out.append(f"{task_id}: {note}" if len(self.tasks) > 1 else note)
        return out

    def stopped(self, task_id: str, racing: Iterable[Contender]) -> bool:
        """Whether every contender of a model on the task (one per mode) is decided."""
        return all(c in self.races[(task_id, c.mode)].decisions for c in racing)

    def record(self, task_id: str, case_id: str, contender: Contender, text: str | None,
               reference: str | None, label_logprobs: dict[str, float] | None = None) -> None:
        """One answer (one repeat); the race hears the case's mean once every repeat is in, and, for calibrated
        label scores, once the contender's calibration is known."""
        mode = contender.mode
        position = self._positions.get(task_id, {}).get(case_id)
        if position is None:
            return  # not a raced case (the content-free calibration prompt: see `calibrate`)
        key = (task_id, contender, position)
        got = self._pending.setdefault(key, [])
        got.append(_Answer(text, reference, label_logprobs))
        if len(got) < self.repeats:
            return
        del self._pending[key]
        calibration = self._calibrations.get((task_id, contender)) if mode == "logprob" else None
        if calibration is None:
            self._add(task_id, mode, contender, position, got, None)
        elif position < calibration.slice_size:
            calibration.fitted[position] = next((a.label_logprobs for a in got if a.label_logprobs), None)
            self.races[(task_id, mode)].add(contender, position, None)  # fits the calibration, not raced on
            if len(calibration.fitted) == calibration.slice_size:
                scores = [s for s in calibration.fitted.values() if s]
                self._calibrated(task_id, contender, calibration, batch_offsets(scores) if scores else {})
        elif calibration.offsets is None:
            calibration.waiting[position] = got
        else:
            self._add(task_id, mode, contender, position, got, calibration.offsets)
        self.wake()

    def calibrate(self, task_id: str, contender: Contender, label_logprobs: dict[str, float] | None) -> None:
        """The content-free prompt's label scores: the contender's offsets, for every case of its race."""
        calibration = self._calibrations.get((task_id, contender))
        if calibration is None or calibration.how != "content_free" or calibration.offsets is not None:
            return
        self._calibrated(task_id, contender, calibration,
                         content_free_offsets(label_logprobs) if label_logprobs else {})
        self.wake()

    def _calibrated(self, task_id: str, contender: Contender, calibration: _Calibration, offsets: dict[str, float]
                    ) -> None:
        calibration.offsets = offsets
        for position in sorted(calibration.waiting):
            self._add(task_id, "logprob", contender, position, calibration.waiting[position], offsets)
        calibration.waiting.clear()

    def _add(self, task_id: str, mode: str, contender: Contender, position: int, answers: list[_Answer],
             offsets: dict[str, float] | None) -> None:
        task = self.tasks[task_id]
        values = [score_answer(task, mode, a.text, a.reference, a.label_logprobs, offsets) for a in answers]
        known = [v for v in values if v is not None]
        self.races[(task_id, mode)].add(contender, position, sum(known) / len(known) if known else None)

    def abort(self) -> None:
        """A model failed for good (the run stops): nobody waits for it any more."""
        self._aborted = True
        self.wake()

    def wake(self) -> None:
        if self._news is not None and not self._news.done():
            self._news.set_result(None)
        self._news = None

    async def wait_turn(self, task_id: str, case_id: str, lead: int) -> None:
        """Hold back a model running ahead: its case waits while it lies `lead` or more positions past what the
        slowest model still racing has answered. The pairs then grow together, and a fast model is decided
        before it has answered everything the slow one has not."""
        position = self._positions.get(task_id, {}).get(case_id)
        if position is None:
            return
        races = [r for (t, _), r in self.races.items() if t == task_id]
        while not self._aborted:
            slowest = min((r.frontier(m) for r in races for m in r.active), default=None)
            if slowest is None or position < slowest + lead:
                return
            if self._news is None:
                self._news = asyncio.get_running_loop().create_future()
            await self._news

    def finish(self) -> list[StopNote]:
        """Why each contender stopped, one note each (those that could not be told apart say so together)."""
        notes = []
        for (task_id, _), race in self.races.items():
            race.finish()
            if len(race.models) < 2:
                continue
            decisions = race.decisions
            # not a verdict: the race's anytime-valid test needs more cases than the summary's fixed-n one, which
            # may still tell the models apart on all of them
            open_ = all(decisions[m].verdict == "undecided" for m in race.models)
            n = max(decisions[m].n for m in race.models)
            for m in race.models:
                notes.append(StopNote(task_id, m, decisions[m], self.saved.get((task_id, m), 0),
                                      tuple(race.models) if open_ else (), n if open_ else 0))
        return notes

    @property
    def total_saved(self) -> int:
        return sum(self.saved.values())
