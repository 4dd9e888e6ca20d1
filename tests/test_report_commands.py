"""report (formats and gates), view and diff at the command line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import REPO, run_cli
from tests.support.scripted_server import ScriptedServer
from tests.test_runner import SUITE, write_suite


def two_runs(tmp_path: Path) -> tuple[Path, str, str]:
    db = tmp_path / "r.db"
    suite = write_suite(tmp_path)
    ids = []
    for answers in (("Pozitif",), ("Pozitif", "Negatif")):
        with ScriptedServer(["alpha"], answers=answers) as srv:
            res = run_cli("run", str(suite), "-m", "openai:alpha", "--base-url", srv.base_url, "--db", str(db),
                          "--json", "--repeats", "1")
            assert res.returncode == 0, res.stderr
            ids.append(json.loads(res.stdout)["outcome"]["run_id"])
        # the second run must not be served from the first one's cache: change the prompt a little
        suite.write_text(SUITE.replace("Duygu:", "Duygu (tek kelime):"), encoding="utf-8")
    return db, ids[0], ids[1]


def test_gates_markdown_junit_and_diff(tmp_path: Path) -> None:
    db, a, b = two_runs(tmp_path)
    ok = run_cli("report", b, "--db", str(db), "--fail-under", "accuracy=0.0", "-o", str(tmp_path / "r.html"))
    assert ok.returncode == 0 and (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bad = run_cli("report", b, "--db", str(db), "--format", "junit", "--fail-under", "accuracy=1.01",
                  "-o", str(tmp_path / "r.xml"))
    assert bad.returncode == 1 and "gate failed" in bad.stderr
    assert "<failure" in (tmp_path / "r.xml").read_text(encoding="utf-8")
    unknown = run_cli("report", b, "--db", str(db), "--fail-under", "acuracy=0.5")
    assert unknown.returncode == 2 and "acuracy" in unknown.stderr and "Traceback" not in unknown.stderr
    malformed = run_cli("report", b, "--db", str(db), "--fail-under", "accuracy")
    assert malformed.returncode == 2
    md = run_cli("report", b, "--db", str(db), "--format", "markdown", "-o", str(tmp_path / "r.md"))
    assert md.returncode == 0 and "|" in (tmp_path / "r.md").read_text(encoding="utf-8")
    d = run_cli("diff", a, b, "--db", str(db), "--json")
    assert d.returncode == 0, d.stderr
    rows = json.loads(d.stdout)["rows"]
    sent = next(r for r in rows if r["task"] == "sentiment")
    assert sent["n"] == 4 and sent["a_value"] == 0.5 and abs(sent["diff"] - (sent["b_value"] - sent["a_value"])) < 1e-9
    assert "paired on the same cases" in run_cli("diff", a, b, "--db", str(db)).stdout
    with_diff = run_cli("report", b, "--db", str(db), "--diff", a, "-o", str(tmp_path / "d.html"))
    assert with_diff.returncode == 0


def _view(*args: str) -> tuple[subprocess.Popen[str], str]:
    """`llamacompare view ARGS --no-browser` running, and the URL it prints."""
    proc = subprocess.Popen([sys.executable, "-m", "llamacompare.cli.main", "view", *args, "--no-browser"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    return proc.communicate(timeout=10)[1]


def test_view_serves_the_report_on_loopback_at_the_same_address_every_time(tmp_path: Path) -> None:
    """The page keeps a run's human labels in the browser's storage, which belongs to the address: each run is
    served on a port of its own, the same every time (a new random port would lose the labels marked last time)."""
    from llamacompare.cli.view import PORTS, run_port

    db, a, b = two_runs(tmp_path)
    urls = []
    for _ in range(2):
        proc, url = _view(b, "--db", str(db))
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = r.read().decode("utf-8")
            assert r.status == 200 and b in body and "<svg" in body
        finally:
            _stop(proc)
        urls.append(url)
    assert urls[0] == urls[1] == f"http://127.0.0.1:{run_port(b)}/" and run_port(b) in PORTS
    proc, url = _view("latest", "--db", str(db))  # the same run by another name: the same address
    _stop(proc)
    assert url == urls[0]

    with socket.socket() as taken:  # something else holds the run's port: served elsewhere, and said so
        taken.bind(("127.0.0.1", run_port(a)))
        taken.listen()
        proc, url = _view(a, "--db", str(db))
        try:
            assert url.startswith("http://127.0.0.1:") and url != f"http://127.0.0.1:{run_port(a)}/"
            with urllib.request.urlopen(url, timeout=10) as r:
                assert r.status == 200 and a in r.read().decode("utf-8")
        finally:
            err = _stop(proc)
        assert f"port {run_port(a)}" in err and "in use" in err
        asked = run_cli("view", a, "--db", str(db), "--port", str(run_port(a)), "--no-browser")
        assert asked.returncode == 2 and "Traceback" not in asked.stderr
        assert asked.stderr.count("\n") == 1 and f"127.0.0.1:{run_port(a)}" in asked.stderr


def test_a_two_model_diff_names_the_model_on_every_row(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    suite = write_suite(tmp_path)
    ids = []
    for first, second in (("Pozitif", "Negatif"), ("Negatif", "Pozitif")):
        def answer(body: dict, first: str = first, second: str = second) -> str:  # type: ignore[type-arg]
            return first if body["model"] == "alpha" else second

        with ScriptedServer(["alpha", "beta"], answer=answer) as srv:
            res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                          "--db", str(db), "--json")
            assert res.returncode == 0, res.stderr
            ids.append(json.loads(res.stdout)["outcome"]["run_id"])
        suite.write_text(SUITE.replace("Duygu:", "Duygu (tek kelime):"), encoding="utf-8")
    a, b = ids
    models = {"openai:alpha", "openai:beta"}

    md_path = tmp_path / "d.md"
    made = run_cli("report", b, "--db", str(db), "--diff", a, "--format", "markdown", "-o", str(md_path))
    assert made.returncode == 0, made.stderr
    md = md_path.read_text(encoding="utf-8")
    table = md.split("### Run diff", 1)[1].split("<sub>", 1)[0]
    header, _, *rows = [line for line in table.splitlines() if line.startswith("|")]
    assert "| Model |" in header
    assert len(rows) == 4  # two tasks x two models
    named = [next(m for m in models if f"| {m} |" in row) for row in rows]
    assert sorted(named) == sorted([*models, *models])

    html_path = tmp_path / "d.html"
    assert run_cli("report", b, "--db", str(db), "--diff", a, "-o", str(html_path)).returncode == 0
    section = html_path.read_text(encoding="utf-8").split('id="run-diff"', 1)[1].split("</section>", 1)[0]
    html_rows = section.split("<tr class=\"verdict-")[1:]
    assert len(html_rows) == 4
    assert sorted(next(m for m in models if f"<td>{m}</td>" in row) for row in html_rows) == sorted([*models, *models])

    terminal = run_cli("diff", a, b, "--db", str(db)).stdout
    lines = [line for line in terminal.splitlines() if "sentiment" in line or "summary" in line]
    assert len(lines) == 4 and all(any(m in line for m in models) for line in lines)
