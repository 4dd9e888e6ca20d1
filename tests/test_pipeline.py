"""The library's one way through a run, as the command line and `compare()` use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.scripted_server import ScriptedServer
from tests.test_runner import SUITE, write_suite


def test_limit_and_mode_apply_to_a_copy_of_the_loaded_suite(tmp_path: Path) -> None:
    from llamacompare.runner import RunOptions, make_plan
    from llamacompare.tasks.loader import load_suite

    suite = load_suite(write_suite(tmp_path))
    before = suite.suite.model_dump()
    first = make_plan(suite, "mini", ["openai:alpha"], RunOptions(base_url="http://127.0.0.1:9/v1"), limit=1,
                      mode="logprob")
    assert suite.suite.model_dump() == before and suite.validation is not None  # the loaded suite is as its file says
    assert first.loaded.validation is None and first.loaded.counts() == {t.id: 1 for t in suite.tasks}
    assert first.suite.tasks[0].cases is not None and len(first.suite.tasks[0].cases) == 1
    assert first.suite.tasks[0].mode == "logprob"
    second = make_plan(suite, "mini", ["openai:alpha"], RunOptions(base_url="http://127.0.0.1:9/v1"), limit=3)
    assert second.suite.tasks[0].cases is not None and len(second.suite.tasks[0].cases) == 3
    assert second.suite.tasks[0].mode == suite.tasks[0].mode == "generate"


def test_run_then_rescore_with_an_edited_suite_and_a_suite_of_other_tasks(tmp_path: Path) -> None:
    from llamacompare import pipeline
    from llamacompare.errors import UsageError
    from llamacompare.runner import RunOptions
    from llamacompare.store import Store

    db = tmp_path / "p.db"
    with ScriptedServer(["alpha"], answers=["Pozitif"]) as srv, Store(db) as store:
        plan = pipeline.plan_run(write_suite(tmp_path), ["openai:alpha"], RunOptions(base_url=srv.base_url))
        result = pipeline.run_plan(plan, store)
    assert result.outcome.sent == 5 and result.outcome.failed == 0 and result.judge_failed == 0
    sentiment = next(t for t in result.report.tasks if t.id == "sentiment")
    assert sentiment.models[0].metrics["accuracy"].value == 0.5  # "Pozitif" to two Pozitif and two Negatif cases

    flipped = tmp_path / "flipped.yaml"  # the same task ids, labels read the other way round
    flipped.write_text(SUITE.replace("label: Pozitif", "label: X").replace("label: Negatif", "label: Pozitif")
                       .replace("label: X", "label: Negatif"), encoding="utf-8")
    with Store(db) as store:
        again = pipeline.rescore_run(store, result.plan.run_id, suite_path=flipped)
        assert again.run_id == result.plan.run_id and again.scores > 0
        assert next(t for t in again.report.tasks if t.id == "sentiment").models[0].metrics["accuracy"].value == 0.5
        other = tmp_path / "other.yaml"
        other.write_text(SUITE.replace("id: sentiment", "id: duygu"), encoding="utf-8")
        with pytest.raises(UsageError, match="duygu"):
            pipeline.rescore_run(store, result.plan.run_id, suite_path=other)
