"""The recommendation line: "choose" only a model significantly better than the rest; otherwise that the cases
cannot separate the best from the others yet, how many would, and the cheapest (fastest) of those tied."""

from __future__ import annotations

import pytest

from llamacompare.formatting import choice_line as said
from llamacompare.formatting import estimate_parts
from llamacompare.scoring.recommend import ModelSummary, recommend
from llamacompare.scoring.stats import Interval, bootstrap_ci, compare_all


def _pairs(only_a: int, only_b: int, both: int, neither: int) -> tuple[list[bool], list[bool]]:
    a = [True] * only_a + [False] * only_b + [True] * both + [False] * neither
    b = [False] * only_a + [True] * only_b + [True] * both + [False] * neither
    return a, b


def _summaries(
    scores: dict[str, list[bool]], costs: dict[str, float | None], latency: dict[str, float] | None = None
) -> list[ModelSummary]:
    return [
        ModelSummary(m, len(v), bootstrap_ci([float(x) for x in v]), costs.get(m), (latency or {}).get(m))
        for m, v in scores.items()
    ]


def _cheap_vs_big() -> dict[str, list[bool]]:
    # 300 cases: llama-3-70b 0.93, llama-3-8b 0.91 (discordant 9 vs 3), tiny 0.60
    big, small = _pairs(9, 3, both=270, neither=18)
    tiny = [i % 10 < 6 for i in range(300)]
    return {"llama-3-70b": big, "llama-3-8b": small, "tiny": tiny}


def test_tied_with_the_best_is_not_chosen_but_the_cheapest_is_named() -> None:
    scores = _cheap_vs_big()
    summaries = _summaries(scores, {"llama-3-70b": 9.0, "llama-3-8b": 1.0, "tiny": 0.1})
    rec = recommend(summaries, compare_all(scores, binary=True), metric_name="accuracy")
    assert rec.model == "llama-3-8b"  # what the user's rule picks, for programs and gates
    assert rec.tied == ["llama-3-8b"]
    assert rec.needed_cases is not None and rec.needed_cases > 300
    # exact McNemar p = 0.146; Holm over the 2 comparisons with the best leaves the larger p as it is
    assert said(rec) == (
        "these 300 cases cannot separate llama-3-70b and llama-3-8b yet: accuracy 0.93 vs 0.91 "
        f"(diff +0.020 [-0.003, 0.047], adj. p=0.15); about {rec.needed_cases:,} cases would; "
        "the cheapest of them: llama-3-8b (at 1/9 of the cost)"
    )
    assert not said(rec).startswith("choose")


def test_best_is_chosen_when_clearly_better() -> None:
    scores = {"good": [i % 20 != 0 for i in range(200)], "bad": [i % 10 < 6 for i in range(200)]}
    rec = recommend(_summaries(scores, {"good": 5.0, "bad": 1.0}), compare_all(scores, binary=True),
                    metric_name="accuracy")  # fmt: skip
    assert rec.model == "good" and rec.tied == [] and rec.needed_cases is None
    assert "significantly better than every other model (next: bad 0.60; diff +0.35 [" in said(rec)
    assert "p<0.001" in said(rec)


def test_best_is_also_cheapest() -> None:
    scores = _cheap_vs_big()
    summaries = _summaries(scores, {"llama-3-70b": 1.0, "llama-3-8b": 2.0, "tiny": 0.1})
    rec = recommend(summaries, compare_all(scores, binary=True), metric_name="accuracy")
    assert rec.model == "llama-3-70b"
    assert said(rec).startswith("these 300 cases cannot separate llama-3-70b and llama-3-8b yet: accuracy 0.93 vs ")
    assert said(rec).endswith("cases would; the cheapest of them: llama-3-70b")


def test_unknown_cost_sorts_last_and_is_said() -> None:
    scores = _cheap_vs_big()
    summaries = _summaries(scores, {"llama-3-70b": 9.0, "llama-3-8b": None, "tiny": 0.1})
    rec = recommend(summaries, compare_all(scores, binary=True), metric_name="accuracy")
    assert rec.model == "llama-3-70b"
    assert said(rec).endswith("the cheapest of them: llama-3-70b (cost unknown for llama-3-8b)")
    # an unknown cost among several tied models is named
    summaries = _summaries(scores, {"llama-3-70b": 9.0, "llama-3-8b": None, "tiny": 0.1})
    pairs = compare_all({**scores, "tiny": scores["llama-3-8b"]}, binary=True)
    rec = recommend([*summaries[:2], ModelSummary("tiny", 300, summaries[1].metric, 0.1, None)], pairs,
                    metric_name="accuracy")  # fmt: skip
    assert rec.model == "tiny" and said(rec).endswith("tiny (at 1/90 of the cost; cost unknown for llama-3-8b)")
    assert "; llama-3-8b also not significantly worse than llama-3-70b;" in said(rec)


