"""Cases from files: formats, quoting, streaming, skipping empty records, and where files are looked for."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from llamacompare.errors import UsageError
from llamacompare.tasks import load_suite
from llamacompare.tasks.datasets import MAX_WARNINGS

CLASSIFY = """
    tasks:
      - id: t
        type: classify
        labels: {pos: [], neg: []}
        label_map: {"1": pos, "0": neg}
        template: "Review: {text}"
        dataset: {path: DATA}
"""
GENERATE = """
    tasks:
      - id: t
        type: generate
        template: "Summarize: {document}"
        reference: summary
        dataset: {path: DATA, id_column: id}
"""


def test_tsv_keeps_quotes_verbatim_and_accepts_a_bom(write_suite: Callable[..., Path]) -> None:
    data = '\ufefftext\tlabel\nhe said "wow" , then left\t1\n"quoted" start\t0\n\n'
    suite = load_suite(write_suite(CLASSIFY.replace("DATA", "d.tsv"), {"d.tsv": data}))
    cases = list(suite.cases(suite.tasks[0]))
    assert [c.fields["text"] for c in cases] == ['he said "wow" , then left', '"quoted" start']
    assert [(c.id, c.reference) for c in cases] == [("1", "pos"), ("2", "neg")]


def test_csv_quoted_newlines_and_crlf(write_suite: Callable[..., Path]) -> None:
    data = 'id,summary,document\r\nx1,"short, sweet","A: hi\r\nB: ""hello""\r\n"\r\nx2,s2,plain\r\n'
    suite = load_suite(write_suite(GENERATE.replace("DATA", "d.csv"), {"d.csv": data}))
    cases = list(suite.cases(suite.tasks[0]))
    assert [(c.id, c.fields["document"], c.reference) for c in cases] == [
        ("x1", 'A: hi\nB: "hello"\n', "short, sweet"),
        ("x2", "plain", "s2"),
    ]


def test_jsonl_values(write_suite: Callable[..., Path]) -> None:
    rows = [
        {"id": 7, "document": "Türkçe metin {x} }{", "summary": "özet", "meta": {"nested": [1]}},
        {"id": "8", "document": None, "summary": "s"},
        {"id": "9", "document": "d", "summary": 3.5, "flag": True},
    ]
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n"
    suite = load_suite(write_suite(GENERATE.replace("DATA", "d.jsonl"), {"d.jsonl": data}))
    task = suite.tasks[0]
    cases = list(suite.cases(task))
    assert [(c.id, c.fields["document"], c.reference) for c in cases] == [
        ("7", "Türkçe metin {x} }{", "özet"),
        ("9", "d", "3.5"),
    ]
    assert cases[1].fields["flag"] == "true" and "meta" not in cases[0].fields
    assert suite.validation is not None and suite.validation.tasks[0].skipped == 1
    assert len(suite.validation.warnings) == 1
    assert suite.validation.warnings[0].endswith("d.jsonl:2: empty 'document', case '8' skipped")


def test_a_nested_value_in_a_used_field_is_an_error(write_suite: Callable[..., Path]) -> None:
    data = '{"id": "1", "document": ["a", "b"], "summary": "s"}\n'
    with pytest.raises(UsageError, match=r"d\.jsonl:1: document: field 'document' is a JSON list"):
        load_suite(write_suite(GENERATE.replace("DATA", "d.jsonl"), {"d.jsonl": data}))


def test_a_key_missing_from_a_later_jsonl_record(write_suite: Callable[..., Path]) -> None:
    data = '{"id": "1", "document": "a", "summary": "s"}\n{"id": "2", "summary": "s"}\n'
    with pytest.raises(UsageError, match=r"d\.jsonl:2: the case has no field 'document'"):
        load_suite(write_suite(GENERATE.replace("DATA", "d.jsonl"), {"d.jsonl": data}))


def test_columns_mapping_and_id_column(write_suite: Callable[..., Path]) -> None:
    suite_text = """
        tasks:
          - id: t
            type: classify
            labels: {positive: [], negative: []}
            template: "Review: {review}"
            reference: gold
            dataset:
              path: d.csv
              columns: {review: sentence, gold: sentiment}
              id_column: sid
    """
    data = "sid,sentence,sentiment\na,great film,positive\nb,dull,Negative\n"
    suite = load_suite(write_suite(suite_text, {"d.csv": data}))
    cases = list(suite.cases(suite.tasks[0]))
    assert [(c.id, c.fields["review"], c.reference) for c in cases] == [
        ("a", "great film", "positive"),
        ("b", "dull", "negative"),
    ]


def test_limit_stops_reading_before_a_later_bad_line(write_suite: Callable[..., Path]) -> None:
    data = b"text\tlabel\na\t1\nb\t0\nc\t1\n\xff\xfe broken\t0\n"
    suite_text = CLASSIFY.replace("{path: DATA}", "{path: d.tsv, limit: 2}")
    suite = load_suite(write_suite(suite_text, {"d.tsv": data}))
    assert len(list(suite.cases(suite.tasks[0]))) == 2 and suite.counts() == {suite.tasks[0].id: 2}
    unlimited = CLASSIFY.replace("DATA", "d.tsv")
    with pytest.raises(UsageError, match=r"d\.tsv:5: byte 0xff at byte offset 23 \(byte 1 of the line\)"):
        load_suite(write_suite(unlimited, {"d.tsv": data}))


def test_iter_cases_streams(write_suite: Callable[..., Path]) -> None:
    good = b"text\tlabel\na\t1\nb\t0\n"
    path = write_suite(CLASSIFY.replace("DATA", "d.tsv"), {"d.tsv": good})
    suite = load_suite(path)
    (path.parent / "d.tsv").write_bytes(good + b"c\t7\n")  # the file changes after validation
    it = suite.cases(suite.tasks[0])
    assert next(it).fields["text"] == "a" and next(it).fields["text"] == "b"
    with pytest.raises(UsageError, match=r"d\.tsv:4: label: gold value '7'"):
        next(it)


def test_empty_fields_are_skipped_and_counted(write_suite: Callable[..., Path]) -> None:
    rows = "".join(f"  \t{i % 2}\n" for i in range(MAX_WARNINGS + 5))
    suite = load_suite(
        write_suite(CLASSIFY.replace("DATA", "d.tsv"), {"d.tsv": "text\tlabel\nok\t1\n" + rows})
    )
    check = suite.validation.tasks[0]
    assert (check.cases, check.skipped) == (1, MAX_WARNINGS + 5)
    assert len(check.warnings) == MAX_WARNINGS + 1 and "more records skipped" in check.warnings[-1]
    assert "d.tsv:3: empty 'text', case '2' skipped" in check.warnings[0]


def test_dataset_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "suites").mkdir()
    suite_file = tmp_path / "suites" / "s.yaml"
    suite_file.write_text(CLASSIFY.replace("DATA", "d.tsv").replace("\n    ", "\n"), encoding="utf-8")
    places = {name: tmp_path / name for name in ("given", "env", "cwd/work", "cwd/shared/datasets")}
    for i, folder in enumerate(places.values()):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "d.tsv").write_text("text\tlabel\n" + "x\t1\n" * (i + 1), encoding="utf-8")
    monkeypatch.chdir(places["cwd/work"])
    monkeypatch.setenv("LLAMACOMPARE_DATA_DIR", str(places["env"]))

    def used() -> int:
        suite = load_suite(suite_file, data=places["given"])
        return suite.counts()[suite.tasks[0].id]

    assert used() == 1  # the --data folder first
    (places["given"] / "d.tsv").unlink()
    (tmp_path / "suites" / "d.tsv").write_text("text\tlabel\n" + "x\t1\n" * 9, encoding="utf-8")
    assert used() == 9  # then next to the suite
    (tmp_path / "suites" / "d.tsv").unlink()
    assert used() == 2  # then $LLAMACOMPARE_DATA_DIR
    monkeypatch.delenv("LLAMACOMPARE_DATA_DIR")
    assert used() == 3  # then ./
    (places["cwd/work"] / "d.tsv").unlink()
    # and nowhere else: the file in tmp_path/cwd/shared/datasets (made above, where benchmark data sits beside a
    # checkout) is not the user's data, so the loader must not look there
    with pytest.raises(UsageError, match=r"s\.yaml:\d+: tasks\[0\]\.dataset\.path: .*pass --data PATH"):
        used()


def test_data_file_replaces_the_dataset_path(write_suite: Callable[..., Path], tmp_path: Path) -> None:
    other = tmp_path / "other.tsv"
    other.write_text("text\tlabel\na\t1\nb\t0\nc\t1\n", encoding="utf-8")
    suite = load_suite(write_suite(CLASSIFY.replace("DATA", "missing.tsv")), data=other)
    source = suite.source(suite.tasks[0])
    assert source is not None and source.path == other and suite.counts() == {suite.tasks[0].id: 3}


def test_dataset_shorthand_is_a_path(write_suite: Callable[..., Path]) -> None:
    text = CLASSIFY.replace("{path: DATA}", "d.tsv")
    suite = load_suite(write_suite(text, {"d.tsv": "text\tlabel\na\t1\n"}))
    assert suite.tasks[0].dataset is not None and suite.tasks[0].dataset.path == "d.tsv"
    assert suite.validation.total_cases == 1
