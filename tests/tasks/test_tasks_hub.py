"""Datasets from the Hugging Face Hub through the real `datasets` library, on datasets built here (the Hub is
not reachable from the test machines): a folder in a Hub repository's layout, a `save_to_disk` folder, and the
library's own offline cache (tests/support/hf_cache.py)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import run_cli
from tests.support.hf_cache import hub_folder, prime_hub_cache
from tests.support.scripted_server import ScriptedServer

from llamacompare.errors import UsageError
from llamacompare.tasks import CaseSource, load_suite
from llamacompare.tasks.hub import HubRef, parse_hub_ref

GLUE_ROWS = {
    "sentence": ["it 's a charming and often affecting journey . ", "unflinchingly bleak and desperate ",
                 "a gorgeous , witty , seductive movie .", "the acting is wooden ."],
    "label": [1, 0, 1, 0],
    "idx": [0, 1, 2, 3],
}
SAMSUM_ROWS = {
    "id": ["13862856", "13729565", "13680171"],
    "dialogue": ["Hannah: Hey, do you have Betty's number?\nAmanda: Lemme check",
                 "Ayşe: Yarın sinemaya gidelim mi?\nMehmet: Olur, saat kaçta?",
                 "Eric: MACHINE!\nRob: That's so gr8!"],
    "summary": ["Hannah needs Betty's number.", "Ayşe ve Mehmet yarın sinemaya gidecek.", "Eric and Rob laugh."],
}


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("hf:nyu-mll/glue:sst2/validation", HubRef("nyu-mll/glue", "sst2", "validation")),
        ("hf:EdinburghNLP/xsum/test", HubRef("EdinburghNLP/xsum", None, "test")),
        ("glue:sst2/train[:10%]", HubRef("glue", "sst2", "train[:10%]")),
        ("hf:/data/my set/test", HubRef("/data/my set", None, "test")),
    ],
)
def test_hub_references(text: str, ref: HubRef) -> None:
    assert parse_hub_ref(text) == ref
    assert str(parse_hub_ref(str(ref))) == str(ref)


@pytest.mark.parametrize("text", ["hf:glue", "hf:nyu-mll/glue:sst2", "hf:/test", "hf:a:/test", "hf:a/"])
def test_a_hub_reference_without_a_split_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"hf:NAME\[:CONFIG\]/SPLIT"):
        parse_hub_ref(text)


def test_data_hf_reads_a_dataset_in_the_hub_layout(tmp_path: Path) -> None:
    """`--data hf:NAME/SPLIT` on sst2: the suite's Hub column names (sentence, idx) apply, labels map 1/0."""
    folder = hub_folder(tmp_path / "glue-sst2", {"validation": GLUE_ROWS, "train": {k: v[:1] for k, v in
                                                                                   GLUE_ROWS.items()}})
    suite = load_suite("sst2", data=f"hf:{folder}/validation")
    task = suite.tasks[0]
    assert suite.source(task) == CaseSource(hub=HubRef(str(folder), None, "validation"))
    cases = list(suite.cases(task))
    assert [c.id for c in cases] == ["0", "1", "2", "3"]
    assert [c.reference for c in cases] == ["positive", "negative", "positive", "negative"]
    assert cases[0].fields["text"] == "it 's a charming and often affecting journey . "
    assert suite.validation.total_cases == 4


def test_a_suite_names_a_hub_dataset_saved_to_disk(write_suite: Callable[..., Path], tmp_path: Path) -> None:
    import datasets

    folder = tmp_path / "samsum-like"
    datasets.DatasetDict({"test": datasets.Dataset.from_dict(SAMSUM_ROWS)}).save_to_disk(str(folder))
    suite = load_suite(write_suite(f"""
        tasks:
          - id: dialog
            type: generate
            template: "Özetle:\\n{{dialogue}}\\nÖzet:"
            dataset: hf:{folder}/test
            reference: summary
    """))
    cases = list(suite.cases(suite.tasks[0]))
    assert [c.id for c in cases] == ["1", "2", "3"]  # no id_column: rows are numbered
    assert cases[1].fields["dialogue"] == "Ayşe: Yarın sinemaya gidelim mi?\nMehmet: Olur, saat kaçta?"
    assert cases[1].reference == "Ayşe ve Mehmet yarın sinemaya gidecek."
    with pytest.raises(UsageError, match=r"no split 'validation' .*\(splits: test\)"):
        load_suite(write_suite(f"""
            tasks:
              - {{id: d, type: generate, template: "{{dialogue}}", dataset: "hf:{folder}/validation"}}
        """))