def test_models_that_scored_the_same_are_said_to() -> None:
    same = [i % 4 != 0 for i in range(40)]
    scores = {"a": same, "b": list(same)}
    rec = recommend(_summaries(scores, {"a": 2.0, "b": 1.0}), compare_all(scores, binary=True),
                    metric_name="accuracy")  # fmt: skip
    assert rec.model == "b" and rec.needed_cases is None
    # equal scores: the cheaper counts as the best, so it is named first
    assert said(rec) == "b and a scored the same on these 40 cases (accuracy 0.75 vs 0.75); the cheapest of them: b"


def test_all_costs_unknown() -> None:
    scores = _cheap_vs_big()
    rec = recommend(_summaries(scores, {}), compare_all(scores, binary=True), metric_name="accuracy")
    assert rec.model == "llama-3-70b" and said(rec).endswith("; no cost is known to choose between them")
    assert not said(rec).startswith("choose")


def test_prefer_latency() -> None:
    scores = _cheap_vs_big()
    summaries = _summaries(scores, {}, latency={"llama-3-70b": 3.0, "llama-3-8b": 1.0, "tiny": 0.2})
    rec = recommend(summaries, compare_all(scores, binary=True), prefer="latency", metric_name="accuracy")
    assert rec.model == "llama-3-8b" and said(rec).endswith("the fastest of them: llama-3-8b (at 1/3 of the latency)")


def test_lower_is_better_metric() -> None:
    scores = {"a": [1.0, 2.0, 3.0, 2.5] * 10, "b": [5.0, 6.0, 7.0, 6.5] * 10}
    summaries = [ModelSummary(m, 40, bootstrap_ci(v), 1.0, None) for m, v in scores.items()]
    rec = recommend(summaries, compare_all(scores, binary=False, higher_is_better=False), metric_name="error",
                    higher_is_better=False)  # fmt: skip
    assert rec.model == "a" and "significantly better" in said(rec)


def test_number_format_keeps_small_bounds_visible() -> None:
    assert estimate_parts(-0.02, -0.047, 0.003) == ("-0.020", "-0.047", "0.003")
    assert estimate_parts(0.91, 0.87, 0.94) == ("0.91", "0.87", "0.94")
    assert estimate_parts(42.0, 40.5, 44.25) == ("42.0", "40.5", "44.2")
    assert estimate_parts(0.0, -0.0001, 0.00004) == ("0.0000", "-0.0001", "0.0000")


def test_degenerate_inputs() -> None:
    none = recommend([], [], metric_name="accuracy")
    assert none.model is None and "no model" in said(none)
    one = recommend([ModelSummary("solo", 10, bootstrap_ci([1.0, 0.0] * 5), None, None)], [], metric_name="rougeL")
    assert one.model == "solo" and "only model" in said(one)
    unscored = ModelSummary("broken", 10, Interval(None, None, None), 1.0, None)  # type: ignore[arg-type]
    assert recommend([unscored], [], metric_name="accuracy").model is None
    no_interval = ModelSummary("x", 10, Interval(0.5, None, None), 1.0, None)  # type: ignore[arg-type]
    assert "accuracy 0.50 [n/a, n/a]" in said(recommend([no_interval], [], metric_name="accuracy"))
    with pytest.raises(ValueError):
        recommend([], [], prefer="size", metric_name="x")  # type: ignore[arg-type]


def test_at_the_same_cost_the_faster_is_named() -> None:
    """Two local variants cost $0 each: "the cheapest" would mean nothing, so the faster one is named."""
    scores = _cheap_vs_big()
    del scores["tiny"]
    summaries = _summaries(scores, {"llama-3-70b": 0.0, "llama-3-8b": 0.0}, latency={"llama-3-70b": 0.4,
                                                                                       "llama-3-8b": 0.3})
    rec = recommend(summaries, compare_all(scores, binary=True), metric_name="accuracy")
    assert rec.model == "llama-3-8b" and said(rec).endswith("; at the same cost, the fastest of them: llama-3-8b")
    one = {"a": [True], "b": [False]}
    rec = recommend(_summaries(one, {"a": 1.0, "b": 1.0}), compare_all(one, binary=True), metric_name="accuracy")
    assert said(rec).startswith("this one case cannot separate a and b yet: accuracy 1.00 vs 0.00")
