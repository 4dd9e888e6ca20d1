"""Summaries read at 80 columns with nothing but a pipe (CI logs, notebooks): model names lose the prefix they
all share (said once, below the table), and each table row stays on one or two lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

from llamacompare.reports.names import common_prefix, display_names, file_name, fold, narrowest, shorten


@pytest.mark.parametrize(
    ("names", "prefix"),
    [
        (["local:gemma-3-270m@generate", "local:gemma-3-270m@logprob"], "local:gemma-3-270m@"),
        (["together:meta-llama/Llama-2-7b-chat-hf@generate", "together:meta-llama/Llama-3-8b-chat-hf@logprob"],
         "together:meta-llama/"),
        (["together:meta-llama/Llama-2-7b-chat-hf", "together:meta-llama/Llama-2-13b-chat-hf"],
         "together:meta-llama/"),  # cut at a separator, never inside "Llama-2-"
        (["openai:alpha", "openai:beta"], "openai:"),
        (["local:x", "local:x@a"], "local:"),  # every name keeps something to show
        (["a", "b"], ""),
        (["local:gemma-3-270m"], ""),  # one name: nothing to save
    ],
)
def test_common_prefix_ends_at_a_separator(names: list[str], prefix: str) -> None:
    assert common_prefix(names) == prefix
    short, p = shorten(names)
    assert p == prefix and all(p + short[n] == n and short[n] for n in names)


SUITE = """
name: wide
tasks:
  - id: sentiment
    type: classify
    mode: both
    labels: {Pozitif: [olumlu], Negatif: [olumsuz]}
    template: "Mesaj: {text}\\nDuygu:"
    cases:
      - {id: a, text: "Bu akşam pizza sipariş etmek için sabırsızlanıyorum!", label: Pozitif}
      - {id: b, text: "Piyano resitalime geç kaldın!", label: Negatif}
      - {id: c, text: "İstanbul'da güneşli bir gün.", label: Pozitif}
