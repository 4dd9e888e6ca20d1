"""compare() where its users live: run in a real Jupyter kernel (nbclient), the executed notebook rendered by
nbconvert and opened in headless Chromium (Debian's /usr/bin/chromium). The cell outputs must show inputs,
✓/✗ marks, charts and the recommendation, load nothing, run no script and log no error; a big run keeps the
cell small and says how to see the rest; the progress bar is HTML updated in place, never escape codes."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from tests.conftest import REPO
from tests.support.scripted_server import ScriptedServer

NOTEBOOK = REPO / "examples" / "llama-modellerini-karsilastirma.ipynb"
# The page around nbconvert's cells: outputs may bring inline styles and data: images, nothing else. A script or a
# fetch in any output would be refused and logged, and the test fails on any logged error.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
ESC = "\x1b["


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute(
        env={**os.environ})
    return nb


def outputs(nb: nbformat.NotebookNode) -> list[Any]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def cell_outputs(nb: nbformat.NotebookNode, source_start: str) -> list[Any]:
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(source_start))
    return list(cell.outputs)


def html_of(out: Any) -> str:
    return out.get("data", {}).get("text/html", "")


def all_text(out: Any) -> str:
    parts = [out.get("text", "")] + [v if isinstance(v, str) else json.dumps(v) for v in out.get("data", {}).values()]
    return "".join(parts)


def render_page(nb: nbformat.NotebookNode, path: Path) -> Path:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="basic").from_notebook_node(nb)
    path.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
                    f'content="{CSP}"><title>notebook</title></head><body>{body}</body></html>', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[nbformat.NotebookNode, Path]:
    cwd = tmp_path_factory.mktemp("example")
    return execute(nbformat.read(NOTEBOOK, as_version=4), cwd), cwd


@pytest.mark.slow
def test_example_notebook_runs_and_its_outputs_say_everything(example: tuple[nbformat.NotebookNode, Path]) -> None:
    nb, cwd = example
    outs = outputs(nb)
    assert not [o for o in outs if o.get("output_type") == "error"]
    assert not [o for o in outs if ESC in all_text(o)], "no escape codes in any cell"
    assert not [o for o in outs if o.get("name") == "stderr" and "ipywidgets" in o.get("text", "")]

    seed = "".join(html_of(o) for o in cell_outputs(nb, 'seed = compare("seed"'))
    assert 'class="case-input' in seed and "✓ correct" in seed and "✗ wrong" in seed
    assert '<svg class="scatter"' in seed and 'class="recommendation"' in seed
    assert "$0.000000" not in seed and ">$0<" in seed  # the local model's cost, as the terminal writes it
    # the run's progress bar, left in its final state: every answer done
    bars = [re.search(r'<progress value="(\d+)" max="(\d+)"', html_of(o)) for o in cell_outputs(nb, "seed = ")]
    done = [m.groups() for m in bars if m]
    assert done and done[-1][0] == done[-1][1]

    disagreements = "".join(html_of(o) for o in cell_outputs(nb, "seed.disagreements()"))
    assert "cases where the models disagree, shown first" in disagreements
    chart = cell_outputs(nb, "seed.plot(")
    assert any("image/svg+xml" in o.get("data", {}) for o in chart)
    shown = "".join(html_of(o) for o in cell_outputs(nb, "seed.show("))
    assert "Rendered prompt" in shown and "Parameters" in shown and "Prompt tokens" in shown
    report = cwd / "seed-rapor.html"
    assert report.is_file() and "sentiment_tr" in report.read_text(encoding="utf-8")


@pytest.mark.slow
def test_example_notebook_renders_in_chromium(example: tuple[nbformat.NotebookNode, Path], browser: Any,
                                              tmp_path: Path) -> None:
    nb, _ = example
    page_file = render_page(nb, tmp_path / "notebook.html")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    try:
        inputs = page.locator(".lc-nb .case-input")
        assert inputs.count() > 0 and inputs.first.is_visible() and inputs.first.inner_text().strip()
        marks = page.locator(".lc-nb .tag-ok, .lc-nb .tag-bad")
        assert marks.count() > 0 and marks.first.is_visible()
        assert {t.strip()[0] for t in marks.all_inner_texts()} == {"✓", "✗"}
        points = page.locator(".lc-nb svg.scatter circle")
        assert points.count() > 0 and points.first.is_visible()
        box = page.locator(".lc-nb svg.scatter").first.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100  # drawn, not collapsed
        assert page.locator(".lc-nb .recommendation").first.is_visible()
        assert page.locator("svg.lc-chart svg.scatter circle").count() > 0  # seed.plot(): the standalone chart
        assert page.locator(".lc-nb .detail-block pre").first.is_visible()  # seed.show(...)
    finally:
        context.close()
    assert errors == []
    assert requests == [page_file.as_uri()]


def sst2_sized_data(path: Path, n: int = 872) -> Path:
    """SST-2 dev's size and `text<TAB>label` format, made of the shipped English reviews with distinct ids."""
    shipped = REPO / "src" / "llamacompare" / "suites" / "data" / "film_reviews.tsv"
    with shipped.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["lang"] == "en"]
    lines = [f"{rows[i % len(rows)]['text']} ({i})\t{rows[i % len(rows)]['label']}" for i in range(n)]
    path.write_text("text\tlabel\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_big_run_in_a_kernel_keeps_the_cell_small_and_its_bar_live(tmp_path: Path) -> None:
    data = sst2_sized_data(tmp_path / "sst2_dev.tsv")
    with ScriptedServer(["alpha", "beta"], answers=["positive", "negative", "It is negative."]) as srv:
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            nbformat.v4.new_code_cell(
                "from llamacompare import compare\n"
                f"c = compare('sst2', models=['openai:alpha', 'openai:beta'], data={str(data)!r}, "
                f"base_url={srv.base_url!r}, db={str(tmp_path / 'big.db')!r}, concurrency=16)\n"
                "c"),
            nbformat.v4.new_code_cell("print(len(c.data.cases), c.data.tasks[0].models[0].n)"),
            nbformat.v4.new_code_cell(  # the call: a limit, in a notebook
                f"compare('sst2', models=['openai:alpha', 'openai:beta'], data={str(data)!r}, limit=60, "
                f"base_url={srv.base_url!r}, db={str(tmp_path / 'big.db')!r})"),
        ]
        execute(nb, tmp_path)
    outs = outputs(nb)
    assert not [o for o in outs if o.get("output_type") == "error"]
    assert "872 872" in nb.cells[1].outputs[0]["text"]
    result = next(o for o in nb.cells[0].outputs if o.get("output_type") == "execute_result")
    cell = html_of(result)
    size = len(json.dumps(result).encode("utf-8"))  # everything the cell stores: HTML and text together
    assert size < 300_000, size
    assert "852 more cases not shown here" in cell and "c.report(" in cell and "c.to_pandas()" in cell
    assert cell.count('class="case-row') == 20
    assert 'class="case-input' in cell and "✓ correct" in cell and "✗ wrong" in cell
    assert '<svg class="scatter"' in cell and 'class="recommendation"' in cell
    assert "872 cases not shown here: c.report(" in result["data"]["text/plain"]  # text lists only small tasks
    bars = [o for o in nb.cells[0].outputs if o.get("output_type") == "display_data"]
    assert len(bars) == 1, "one bar, updated in place"
    assert '<progress value="1744" max="1744"' in html_of(bars[0])
    assert "1,744/1,744" in bars[0]["data"]["text/plain"]
    assert not [o for o in outs if ESC in all_text(o)]
    assert not [o for o in outs if o.get("name") == "stderr"], [o.get("text") for o in outs]

    limited = nb.cells[2].outputs
    bar = next(o for o in limited if o.get("output_type") == "display_data")
    assert '<progress value="120" max="120"' in html_of(bar)  # 60 cases x 2 models, counted after the limit
    cell = html_of(next(o for o in limited if o.get("output_type") == "execute_result"))
    assert 'class="case-input' in cell and "✓ correct" in cell and "✗ wrong" in cell
    assert '<svg class="scatter"' in cell and 'class="recommendation"' in cell
    assert "40 more cases not shown here" in cell


