"""`run --until-decided`: every model answers the cases in the same seeded random order, each answer is scored
the moment it arrives, and a model is sent no more cases of a task once the task's race (scoring/sequential.py)
has decided it: worse than another model, or within the margin of every model still in the race.

What is stored does not change: every answer sent is a result row like any other, and a resumed run feeds the
race the answers it already has (in the same order, from the same seed) before it sends anything.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from dataclasses import dataclass

from llamacompare.errors import UsageError
from llamacompare.scoring.labels import LabelSet, extract_label
from llamacompare.scoring.sequential import Race
from llamacompare.tasks.suite import Case, Task

__all__ = ["Decider", "StopNote", "score_answer"]


def score_answer(task: Task, mode: str, text: str | None, reference: str | None) -> float | None:
    """The task's primary metric for one answer, as far as it can be known when the answer arrives: accuracy of
    the parsed label (generate), of the highest-scoring label (logprob, before calibration), or ROUGE-L."""
    if reference is None or text is None:
        return None
    if task.type == "classify":
        if mode == "logprob":
            return float(text == reference)
        return float(extract_label(text, LabelSet(task.labels or {})).label == reference)
    from llamacompare.scoring.rouge import rouge_scores

    return rouge_scores(text, reference)["rougeL"]


def check_decidable(tasks: Iterable[Task]) -> None:
    """A task whose primary metric is known only after the run (a judge) cannot be raced, nor yet one with prompt
    variants (its races would be between model x prompt pairs)."""
    for task in tasks:
        if task.prompts:
            raise UsageError(f"task {task.id}: --until-decided races models under one prompt, and this task has "
                             "prompts: (variants); run it without --until-decided")
        scorers = set(task.scorers or [])
        if task.type == "generate" and ({"judge", "pairwise"} & scorers or "rouge" not in scorers):
            raise UsageError(f"task {task.id}: --until-decided needs a metric scored as answers arrive (accuracy "
                             "or ROUGE against a reference); this task is scored by "
                             f"{', '.join(sorted(scorers)) or 'length'}. Run it without --until-decided")


@dataclass(slots=True)
class StopNote:
    task: str
    model: str  # the contender: the model, or model@mode
    verdict: str  # best | within margin | worse | undecided | tied
    cases: int
    saved: int  # its requests not sent
    line: str


class Decider:
    """The races of one run, one per task and mode (a model's generated answers race the others' generated
    answers, its label scores theirs), and the shared case order of each task."""

    def __init__(self, tasks: list[Task], contenders: dict[tuple[str, str], list[str]], *, repeats: int,
                 seed: int, margin: float, alpha: float = 0.05, batch: int = 10) -> None:
        check_decidable(tasks)
        self.tasks = {t.id: t for t in tasks}
        self.repeats = repeats
        self.seed = seed
        self.margin = margin
        self.races = {key: Race(names, alpha=alpha, margin=margin, batch=batch) for key, names in contenders.items()}
        self._positions: dict[str, dict[str, int]] = {}
        self.cases: dict[str, list[tuple[int, Case]]] = {}
        self._pending: dict[tuple[str, str, int], list[float | None]] = {}
        self.saved: dict[tuple[str, str], int] = {}  # (task, contender) -> requests not sent: it was decided
        self._news: asyncio.Future[None] | None = None  # resolved whenever a race hears something
        self._aborted = False

    def order(self, task: Task, cases: list[tuple[int, Case]]) -> list[tuple[int, Case]]:
        """The task's cases in this run's order: shuffled by the seed, the same for every model and on resume."""
        shuffled = list(cases)
        random.Random(f"{self.seed}:{task.id}").shuffle(shuffled)
        self._positions[task.id] = {case.id: i for i, (_, case) in enumerate(shuffled)}
        self.cases[task.id] = shuffled
        return shuffled

    def stopped(self, task_id: str, racing: Iterable[tuple[str, str]]) -> bool:
        """Whether every (mode, contender) of a model on the task is decided."""
        return all(c in self.races[(task_id, mode)].decisions for mode, c in racing)

    def record(self, task_id: str, case_id: str, contender: str, mode: str, text: str | None,
               reference: str | None) -> None:
        """One answer (one repeat); the race hears the case's mean once every repeat is in."""
        position = self._positions.get(task_id, {}).get(case_id)
        if position is None:
            return  # not a raced case (the content-free calibration prompt)
        value = score_answer(self.tasks[task_id], mode, text, reference)
        key = (task_id, contender, position)
        got = self._pending.setdefault(key, [])
        got.append(value)
        if len(got) < self.repeats:
            return
        del self._pending[key]
        known = [v for v in got if v is not None]
        self.races[(task_id, mode)].add(contender, position, sum(known) / len(known) if known else None)
        self.wake()

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
        """Why each model stopped, one note per contender (models that could not be told apart share a line)."""
        notes = []
        for (task_id, _), race in self.races.items():
            race.finish()
            if len(race.models) < 2:
                continue
            decisions = race.decisions
            tied = all(decisions[m].verdict == "undecided" for m in race.models)
            n = max(decisions[m].n for m in race.models)
            for m in race.models:
                d = decisions[m]
                line = (f"{' and '.join(race.models)} tied: not told apart after {n:,} cases" if tied
                        else d.line(m, self.margin))
                notes.append(StopNote(task_id, m, "tied" if tied else d.verdict, d.n,
                                      self.saved.get((task_id, m), 0), line))
        return notes

    @property
    def total_saved(self) -> int:
        return sum(self.saved.values())
