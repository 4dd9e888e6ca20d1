"""Scorers are registered in one place (`llamacompare.scorers`): the built-ins say there what they measure, and a
new scorer is one module that registers itself. Here "exclaims" (the share of answers ending in "!") comes from
outside llamacompare: registered in this process, or found through an entry point by the command line, it is a
`scorers:` name of the schema, runs on the scripted server's answers, leads the summary, and shows in
`show --json` and the terminal table."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import REPO, run_cli
from tests.support.scripted_server import ScriptedServer

EXCLAIMS = '''
"""A scorer from outside llamacompare: whether an answer ends in "!", and how many it has."""

from llamacompare.scorers import Answer, Metric, scorer


@scorer("exclaims", types=("generate",), metrics=[
    Metric("exclaims", title="ends with !", binary=True, primary=45),
    Metric("bangs", title="! marks", column=True, higher_is_better=False),
])
def exclaims(answer: Answer) -> dict[str, float]:
    return {"exclaims": float(answer.text.rstrip().endswith("!")), "bangs": float(answer.text.count("!"))}
'''

SUITE = """name: exclaiming
tasks:
  - id: selam
    type: generate
    template: "Selam ver: {name}"
    scorers: [exclaims]
    cases:
""" + "".join(f"      - {{id: c{i}, name: kişi{i}}}\n" for i in range(6))


def _answer(body: dict[str, Any]) -> str:
    return "Merhaba!!" if body["model"] == "alpha" else "Merhaba."


@pytest.fixture
def exclaims() -> Iterator[None]:
    """The scorer registered in this process only, as a notebook would import it; gone after the test."""
    from llamacompare import scorers

    exec(compile(EXCLAIMS, "exclaims_scorer.py", "exec"), {"__name__": "exclaims_scorer"})  # noqa: S102
    try:
        yield
    finally:
        scorers.unregister("exclaims")


def _check_report(report: dict[str, Any]) -> None:
    task = report["tasks"][0]
    assert task["primary_metric"] == "exclaims"  # preferred (45) to the words every generate task has (50)
    rows = {r["model"]: r["metrics"] for r in task["models"]}
    alpha, beta = rows["openai:alpha"], rows["openai:beta"]
    assert (alpha["exclaims"]["value"], beta["exclaims"]["value"]) == (1.0, 0.0)
    assert (alpha["bangs"]["value"], beta["bangs"]["value"]) == (2.0, 0.0)
    assert "words" in alpha and "repetition" in alpha  # the scorers that always run still do
    pair = next(p for p in task["pairwise"] if p["metric"] == "exclaims")
    assert pair["test"].startswith("mcnemar") and pair["p_value"] == 0.03125  # binary: 6 discordant pairs
    assert task["recommendation"]["model"] == "openai:alpha"


def test_a_scorer_registered_in_this_process_runs_leads_the_summary_and_shows(tmp_path: Path, exclaims: None) -> None:
    from rich.console import Console

    from llamacompare import pipeline
    from llamacompare.reports.terminal import print_report
    from llamacompare.runner import RunOptions
    from llamacompare.store import Store

    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    with ScriptedServer(["alpha", "beta"], answer=_answer) as srv, Store(tmp_path / "r.db") as store:
        plan = pipeline.plan_run(suite, ["openai:alpha", "openai:beta"], RunOptions(base_url=srv.base_url))
        result = pipeline.run_plan(plan, store)
    _check_report(result.report.to_json())
    con = Console(record=True, width=200, highlight=False)
    print_report(result.report, con=con)
    text = con.export_text()
    assert "task selam (generate) — ends with !, 95% CI" in text
    header = next(line for line in text.splitlines() if line.lstrip().startswith("model"))
    assert "ends with !" in header and "! marks" in header and "words" in header


def test_a_scorer_from_an_installed_package_works_on_the_command_line(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "lc_exclaims").mkdir(parents=True)
    (site / "lc_exclaims" / "__init__.py").write_text(textwrap.dedent(EXCLAIMS), encoding="utf-8")
    info = site / "lc_exclaims-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lc-exclaims\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[llamacompare.scorers]\nexclaims = lc_exclaims\n")
    (info / "RECORD").write_text("")
    env = {"PYTHONPATH": f"{site}:{REPO}"}
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    db = tmp_path / "r.db"
    with ScriptedServer(["alpha", "beta"], answer=_answer) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--db", str(db), "--no-progress", env=env)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    shown = run_cli("show", "--db", str(db), "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    _check_report(report.get("report", report))
    table = run_cli("show", "--db", str(db), env=env)
    assert table.returncode == 0, table.stderr
    assert "— ends with !, 95% CI" in table.stdout and "! marks" in table.stdout


def test_the_schema_lists_the_registered_scorers_for_an_unknown_name(tmp_path: Path, exclaims: None) -> None:
    from llamacompare.tasks.errors import SuiteError
    from llamacompare.tasks.loader import load_suite

    suite = tmp_path / "bad.yaml"
    suite.write_text(SUITE.replace("[exclaims]", "[length, exclaim]"), encoding="utf-8")
    with pytest.raises(SuiteError) as e:
        load_suite(suite)
    assert str(e.value).endswith("bad.yaml:6: tasks[0].scorers[1]: 'exclaim' is not allowed; use 'accuracy', "
                                 "'rouge', 'length', 'judge', 'pairwise' or 'exclaims'")
    on_classify = SUITE.replace("type: generate", "type: classify\n    labels: {a: [], b: []}")
    suite.write_text(on_classify, encoding="utf-8")
    with pytest.raises(SuiteError, match=r"bad.yaml:7: tasks\[0\]\.scorers\[0\]: scorer 'exclaims' is for generate "
                                         r"tasks; classify tasks use: accuracy$"):
        load_suite(suite)


def test_the_built_in_scorers_declare_what_the_summary_and_views_read() -> None:
    from llamacompare import scorers
    from llamacompare.analysis.checks import ALL_METRIC, FIELDS_METRIC

    assert scorers.names() == ["accuracy", "rouge", "length", "judge", "pairwise"]
    assert scorers.names("generate") == ["rouge", "length", "judge", "pairwise"]
    assert scorers.primary_metric("classify", set()) == scorers.primary_metric("classify", {"label"}) == "accuracy"
    assert scorers.primary_metric("generate", set()) == "words"  # what every generate task has once answered
    assert scorers.primary_metric("generate", {"words", ALL_METRIC}) == ALL_METRIC
    assert scorers.primary_metric("generate", {"words", ALL_METRIC, "rougeL"}) == "rougeL"
    assert scorers.primary_metric("generate", {"rougeL", "pairwise", "judge"}) == "judge"
    assert scorers.source("accuracy") == "label" and scorers.source("rougeL") == "rougeL"
    assert not scorers.higher_is_better("words") and not scorers.higher_is_better("repetition")
    assert scorers.higher_is_better("rougeL") and scorers.higher_is_better("check:max_words:1")  # unknown: higher
    assert scorers.is_binary(ALL_METRIC) and scorers.is_binary("accuracy") and not scorers.is_binary("rougeL")
    assert scorers.summary_columns() == ["rouge1", "words"]
    assert scorers.averaged_metrics("classify") == []
    assert scorers.averaged_metrics("generate") == ["judge", "pairwise", "rougeL", "rouge1", "rouge2", "words",
                                                    "compression", "repetition"]
    assert {ALL_METRIC, FIELDS_METRIC} <= {m.name for s in scorers.scorers() for m in s.metrics}
    assert scorers.title("rouge1") == "rouge1" and scorers.title("check:regex") == "check:regex"


def test_a_name_or_a_metric_is_registered_once() -> None:
    from llamacompare.scorers import Metric, Scorer, register, unregister

    with pytest.raises(ValueError, match="'rouge' is already registered"):
        register(Scorer("rouge", ("generate",), (Metric("mine"),)))
    with pytest.raises(ValueError, match="scorer 'length' already has a metric 'words'"):
        register(Scorer("wordy", ("generate",), (Metric("words"),)))
    with pytest.raises(ValueError, match="at least one task type and one metric"):
        register(Scorer("empty", ("generate",), ()))
    again = Scorer("twice", ("generate",), (Metric("twice"),))
    try:
        register(again)
        register(again, replace=True)  # a notebook cell run again
    finally:
        unregister("twice")