def test_plain_python_draws_rich_bar_in_a_terminal_and_nothing_in_a_pipe(tmp_path: Path) -> None:
    """The same compare() call outside Jupyter: rich's bar on a terminal (a pseudo-terminal here), and no
    escape codes at all when stderr is a pipe or a file."""
    import pty
    import subprocess
    import sys

    data = sst2_sized_data(tmp_path / "sst2_dev.tsv", n=60)
    with ScriptedServer(["alpha"], answers=["positive", "negative"]) as srv:
        code = ("from llamacompare import compare\n"
                f"c = compare('sst2', models=['openai:alpha'], data={str(data)!r}, base_url={srv.base_url!r}, "
                f"db={str(tmp_path / 'p.db')!r})\n"
                "print('cases', len(c.data.cases))\n")
        piped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        leader, follower = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-c", code.replace("p.db", "t.db")], stdout=subprocess.DEVNULL,
                                stderr=follower, env={**os.environ, "TERM": "xterm", "COLUMNS": "120"})
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(120)
        os.close(leader)
    assert piped.returncode == 0, piped.stderr
    assert "cases 60" in piped.stdout and ESC not in piped.stderr and ESC not in piped.stdout
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "60/60" in terminal and "sst2" in terminal  # rich's bar: description and done/total


def test_comparison_and_compare_import_together() -> None:
    """`from llamacompare import Comparison, compare` in a fresh interpreter: loading the module for the class
    must not leave the package's `compare` naming the submodule instead of the function."""
    import subprocess
    import sys

    code = "from llamacompare import Comparison, compare\nassert callable(compare), type(compare)\n"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def test_the_public_names_survive_importing_their_modules_first() -> None:
    """A notebook that imports a submodule first (`from llamacompare.comparison import Comparison`) still gets the
    functions from the package: no public name is also a submodule's name."""
    import subprocess
    import sys

    code = ("import llamacompare.comparison, llamacompare.helpers, llamacompare.models.registry\n"
            "from llamacompare import compare, llama, llama_chat, resolve\n"
            "assert all(callable(f) and type(f).__name__ == 'function' for f in (compare, llama, llama_chat, resolve))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
