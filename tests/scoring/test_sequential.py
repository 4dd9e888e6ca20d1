"""The anytime-valid comparisons behind `run --until-decided`, shown by simulation: thousands of synthetic runs
(no model), looked at after every batch of 10 cases, as the runner does. A wrong decision is one the truth
contradicts: a model stopped as worse when it is not, or as within the margin when it is not."""

from __future__ import annotations

import numpy as np
import pytest

from llamacompare.formatting import decision_line
from llamacompare.scoring.sequential import PairSequence, Race, cs_paths, diff_cs_paths

RUNS, CASES, BATCH = 4000, 500, 10
LOOKS = np.arange(BATCH - 1, CASES, BATCH)  # after cases 10, 20, ..., 500


def _paired(rng: np.random.Generator, acc_a: float, acc_b: float, runs: int = RUNS) -> np.ndarray:
    """Paired differences of two models answering right/wrong independently per case."""
    a = rng.random((runs, CASES)) < acc_a
    b = rng.random((runs, CASES)) < acc_b
    return a.astype(float) - b


def _naive_bounds(d: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """The fixed-n paired 95% interval (mean +- 1.96 standard errors), computed at every sample size."""
    t = np.arange(1, d.shape[-1] + 1)
    mean = np.cumsum(d, axis=-1) / t
    var = (np.cumsum(d**2, axis=-1) - t * mean**2) / np.maximum(t - 1, 1)
    se = np.sqrt(np.maximum(var, 0) / t)
    return mean - z * se, mean + z * se


def test_incremental_sequence_equals_the_vectorised_one() -> None:
    rng = np.random.default_rng(1)
    d = rng.choice([-1.0, 0.0, 0.0, 0.5, 1.0], size=400)
    lo, hi = diff_cs_paths(d, alpha=0.01)
    seq = PairSequence(0.01)
    for i, x in enumerate(d):
        seq.push(float(x))
        assert seq.lo == pytest.approx(lo[i], abs=1e-12)
        assert seq.hi == pytest.approx(hi[i], abs=1e-12)
    assert seq.n == 400


def test_sequence_narrows_and_contains_the_sample_mean() -> None:
    rng = np.random.default_rng(2)
    d = _paired(rng, 0.8, 0.7, runs=1)[0]
    lo, hi = diff_cs_paths(d)
    width = hi - lo
    assert np.all(np.diff(width) <= 1e-12)  # a running intersection never widens
    assert width[-1] < 0.25 < width[20]
    assert lo[-1] <= d.mean() <= hi[-1]


def test_values_outside_the_unit_interval_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cs_paths(np.array([0.2, 1.5]))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        PairSequence(0.05).push(2.0)


def test_peeking_after_every_batch_keeps_the_error_rate_only_for_the_sequence() -> None:
    """Two equally good models (accuracy 0.7 each): any "worse" decision is wrong. Stopping the first time the
    interval excludes 0, looking after every batch: the CS stays at or under 5%, the fixed-n interval does not."""
    d = _paired(np.random.default_rng(3), 0.7, 0.7)
    lo, hi = diff_cs_paths(d)
    seq_wrong = ((lo[:, LOOKS] > 0) | (hi[:, LOOKS] < 0)).any(axis=1).mean()
    nlo, nhi = _naive_bounds(d)
    naive_hits = (nlo[:, LOOKS] > 0) | (nhi[:, LOOKS] < 0)
    naive_wrong = naive_hits.any(axis=1).mean()
    assert seq_wrong <= 0.05
    assert naive_wrong > 0.05
    assert naive_wrong > 0.15  # peeking 50 times: about 0.4 in this simulation
    # the fixed-n interval itself is fine when looked at once, at the end: the peeking is what breaks it
    assert 0.03 < naive_hits[:, -1].mean() < 0.07


def test_skewed_continuous_differences_keep_coverage() -> None:
    """Not only right/wrong: ROUGE-like scores in [0, 1], skewed, with a true difference of 0.05."""
    rng = np.random.default_rng(4)
    a = rng.beta(2, 5, size=(RUNS, CASES)) + 0.05
    b = rng.beta(2, 5, size=(RUNS, CASES))
    d = np.clip(a, 0, 1) - b
    true = float(np.clip(rng.beta(2, 5, size=2_000_000) + 0.05, 0, 1).mean() - 2 / 7)
    lo, hi = diff_cs_paths(d)
    missed = ((lo[:, LOOKS] > true) | (hi[:, LOOKS] < true)).any(axis=1).mean()
    assert missed <= 0.05


def test_margin_decisions_keep_the_error_rate() -> None:
    """A is better by 0.06 and the margin is 0.03: saying B is within the margin of A is wrong. The sequence's
    one-sided rule (B - A above -margin) stays at or under 5%; the naive interval, peeked at, does not."""
    rng = np.random.default_rng(5)
    d = _paired(rng, 0.76, 0.70)  # A - B
    margin = 0.03
    lo, hi = diff_cs_paths(d)
    seq_wrong = (-hi[:, LOOKS] > -margin).any(axis=1).mean()  # CS of B - A is (-hi, -lo)
    _, nhi = _naive_bounds(d, z=1.645)  # its one-sided 95% bound
    naive_wrong = (-nhi[:, LOOKS] > -margin).any(axis=1).mean()
    assert seq_wrong <= 0.05
    assert naive_wrong > 0.05


def test_a_clear_difference_is_decided_early() -> None:
    d = _paired(np.random.default_rng(6), 0.9, 0.3, runs=1000)
    lo, _ = diff_cs_paths(d)
    decided = lo[:, LOOKS] > 0
    assert decided.any(axis=1).all()
    first = (np.argmax(decided, axis=1) + 1) * BATCH
    assert np.median(first) <= 60
    assert first.max() <= 150


def _race(values: dict[str, np.ndarray], margin: float = 0.0, batch: int = BATCH) -> Race:
    race = Race(list(values), margin=margin, batch=batch)
    n = len(next(iter(values.values())))
    for i in range(n):
        for m, v in values.items():
            if m not in race.decisions:
                race.add(m, i, float(v[i]))
        if not race.active:
            break
    race.finish()
    return race


def test_race_of_three_equal_models_rarely_stops_one_wrongly() -> None:
    """The race itself (the runner's object), 300 runs of three models of accuracy 0.7: a model stopped as
    worse is a wrong decision. At or under 5% (Bonferroni over the three pairs)."""
    rng = np.random.default_rng(7)
    wrong = 0
    runs = 300
    for _ in range(runs):
        values = {m: (rng.random(CASES) < 0.7).astype(float) for m in ("a", "b", "c")}
        race = _race(values)
        wrong += any(d.verdict == "worse" for d in race.decisions.values())
        assert all(d.verdict in ("worse", "undecided") for d in race.decisions.values())
    assert wrong / runs <= 0.05


def test_race_names_the_better_model_and_stops_both() -> None:
    rng = np.random.default_rng(8)
    values = {"good": (rng.random(CASES) < 0.9).astype(float), "bad": (rng.random(CASES) < 0.3).astype(float)}
    race = _race(values)
    good, bad = race.decisions["good"], race.decisions["bad"]
    assert bad.verdict == "worse" and bad.other == "good"
    assert good.verdict == "best"
    assert good.n == bad.n < 100
    assert "worse than good" in decision_line("bad", bad, 0.0, "good")
    assert "the best" in decision_line("good", good, 0.0, None)


def test_race_with_a_margin_stops_equivalent_models() -> None:
    """Two models that answer identically: with margin 0 nothing is decided; with a margin they are within it."""
    rng = np.random.default_rng(9)
    same = (rng.random(CASES) < 0.7).astype(float)
    tied = _race({"a": same, "b": same.copy()})
    assert {d.verdict for d in tied.decisions.values()} == {"undecided"}
    assert all(d.n == CASES for d in tied.decisions.values())
    close = _race({"a": same, "b": same.copy()}, margin=0.05)
    assert {d.verdict for d in close.decisions.values()} == {"within margin"}
    assert all(d.n < CASES for d in close.decisions.values())
    assert "within 0.05 of" in decision_line("a", close.decisions["a"], 0.05, close.decisions["a"].other)


def test_race_lower_is_better_and_out_of_order_answers() -> None:
    """Answers arrive out of order (concurrency): a pair is fed only the positions both have, in order."""
    race = Race(["fast", "slow"], higher_is_better=False, batch=5)
    rng = np.random.default_rng(10)
    order = rng.permutation(200)
    for i in order:
        race.add("fast", int(i), 0.1)
    assert not race.decisions  # "slow" has answered nothing: no pair has data
    for i in range(200):
        race.add("slow", i, 0.9)
        if race.decisions:
            break
    assert race.decisions["slow"].verdict == "worse"
    assert race.decisions["fast"].verdict == "best"


def test_race_with_a_margin_still_decides_the_worse_model() -> None:
    """With a margin the better model qualifies early, but it keeps answering until the other is decided too:
    a model stopped alone would freeze the comparisons the other needs."""
    rng = np.random.default_rng(11)
    values = {"good": (rng.random(CASES) < 0.9).astype(float), "poor": (rng.random(CASES) < 0.3).astype(float)}
    race = _race(values, margin=0.05)
    assert race.decisions["poor"].verdict == "worse"
    assert race.decisions["good"].verdict == "best"
    assert race.decisions["good"].n == race.decisions["poor"].n < 150


def test_race_with_a_margin_keeps_the_error_rate() -> None:
    """The race itself, 200 runs: A 0.76, B 0.70, margin 0.03. B is worse by more than the margin, so calling B
    within the margin, or A worse, is wrong."""
    rng = np.random.default_rng(12)
    wrong = 0
    runs = 200
    for _ in range(runs):
        race = _race({"a": (rng.random(CASES) < 0.76).astype(float), "b": (rng.random(CASES) < 0.70).astype(float)},
                     margin=0.03)
        wrong += race.decisions["b"].verdict in ("within margin", "best") or race.decisions["a"].verdict == "worse"
    assert wrong / runs <= 0.05
