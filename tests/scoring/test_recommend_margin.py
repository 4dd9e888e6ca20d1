"""`--margin`: the cheapest (or fastest) model shown, by a one-sided bound, to be within the margin of the best."""

from __future__ import annotations

from llamacompare.formatting import choice_line as said
from llamacompare.scoring.recommend import ModelSummary, recommend_within_margin
from llamacompare.scoring.stats import Interval, compare_pair


def _pairs(only_a: int, only_b: int, both: int, neither: int) -> tuple[list[float], list[float]]:
    a = [1.0] * only_a + [0.0] * only_b + [1.0] * both + [0.0] * neither
    b = [0.0] * only_a + [1.0] * only_b + [1.0] * both + [0.0] * neither
    return a, b


def _setup() -> tuple[list[ModelSummary], dict[str, float]]:
    # 300 cases: big 0.93, small 0.91 (discordant 9 vs 3), tiny 0.60
    big, small = _pairs(9, 3, both=270, neither=18)
    tiny = [float(i % 10 < 6) for i in range(300)]
    scores = {"big": big, "small": small, "tiny": tiny}
    costs = {"big": 9.0, "small": 1.0, "tiny": 0.1}
    latency = {"big": 2.0, "small": 0.5, "tiny": 0.1}
    summaries = [ModelSummary(m, 300, Interval(sum(v) / 300, 0, 1), costs[m], latency[m]) for m, v in scores.items()]
    # one-sided 97.5% bounds (alpha 0.05 split over the two comparisons with the best): the lower end of the
    # two-sided 95% interval
    bounds = {m: compare_pair(m, scores[m], "big", big, binary=True, confidence=0.95).lo for m in ("small", "tiny")}
    return summaries, bounds


def test_the_cheapest_model_within_the_margin_is_chosen() -> None:
    summaries, bounds = _setup()
    assert -0.05 < bounds["small"] < -0.02 < 0  # the observed diff is -0.02; its bound is within 0.05
    assert bounds["tiny"] < -0.25
    rec = recommend_within_margin(summaries, "big", bounds, margin=0.05, metric_name="accuracy")
    assert rec.model == "small"
    assert rec.tied == ["small"]
    assert said(rec).startswith("choose small: the cheapest model within 0.05 of the best (big)")
    assert f"{bounds['small']:+.3f} > -0.05" in said(rec)
    assert "1/9 of the cost" in said(rec)


def test_a_tight_margin_keeps_the_best() -> None:
    summaries, bounds = _setup()
    rec = recommend_within_margin(summaries, "big", bounds, margin=0.02, metric_name="accuracy")
    assert rec.model == "big"
    assert "no other model is shown within 0.02 of it" in said(rec)


def test_prefer_latency_and_unknown_costs() -> None:
    summaries, bounds = _setup()
    wide = {**bounds, "tiny": -0.39}
    rec = recommend_within_margin(summaries, "big", wide, margin=0.4, prefer="latency", metric_name="accuracy")
    assert rec.model == "tiny"
    assert "the fastest model within 0.4" in said(rec)
    unknown = [ModelSummary(s.model, s.n, s.metric, None if s.model != "big" else 9.0, s.latency_s)
               for s in summaries]
    rec = recommend_within_margin(unknown, "big", bounds, margin=0.05, metric_name="accuracy")
    assert rec.model == "big"  # a known cost sorts before an unknown one
