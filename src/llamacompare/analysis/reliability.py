"""Judge reliability for a stored run: reads each task's stored verdicts (no model is called) and the human
labels, and hands them to the pure statistics of `scoring/judge_reliability.py`."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from llamacompare.analysis.contract import Agreement, Correlation, JudgeReliability, SelfPreference, Share
from llamacompare.analysis.human import human_key, pair_labels, unanimous_answer_labels
from llamacompare.analysis.judge import _pair_items, is_judged, judge_items
from llamacompare.formatting import variant_label
from llamacompare.identity import AnswerKey, Contender
from llamacompare.models.registry import resolve
from llamacompare.scoring.diagnostics import excerpt
from llamacompare.scoring.judge import Preference, asked_verdict, combine_swapped, parse_preference, parse_score
from llamacompare.scoring.judge_reliability import (
    cohen_kappa,
    first_position_share,
    flip_rate,
    longer_wins,
    self_preference,
    spearman,
)
from llamacompare.scoring.labels import words
from llamacompare.store.db import Store
from llamacompare.store.rows import HumanLabelRow
from llamacompare.tasks.schema import Task

# A rubric verdict read as right or wrong, to set beside a person's mark: a score above the scale's midpoint
# (4 or 5 of 1-5) is "correct".
SCORE_SCALE = (1, 5)
_VALUE = {"A": 1.0, "tie": 0.5, "B": 0.0}


def _clean(x: float) -> float | None:
    return None if x is None or math.isnan(x) else x


def _share(s: Any) -> Share | None:
    return Share(value=_clean(s.value), lo=_clean(s.lo), hi=_clean(s.hi), k=s.k, n=s.n) if s.n else None


def _correlation(c: Any, against: str) -> Correlation | None:
    if c.n < 4 or math.isnan(c.rho):
        return None
    return Correlation(rho=c.rho, lo=_clean(c.lo), hi=_clean(c.hi), p_value=_clean(c.p_value), n=c.n,
                       against=against)


def _agreement(k: Any, categories: list[str]) -> Agreement | None:
    if k.n == 0:
        return None
    return Agreement(kappa=_clean(k.kappa), lo=_clean(k.lo), hi=_clean(k.hi), observed=_clean(k.observed), n=k.n,
                     categories=categories)


def _self_preference(model: str, p: Any) -> SelfPreference | None:
    if p.n == 0:
        return None
    return SelfPreference(model=model, own=_clean(p.own), others=_clean(p.others), diff=_clean(p.diff),
                          lo=_clean(p.lo), hi=_clean(p.hi), n=p.n)


def task_judges(store: Store, run_id: str, task: Task, labels: Sequence[HumanLabelRow] = ()) -> list[JudgeReliability]:
    """One JudgeReliability per judging scorer of `task` that has verdicts stored (none for other tasks)."""

    if not is_judged(task):
        return []
    try:
        _judge_name(task)
    except Exception:  # noqa: BLE001 - a judge whose provider is gone must not break showing an old run
        return []
    out = []
    scorers = set(task.scorers or [])
    mine = [label for label in labels if label.task_id == task.id]
    if "judge" in scorers and (r := _rubric(store, run_id, task, mine)) is not None:
        out.append(r)
    if "pairwise" in scorers and (p := _pairwise(store, run_id, task, mine)) is not None:
        out.append(p)
    return out


class _Unparsed:
    """Judge answers with no verdict: how many, how many of them were cut at the judge's max_tokens (a verdict line
    comes last), and the first two (shortened) with the verdict line asked for."""

    def __init__(self, max_tokens: int) -> None:
        self.count = 0
        self.stopped = 0
        self.max_tokens = max_tokens
        self.examples: list[str] = []
        self.asked_for: str | None = None

    def add(self, text: str, prompt: str, finish_reason: str | None) -> None:

        self.count += 1
        self.stopped += finish_reason == "length"
        if self.asked_for is None:
            self.asked_for = asked_verdict(prompt, SCORE_SCALE)
        shown = excerpt(text)  # "" for a blank answer
        if len(self.examples) < 2 and shown not in self.examples:
            self.examples.append(shown)

    def fields(self) -> dict[str, Any]:
        return {"unparsed": self.count, "asked_for": self.asked_for, "unparsed_examples": self.examples,
                "unparsed_stopped": self.stopped, "max_tokens": self.max_tokens}


def _judge_name(task: Task) -> str:
    assert task.judge is not None
    return resolve(task.judge.model).name


def _rubric(store: Store, run_id: str, task: Task, labels: list[HumanLabelRow]) -> JudgeReliability | None:

    judge = _judge_name(task)
    scores: dict[AnswerKey, float] = {}
    lengths: list[float] = []
    values: list[float] = []
    assert task.judge is not None
    unparsed = _Unparsed(task.judge.max_tokens)
    for r, prompt, key in judge_items(store, run_id, task):
        hit = store.cached_response(key)
        if hit is None:
            continue
        score = parse_score(hit.text or "", SCORE_SCALE)
        if score is None:
            unparsed.add(hit.text or "", prompt, hit.finish_reason)
            continue
        scores[r.answer] = score
        lengths.append(len(words(r.text or "")))
        values.append(score)
    if not scores and not unparsed.count:
        return None
    length = _correlation(spearman(lengths, values), "answer length")
    preference = None
    if any(k.model == judge for k in scores):  # under any prompt
        own: dict[str, list[float]] = defaultdict(list)
        others: dict[str, list[float]] = defaultdict(list)
        for k, score in scores.items():
            (own if k.model == judge else others)[k.case].append(score)
        preference = _self_preference(judge, self_preference({c: sum(v) / len(v) for c, v in own.items()}, others))
    human = None
    marked = unanimous_answer_labels(labels)
    both = [(marked[h], "correct" if s > sum(SCORE_SCALE) / 2 else "wrong") for k, s in scores.items()
            if (h := human_key(k)) in marked]
    if both:
        human = _agreement(cohen_kappa([h for h, _ in both], [j for _, j in both]), ["correct", "wrong"])
    return JudgeReliability(judge=judge, scorer="judge", verdicts=len(scores), length=length,
                            self_preference=preference, human=human, **unparsed.fields())


def _pairwise(store: Store, run_id: str, task: Task, labels: list[HumanLabelRow]) -> JudgeReliability | None:

    judge = _judge_name(task)
    verdicts: dict[tuple[str, Contender, Contender], Preference] = {}
    assert task.judge is not None
    unparsed = _Unparsed(task.judge.max_tokens)
    for case, a, b, prompt, key in _pair_items(store, run_id, task):
        hit = store.cached_response(key)
        if hit is None:
            continue
        pref = parse_preference(hit.text or "")
        if pref is None:
            unparsed.add(hit.text or "", prompt, hit.finish_reason)
            continue
        verdicts[(case, a, b)] = pref
    if not verdicts and not unparsed.count:
        return None
    lengths: dict[tuple[str, Contender], int] = {}
    for r in store.results(run_id, task=task.id):
        if r.status == "ok" and r.mode == "generate" and r.rep == 0:
            lengths[(r.case_id, r.answer.contender)] = len(words(r.text or ""))
    both_ways = []
    combined: dict[tuple[str, Contender, Contender], Preference] = {}
    for (case, a, b), first in verdicts.items():
        second = verdicts.get((case, b, a))
        if a > b or second is None:
            continue
        both_ways.append((first, second))
        both = combine_swapped(first, second)
        if both is not None:
            combined[(case, a, b)] = both
    by_length = [(pref, lengths.get((c, a), 0), lengths.get((c, b), 0)) for (c, a, b), pref in combined.items()]
    length = _correlation(spearman([la - lb for _, la, lb in by_length], [_VALUE[p] for p, _, _ in by_length]),
                          "length difference")
    preference = None
    if any(judge in (a.model, b.model) for _, a, b in combined):
        own: dict[str, list[float]] = defaultdict(list)
        others: dict[str, list[float]] = defaultdict(list)
        for (case, a, b), pref in combined.items():
            for who, value in ((a, _VALUE[pref]), (b, 1 - _VALUE[pref])):
                (own if who.model == judge else others)[case].append(value)
        preference = _self_preference(judge, self_preference({c: sum(v) / len(v) for c, v in own.items()}, others))
    human = None
    people = pair_labels(labels)
    rated = [(said, combined[k]) for k in combined if (said := _people(people, *k)) is not None]
    if rated:
        human = _agreement(cohen_kappa([h for h, _ in rated], [j for _, j in rated]), ["A", "B", "tie"])
    return JudgeReliability(
        judge=judge, scorer="pairwise", verdicts=len(verdicts), **unparsed.fields(),
        flip_rate=_share(flip_rate(both_ways)), first_position=_share(first_position_share(list(verdicts.values()))),
        longer_wins=_share(longer_wins(by_length)), length=length, self_preference=preference, human=human,
    )


def _people(people: dict[tuple[str, str, str], str], case: str, a: Contender, b: Contender) -> str | None:
    """What people said of a against b on `case` (A: a better), from pair labels keyed by the answers' names."""
    na, nb = (variant_label(c.model, c.prompt, setting=c.setting) for c in (a, b))
    if (case, na, nb) in people:
        return people[(case, na, nb)]
    swapped = people.get((case, nb, na))
    return None if swapped is None else {"A": "B", "B": "A", "tie": "tie"}[swapped]