def test_hub_rows_are_checked_like_file_rows(write_suite: Callable[..., Path], tmp_path: Path) -> None:
    """An empty field skips the row with a warning naming the row; a missing column is named with the columns."""
    rows = {"id": ["a", "b", "c"], "document": ["Metin bir.", "", "Three."], "summary": ["Bir.", "Two.", "Üç."]}
    folder = hub_folder(tmp_path / "xsum-like", {"test": rows})
    text = f"""
        tasks:
          - id: x
            type: generate
            template: "{{document}}"
            reference: summary
            dataset: {{hf: {{ref: "{folder}/test", id_column: id}}}}
    """
    suite = load_suite(write_suite(text))
    check = suite.validation.tasks[0]
    assert (check.cases, check.skipped) == (2, 1)
    assert f"hf:{folder}/test:2: empty 'document', case 'b' skipped" in check.warnings[0]
    with pytest.raises(UsageError, match=r"placeholder \{article\} is not a column of hf:.*columns: id, document"):
        load_suite(write_suite(text.replace("{{document}}", "{{article}}").replace("{document}", "{article}")))


def test_data_file_wins_over_the_hub(tmp_path: Path) -> None:
    data = tmp_path / "mine.tsv"
    data.write_text("text\tlabel\ngood\t1\nbad\t0\n", encoding="utf-8")
    suite = load_suite("sst2", data=data)
    assert suite.source(suite.tasks[0]) == CaseSource(path=data)
    assert [c.id for c in suite.cases(suite.tasks[0])] == ["1", "2"]  # `where` is for the shipped file only


def test_where_names_a_missing_column(write_suite: Callable[..., Path]) -> None:
    path = write_suite("""
        tasks:
          - id: c
            type: classify
            labels: {a: [], b: []}
            template: "{text}"
            dataset: {path: d.tsv, where: {lang: tr}}
    """, {"d.tsv": "text\tlabel\nx\ta\n"})
    with pytest.raises(UsageError, match=r"suite\.yaml:\d+: tasks\[0\]\.dataset\.where\.lang: column 'lang' is not"):
        load_suite(path)


def _hf_env(tmp_path: Path) -> dict[str, str]:
    return {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}


def test_builtin_suites_read_their_hub_dataset_from_the_offline_cache(tmp_path: Path) -> None:
    """Loaded once (here: the cache a download leaves), a Hub dataset is read offline with no --data."""
    env = _hf_env(tmp_path)
    prime_hub_cache(tmp_path / "hf", "Samsung/samsum", "samsum", "test", SAMSUM_ROWS, tmp_path)
    prime_hub_cache(tmp_path / "hf", "nyu-mll/glue", "sst2", "validation", GLUE_ROWS, tmp_path)
    db = str(tmp_path / "r.db")
    with ScriptedServer(["alpha"], answers=["positive"]) as srv:
        res = run_cli("run", "samsum", "-m", "openai:alpha", "--base-url", srv.base_url, "--db", db, "--json",
                      env=env)
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        assert out["report"]["tasks"][0]["models"][0]["n"] == 3
        assert {c["id"] for c in out["report"]["cases"]} == set(SAMSUM_ROWS["id"])
        res = run_cli("run", "sst2", "--data", "hf", "-m", "openai:alpha", "--base-url", srv.base_url, "--db", db,
                      "--json", env=env)
        assert res.returncode == 0, res.stderr
        task = json.loads(res.stdout)["report"]["tasks"][0]
        assert task["models"][0]["n"] == 4 and task["models"][0]["metrics"]["accuracy"]["value"] == 0.5
    assert "Traceback" not in res.stderr and "Found the latest cached" not in res.stderr


def test_a_hub_dataset_neither_cached_nor_reachable_is_one_clear_line(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    res = run_cli("run", "xsum", "-m", "local:gemma-3-270m", "--db", db, env=_hf_env(tmp_path))
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.strip().splitlines() == [
        "error: hf:EdinburghNLP/xsum/test: not in the local Hugging Face cache and offline (HF_HUB_OFFLINE=1); "
        "load it once with a network (it is cached for offline use), or pass --data FILE"
    ]
    if Path(db).exists():  # nothing half-written: no run was started
        import sqlite3

        with sqlite3.connect(db) as c:
            assert c.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0
    res = run_cli("run", "sst2", "--data", "hf:nyu-mll/glue:sst2", "--db", db)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "hf:NAME[:CONFIG]/SPLIT" in res.stderr


def test_without_the_hf_extra_the_error_says_how_to_install_it(tmp_path: Path) -> None:
    """The `datasets` library absent (blocked from import in a fresh interpreter): one line, exit 2."""
    import subprocess

    code = ("import sys; sys.modules['datasets'] = None; sys.argv = ['llamacompare', *sys.argv[1:]]; "
            "from llamacompare.cli.main import main; main()")
    res = subprocess.run([sys.executable, "-c", code, "run", "samsum", "--db", str(tmp_path / "r.db")],
                         capture_output=True, text=True, timeout=120, env={**os.environ, **_hf_env(tmp_path)})
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [
        "error: hf:Samsung/samsum:samsum/test: reading a dataset from the Hugging Face Hub needs the `datasets` "
        "library; install it with: pip install 'llamacompare[hf]' (or pass --data FILE)"
    ]
