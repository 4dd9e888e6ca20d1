"""`llamacompare report RUN`: a self-contained HTML file (or Markdown, JUnit XML), with CI gates."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from llamacompare.cli.options import db_option, margin_option, prefer_option

if TYPE_CHECKING:
    from llamacompare.scoring.recommend import Prefer


def parse_gates(values: tuple[str, ...]) -> dict[str, float]:
    gates: dict[str, float] = {}
    for v in values:
        name, sep, num = v.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            gates[name.strip()] = float(num)
        except ValueError:
            msg = f"{v!r}: write METRIC=VALUE, e.g. accuracy=0.8"
            raise click.BadParameter(msg, param_hint="--fail-under") from None
    return gates


@click.command("report")
@click.argument("run", default="latest")
@db_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write (default: llamacompare-RUN.html / .md / .xml in the current directory).")
@click.option("--format", "fmt", type=click.Choice(["html", "markdown", "junit"]), default="html", show_default=True)
@click.option("--fail-under", "gates", multiple=True, metavar="METRIC=VALUE",
              help="Exit 1 when any model's METRIC is below VALUE (e.g. accuracy=0.8). Repeatable.")
@click.option("--diff", "diff_against", default=None, metavar="RUN_A", help="Include a paired comparison with RUN_A.")
@prefer_option
@margin_option
def command(run: str, db_path: str | None, output: Path | None, fmt: str, gates: tuple[str, ...],
            diff_against: str | None, prefer: Prefer, margin: float | None) -> None:
    """Write a report of RUN (an id, a unique prefix, or 'latest')."""
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.analysis.runs import run_report

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.store import Store

    gate_map = parse_gates(gates)
    store = Store(db_path)
    data = run_report(store, run, prefer=prefer, margin=margin)
    if diff_against:
        # start-up: `llamacompare CMD --help` loads this module, not the command's work
        from llamacompare.analysis.diff import diff_runs

        data.diff = diff_runs(store, diff_against, data.run.id)
    failures: list[str] = []
    if gate_map:
        # start-up: `llamacompare CMD --help` loads this module, not the command's work
        from llamacompare.reports import check_gates

        failures = check_gates(data, gate_map)
    ext = {"html": "html", "markdown": "md", "junit": "xml"}[fmt]
    path = output or Path(f"llamacompare-{data.run.id}.{ext}")
    if fmt == "html":
        # start-up: `llamacompare CMD --help` loads this module, not the command's work
        from llamacompare.reports import render_html

        text = render_html(data)
    elif fmt == "markdown":
        # start-up: `llamacompare CMD --help` loads this module, not the command's work
        from llamacompare.reports import render_markdown

        text = render_markdown(data)
    else:
        # start-up: `llamacompare CMD --help` loads this module, not the command's work
        from llamacompare.reports import render_junit

        text = render_junit(data, gate_map)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # never a half-written report
    click.echo(f"wrote {path}")
    for line in failures:
        click.echo(f"gate failed: {line}", err=True)
    if failures:
        sys.exit(1)
