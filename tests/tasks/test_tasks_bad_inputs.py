"""The bad-input corpus: each malformed suite/dataset gives one clear line naming file, line and field."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
import yaml

from llamacompare.errors import UsageError
from llamacompare.tasks import load_suite
from llamacompare.tasks.datasets import MAX_CELL, MAX_LINE

BAD = Path(__file__).parent / "bad_inputs"
CASES = yaml.safe_load((BAD / "cases.yaml").read_text(encoding="utf-8"))


def _load_error(path: Path, **kw: object) -> str:
    with pytest.raises(UsageError) as info:
        load_suite(path, **kw)  # type: ignore[arg-type]
    exc = info.value
    msg = str(exc)
    assert "\n" not in msg and "\r" not in msg, msg
    assert "Traceback" not in msg and exc.__cause__ is None
    return msg


def test_the_index_covers_the_whole_corpus() -> None:
    listed = {c["suite"] for c in CASES}
    on_disk = {p.name for p in BAD.glob("*.yaml")} - {"cases.yaml"}
    assert listed == on_disk
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c["suite"] for c in CASES])
def test_bad_input(case: dict) -> None:
    msg = _load_error(BAD / case["suite"])
    where = case.get("where", case["suite"])
    line = case["line"]
    head = f"{where}:{line}: " if line is not None else f"{where}: "
    assert head in msg, msg
    assert msg.index(head) + len(head) <= len(msg)
    if case["field"] is not None:
        assert f": {case['field']}: " in msg, msg
    assert case["expect"] in msg, msg
    assert ";" in msg, f"no hint on what to do: {msg}"


# -- generated at test time: too big to commit ---------------------------------------------------------------
def _suite(tmp_path: Path, data_name: str, fmt: str, template: str = "Say: {text}") -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(
        f"tasks:\n  - id: t1\n    type: generate\n    template: {template!r}\n"
        f"    dataset: {{path: {data_name}, format: {fmt}}}\n",
        encoding="utf-8",
    )
    return path


def test_a_100mb_line_fails_fast_without_reading_it_all(tmp_path: Path) -> None:
    data = tmp_path / "huge.tsv"
    with data.open("wb") as f:
        f.write(b"text\tlabel\n")
        chunk = b"x" * (1 << 20)
        for _ in range(100):
            f.write(chunk)
        f.write(b"\t1\n")
    tracemalloc.start()
    try:
        msg = _load_error(_suite(tmp_path, "huge.tsv", "tsv"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "huge.tsv:2: " in msg and f"longer than {MAX_LINE >> 20} MiB" in msg
    assert peak < 40 << 20, f"peak memory {peak >> 20} MiB: the loader read the whole line"


def test_a_100mb_suite_file_is_refused_by_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.write(b"name: ")
        for _ in range(100):
            f.write(b"y" * (1 << 20))
        f.write(b"\n")
    msg = _load_error(path)
    assert msg.startswith(f"{path}: ") or "huge.yaml: " in msg
    assert "larger than 16 MiB" in msg


def test_a_jsonl_cell_over_the_limit(tmp_path: Path) -> None:
    (tmp_path / "big.jsonl").write_text('{"text": "' + "a" * (MAX_CELL + 10) + '"}\n', encoding="utf-8")
    msg = _load_error(_suite(tmp_path, "big.jsonl", "jsonl"))
    assert "big.jsonl:1: text: " in msg and "larger than 1 MiB" in msg


def test_a_quoted_csv_cell_over_the_limit(tmp_path: Path) -> None:
    body = ("line of text\n" * (MAX_CELL // 13 + 10)).replace('"', "")
    (tmp_path / "big.csv").write_text(f'text\nok\n"{body}"\n', encoding="utf-8")
    msg = _load_error(_suite(tmp_path, "big.csv", "csv"))
    assert "big.csv:3: " in msg and "larger than 1 MiB" in msg


def test_missing_data_override(tmp_path: Path) -> None:
    msg = _load_error(BAD / "header_only.yaml", data=tmp_path / "nope.tsv")
    assert "nope.tsv: no such file or folder" in msg


def test_data_override_on_a_suite_without_datasets(tmp_path: Path) -> None:
    f = tmp_path / "x.tsv"
    f.write_text("text\tlabel\n", encoding="utf-8")
    msg = _load_error(BAD / "duplicate_case_id.yaml", data=f)
    assert "only inline cases" in msg


def test_unknown_suite_name_lists_the_builtins() -> None:
    msg = _load_error("sst")  # type: ignore[arg-type]
    assert "no such suite file and no built-in suite" in msg
    assert "did you mean 'sst2'?" in msg and "seed" in msg