"""
MODELS = ["meta-llama/Llama-2-7b-chat-hf", "meta-llama/Llama-2-13b-chat-hf", "meta-llama/Llama-3-70b-chat-hf"]


def test_show_piped_at_80_columns_is_legible(tmp_path: Path) -> None:
    suite = tmp_path / "wide.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    db = str(tmp_path / "w.db")
    args = [a for m in MODELS for a in ("-m", f"openai:{m}")]
    with ScriptedServer(MODELS, answers=["Pozitif"]) as srv:
        # the scripted server has no echo logprobs: generate mode only, as a hosted chat model would
        res = run_cli("run", str(suite), *args, "--mode", "generate", "--base-url", srv.base_url, "--db", db,
                      "--json")
        assert res.returncode == 0, res.stderr
    run_id = json.loads(res.stdout)["outcome"]["run_id"]
    out = run_cli("show", run_id, "--db", db, env={"COLUMNS": "80"}).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(line for line in lines if len(line) > 80)
    assert "model names start with openai:meta-llama/" in out  # the legend, once per table
    for m in MODELS:
        short = m.split("/", 1)[1]
        rows = [line for line in lines if short in line]
        assert rows, out
        assert any(f"openai:{m}" not in line for line in rows)  # the table shows the short name, whole
    table = out[: out.index("model names start with")]
    assert "Llama-2-13b-chat-hf" in table and "Llama-3-70b-chat-hf" in table  # not folded inside the name
    body = [line for line in table.splitlines()[2:] if line.strip()]
    assert len(body) == 1 + 1 + 3 + 1  # header, rule, one line per model, the baseline: no row wraps
    side = out[out.index("answers side by side"):]
    assert "Llama-2-13b-chat-hf" in side and "Llama-2-7b-chat-hf" in side  # stacked, whole names


def test_a_lone_model_named_by_a_long_path_leaves_the_case_column_legible(tmp_path: Path) -> None:
    from llamacompare.models.bundled import bundled_model_path

    suite = tmp_path / "wide.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    db = str(tmp_path / "w.db")
    model = f"local:{bundled_model_path()}"  # one model: no shared prefix to cut, the whole path is its name
    res = run_cli("run", str(suite), "-m", model, "--mode", "generate", "--db", db, "--json")
    assert res.returncode == 0, res.stderr
    out = run_cli("show", "latest", "--db", db, env={"COLUMNS": "80"}).stdout
    side = out[out.index("answers side by side"):]
    assert max(len(line) for line in side.splitlines()) <= 80
    assert "expected:" in side and "Pozitif" in side, side  # not folded a letter a line
    assert side.count("expected:") == 3
    # the model by its file name, whole or folded at a separator: in the answers, the summary and the runs
    path = bundled_model_path()
    assert str(path.parent) not in side and _answered_by(side) == [path.name] * 3, side
    _, body = _body(out, "task sentiment (classify)")
    assert path.name in [_whole(cells) for cells in _cells(body, 1, re.compile(r"(\$0|—)\s*$"))], out
    listed = run_cli("runs", "--db", db, env={"COLUMNS": "80"}).stdout
    header, body = _body(listed, "runs in ")
    rows = _cells(body, header.splitlines()[-1].index("models"), re.compile(r"\d{8}-\d{6}-"))
    assert [_whole(n) for cells in rows for n in _split_models(cells)] == [path.name], listed
    assert str(path.parent) not in listed.split("\n", 1)[1], listed  # (the title names the database)


# -- issue 26: every row of every table names its model, and no id breaks, at 80 columns -----------------------

SUMMARIES = """
name: summaries-of-the-news
tasks:
  - id: summarize-news-articles
    type: generate
    scorers: [rouge, length]
    template: "Summarize: {text}"
    reference: reference
    cases:
      - {id: news-2024-article-000001, text: "The council approved the park budget.", reference: "Park budget passes."}
      - {id: news-2024-article-000002, text: "Rain is expected all week in the city.", reference: "Rain all week."}
      - {id: c3, text: "The team won the final on penalties.", reference: "Team wins final on penalties."}
