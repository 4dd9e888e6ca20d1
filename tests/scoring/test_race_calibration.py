"""`--until-decided` on label scores races calibrated accuracy, the metric the summary reports: batch calibration
fixed on the first cases of the order, the race run on the rest (runner/decide.py). Simulated: two models whose
raw label scores lean to opposite labels but whose calibrated accuracies are equal, and two that differ."""

from __future__ import annotations

import math

import numpy as np

from llamacompare.identity import Contender
from llamacompare.runner.decide import CALIBRATION_CASES, Decider
from llamacompare.scoring.calibration import batch_offsets, predict_with
from llamacompare.scoring.sequential import diff_cs_paths
from llamacompare.tasks.case import Case
from llamacompare.tasks.schema import Task

RUNS, CASES, BATCH = 4000, 500, 10
K = CALIBRATION_CASES


def _margins(rng: np.random.Generator, gold: np.ndarray, signal: float, bias: float) -> np.ndarray:
    """log P(pos) - log P(neg) of each case: informative by `signal`, leaning to "pos" by `bias`."""
    return bias + signal * (2 * gold - 1) + rng.normal(0, 1, gold.shape)


def _scores(margin: float) -> dict[str, float]:
    return {"pos": margin - math.log1p(math.exp(margin)), "neg": -math.log1p(math.exp(margin))}


def test_two_labels_batch_offsets_pick_by_the_slices_mean_margin() -> None:
    """What the vectorised simulation below computes (a case says "pos" when its margin exceeds the slice's mean
    margin) is what `batch_offsets` and `predict_with` decide."""
    rng = np.random.default_rng(1)
    m = _margins(rng, (rng.random(200) < 0.5).astype(int), 1.0, 0.7)
    offsets = batch_offsets([_scores(x) for x in m[:K]])
    picked = [predict_with(_scores(x), offsets) for x in m[K:]]
    assert picked == ["pos" if x > m[:K].mean() else "neg" for x in m[K:]]


def test_equal_calibrated_models_with_opposite_leanings_are_rarely_told_apart() -> None:
    """4,000 runs of 500 cases, looked at every 10 raced cases: racing the raw argmax "finds" a difference in most
    runs (the leanings differ, not the models); racing calibrated accuracy errs in at most 5%."""
    rng = np.random.default_rng(7)
    gold = (rng.random((RUNS, CASES)) < 0.5).astype(int)
    a, b = _margins(rng, gold, 1.0, 1.5), _margins(rng, gold, 1.0, -0.8)

    def wrong_share(k: int) -> float:
        def right(m: np.ndarray) -> np.ndarray:
            cut = m[:, :k].mean(axis=1, keepdims=True) if k else 0.0
            return ((m > cut).astype(int) == gold)[:, k:].astype(float)

        lo, hi = diff_cs_paths(right(a) - right(b))
        looks = np.arange(BATCH - 1, CASES - k, BATCH)
        return float(((lo[:, looks] > 0) | (hi[:, looks] < 0)).any(axis=1).mean())

    assert wrong_share(0) > 0.5
    assert wrong_share(K) <= 0.05

GOOD, POOR = Contender("good", "logprob"), Contender("poor", "logprob")


def _task(calibration: str = "batch") -> Task:
    return Task.model_validate({"id": "t", "type": "classify", "mode": "logprob", "labels": {"pos": [], "neg": []},
                                "template": "{text}", "calibration": calibration, "dataset": "x.jsonl"})


def _decide(decider: Decider, task: Task, margins: dict[str, np.ndarray], gold: np.ndarray) -> None:
    """Every model answers the cases in the race's order, a batch at a time, as the runner holds them together."""
    order = decider.order(task, [(i, Case(f"c{i}", {"text": str(i)}, None)) for i in range(len(gold))])
    for start in range(0, len(order), BATCH):
        for name, m in margins.items():
            if Contender(name, "logprob") in decider.races[(task.id, "logprob")].decisions:
                continue
            for _, case in order[start:start + BATCH]:
                i = int(case.id[1:])
                scores = _scores(float(m[i]))
                decider.record(task.id, case.id, Contender(name, "logprob"), max(scores, key=scores.__getitem__),
                               "pos" if gold[i] else "neg", scores)


def test_a_clear_calibrated_difference_is_decided_early_though_the_raw_scores_are_close() -> None:
    """Calibrated accuracies 0.83 and 0.67 on these 500 cases (raw: 0.69 and 0.67, both leaning to "pos"): the race
    stops before 300 cases with the better model named, and the output says what it raced on."""
    rng = np.random.default_rng(3)
    gold = (rng.random(CASES) < 0.5).astype(int)
    good, poor = _margins(rng, gold, 1.0, 1.2), _margins(rng, gold, 0.4, 0.3)
    task = _task()
    decider = Decider([task], {("t", "logprob"): [GOOD, POOR]}, repeats=1, seed=0, margin=0.0)
    _decide(decider, task, {"good": good, "poor": poor}, gold)
    race = decider.races[("t", "logprob")]
    assert race.decisions[POOR].verdict == "worse" and race.decisions[POOR].other == GOOD
    assert race.decisions[GOOD].verdict == "best"
    assert max(d.n for d in race.decisions.values()) < 300
    notes = decider.finish()
    assert not any(n.tied for n in notes)  # told apart: no "not told apart early" line
    assert decider.notes() == [f"raced on calibrated accuracy, its calibration fixed on the first {K} cases of the "
                               "order (not raced on; the summary calibrates on every case)"]


def test_content_free_offsets_wait_for_the_content_free_prompt() -> None:
    """With content-free calibration every case is raced, once the model's content-free scores are in."""
    rng = np.random.default_rng(5)
    gold = (rng.random(CASES) < 0.5).astype(int)
    task = _task("content_free")
    decider = Decider([task], {("t", "logprob"): [GOOD, POOR]}, repeats=1, seed=0, margin=0.0)
    good, poor = _margins(rng, gold, 1.5, 2.0), _margins(rng, gold, 0.3, -1.0)
    order = decider.order(task, [(i, Case(f"c{i}", {"text": str(i)}, None)) for i in range(CASES)])
    for name, m in ((GOOD, good), (POOR, poor)):
        for _, case in order[:40]:
            i = int(case.id[1:])
            decider.record("t", case.id, name, None, "pos" if gold[i] else "neg", _scores(float(m[i])))
    race = decider.races[("t", "logprob")]
    assert race.frontier(GOOD) == 0  # held until the offsets are known
    decider.calibrate("t", GOOD, _scores(2.0))
    decider.calibrate("t", POOR, _scores(-1.0))
    assert race.frontier(GOOD) == 40 and race.frontier(POOR) == 40


def test_models_not_told_apart_share_one_line_with_the_most_cases_answered() -> None:
    """Two models that answer alike, one of them further than the other when the cases run out: both notes say
    they were not told apart, over the most cases either answered, so the run prints one line for them."""
    task = _task("none")
    decider = Decider([task], {("t", "logprob"): [GOOD, POOR]}, repeats=1, seed=0, margin=0.0)
    order = decider.order(task, [(i, Case(f"c{i}", {"text": str(i)}, None)) for i in range(30)])
    for name, upto in ((GOOD, 30), (POOR, 25)):
        for _, case in order[:upto]:
            decider.record("t", case.id, name, "pos", "pos", _scores(1.0))
    notes = decider.finish()
    assert [(n.tied, n.answered) for n in notes] == [((GOOD, POOR), 30), ((GOOD, POOR), 30)]
    assert {n.decision.n for n in notes} == {30, 25}  # each its own count, stored per model