"""
LONG = ["meta-llama/Llama-3.1-8B-Instruct-Turbo", "Qwen/Qwen2.5-7B-Instruct-Turbo"]
NARROW = {"COLUMNS": "80"}


@pytest.fixture(scope="module")
def summary_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    """A summary task (rouge and length scorers) run twice against the scripted server: with one model named
    long, then with two. Returns the database and the run ids, oldest first."""
    tmp = tmp_path_factory.mktemp("summaries")
    suite = tmp / "summaries.yaml"
    suite.write_text(SUMMARIES, encoding="utf-8")
    db = str(tmp / "s.db")
    ids = []
    with ScriptedServer(LONG, answers=["The council approved a budget for parks after a debate.", "Rain."]) as srv:
        for models in (LONG[:1], LONG):
            args = [a for m in models for a in ("-m", f"openai:{m}")]
            res = run_cli("run", str(suite), *args, "--base-url", srv.base_url, "--db", db, "--json", "--no-progress")
            assert res.returncode == 0, res.stderr
            ids.append(json.loads(res.stdout)["outcome"]["run_id"])
    return db, ids


def _body(out: str, title: str) -> tuple[str, list[str]]:
    """The header and body lines of the table whose title starts with `title`: from its header rule to its caption
    or the next line of text (captions start at the margin, text lines two spaces in; table lines one space, or a
    box's rule)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rule = next(i for i in range(start, len(lines)) if "───" in lines[i] or lines[i].startswith("┡"))
    body = []
    for line in lines[rule + 1:]:
        if re.match(r"[^\s│└]|  \S", line):
            break
        body.append(line)
    return "\n".join(lines[start + 1:rule]), body


def _cells(body: list[str], column: int, starts: re.Pattern[str]) -> list[list[str]]:
    """The lines of one left-aligned column's cell in each row: a row starts on a line that `starts` matches and
    goes on to the next such line or blank line."""
    rows: list[list[str]] = []
    for line in body:
        if starts.search(line):
            rows.append([])
        elif not line.strip() or not rows:
            continue
        text = re.split(r"│| {3}", line[column:])[0].rstrip()
        if text.strip():
            rows[-1].append(text)
    return rows


def _whole(lines: list[str]) -> str:
    """A folded name put back together, after checking that each fold is at a separator or a space."""
    lines = [line.strip() for line in lines if line.strip() != "*"]  # the tied-with-best mark may fold alone
    for line in lines[:-1]:
        assert line[-1] in "/-:@", f"folded inside a piece: {lines}"
    return "".join(lines).removesuffix(" *")


@pytest.mark.parametrize("which", [0, 1], ids=["one model", "two models"])
def test_a_summary_task_at_80_columns_names_every_model_and_keeps_n_and_cost(
        summary_runs: tuple[str, list[str]], which: int) -> None:
    db, ids = summary_runs
    out = run_cli("show", ids[which], "--db", db, env=NARROW).stdout
    assert max(len(line) for line in out.splitlines()) <= 80, out
    header, body = _body(out, "task summarize-news-articles (generate)")
    assert re.search(r"\bn\b", header) and "cost" in header, out  # neither column squeezed out
    table = "\n".join(body)
    assert "…" not in table, out
    rows = _cells(body, 1, re.compile(r"unknown\s*$"))  # a row per model, its cost (no price offline) last
    models = LONG[:1] if which == 0 else LONG
    assert len(rows) == len(models), out
    assert all(rows), f"a row without its model:\n{out}"
    shown = sorted(_whole(cells) for cells in rows)
    # one model keeps its provider; two lose the prefix they share, said once below the table
    assert shown == sorted(f"openai:{m}" for m in models) if which == 0 else sorted(models), out
    for line in body:
        if "unknown" in line:
            assert re.search(r"\s3\s", line), line  # n, whole
    assert "rougeL" in header  # the metric the task is decided on, always


def test_runs_at_80_columns_keeps_run_ids_whole(summary_runs: tuple[str, list[str]]) -> None:
    db, ids = summary_runs
    out = run_cli("runs", "--db", db, env=NARROW).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    for run_id in ids:
        assert sum(run_id in line for line in lines) == 1, out  # on one line, copied whole
    header, body = _body(out, "runs in ")
    assert "…" not in "\n".join(body), out
    column = header.splitlines()[-1].index("models")
    rows = _cells(body, column, re.compile("|".join(ids)))
    assert len(rows) == 2, out
    newest, oldest = rows  # newest first
    # a model a line, a folded one indented under it
    names = [[*group] for group in _split_models(newest)]
    assert sorted(_whole(n) for n in names) == sorted(LONG), out
    assert [_whole(n) for n in _split_models(oldest)] == LONG[:1], out


def _split_models(cell: list[str]) -> list[list[str]]:
    groups: list[list[str]] = []
    for line in cell:
        if line.startswith("  ") and groups:
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def test_diff_at_80_columns_names_each_row_and_keeps_ids_whole(summary_runs: tuple[str, list[str]]) -> None:
    db, (a, b) = summary_runs
    out = run_cli("diff", a, b, "--db", db, env=NARROW).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    assert any(a in line for line in lines) and any(b in line for line in lines), out
    assert "…" not in out, out
    header, body = _body(out, b)  # the title starts with run B
    assert re.search(r"\bn\b", header), out
    column = next(line for line in header.splitlines() if "model" in line).index("model")
    rows = _cells(body, column, re.compile(r"\s3[\s│]+0\.\d{3}[\s│]+0\.\d{3}"))  # n, A and B
    assert [_whole(cells) for cells in rows] == [f"openai:{LONG[0]}"], out  # the one model both runs share


def test_answers_side_by_side_keep_case_ids_whole_and_name_each_model(summary_runs: tuple[str, list[str]]) -> None:
    db, ids = summary_runs
    out = run_cli("show", ids[1], "--db", db, env=NARROW).stdout
    side = out[out.index("answers side by side"):]
    assert max(len(line) for line in side.splitlines()) <= 80, side
    for case_id in ("news-2024-article-000001", "news-2024-article-000002"):
        assert case_id in side, side  # not folded: a third of the width is kept for ids
    assert sorted(_answered_by(side)) == sorted(LONG * 3), side  # every answer under its model's name


def _answered_by(side: str) -> list[str]:
    """The model named beside each answer in the stacked answers table."""
    header = next(line for line in side.splitlines() if "model" in line and "answer" in line)
    column = header.index("model")
    rows = [line for line in side.splitlines() if line.startswith("│")]
    names: list[list[str]] = []
    last = ""
    for line in rows:
        cell = line[column:].split("│")[0].strip()
        if cell and names and last and last[-1] in "/-:@":  # a name goes on only after a separator
            names[-1].append(cell)
        elif cell:
            names.append([cell])
        last = cell
    return [_whole(n) for n in names]


def test_plan_at_80_columns_shows_a_local_model_by_its_file_name(tmp_path: Path) -> None:
    from llamacompare.models.bundled import bundled_model_path

    suite = tmp_path / "summaries.yaml"
    suite.write_text(SUMMARIES, encoding="utf-8")
    path = bundled_model_path()
    # nothing is sent and nothing loaded: the plan reads the file's tokenizer only
    res = run_cli("run", str(suite), "-m", f"local:{path}", "-m", f"openai:{LONG[0]}", "-m", f"openai:{LONG[1]}",
                  "--base-url", "http://127.0.0.1:9/v1", "--db", str(tmp_path / "p.db"), "--plan", env=NARROW)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert max(len(line) for line in out.splitlines()) <= 80, out
    header, body = _body(out, "plan: suite")
    assert str(path.parent) not in out, out
    rows = _cells(body, 1, re.compile(r"±\d"))
    assert sorted(_whole(cells) for cells in rows) == sorted([path.name, *(f"openai:{m}" for m in LONG)]), out


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("local:/home/u/models/SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct.Q4_1.gguf"),
        ("local:/home/u/models/SmolLM2-135M-Instruct.Q4_1.gguf@generate", "SmolLM2-135M-Instruct.Q4_1.gguf@generate"),
        ("local:C:\\models\\x.GGUF · terse", "x.GGUF · terse"),
        ("local:smollm2-135m-instruct", "local:smollm2-135m-instruct"),  # a bundled name, not a path
        ("openai:meta-llama/Llama-3.1-8B-Instruct-Turbo", "openai:meta-llama/Llama-3.1-8B-Instruct-Turbo"),
    ],
)
def test_a_local_model_named_by_a_path_is_shown_by_its_file_name(name: str, shown: str) -> None:
    assert file_name(name) == shown
    assert display_names([name]) == ({name: shown}, "")


def test_two_files_of_one_name_keep_their_paths() -> None:
    short, prefix = display_names(["local:/a/m.gguf", "local:/b/m.gguf", "local:/c/other.gguf"])
    assert short["local:/c/other.gguf"] == "other.gguf" and prefix == ""
    assert short["local:/a/m.gguf"] != short["local:/b/m.gguf"]


@pytest.mark.parametrize("width", range(1, 50))
def test_fold_breaks_only_after_a_separator(width: int) -> None:
    for name in ("openai:meta-llama/Llama-3.1-8B-Instruct-Turbo", "news-2024-article-000001", "a · b-c"):
        lines = fold(name, width).split("\n")
        assert "".join(lines).replace(" ", "") == name.replace(" ", "")
        for line in lines:
            assert len(line) <= max(width, narrowest(name))
        for line in lines[:-1]:
            assert line[-1] in "/-:@·" or name.find(line + " ") >= 0, lines  # at a separator, or at a space
    assert fold("20261207-024738-5b68", 40) == "20261207-024738-5b68"
