"""`llamacompare runs`: stored runs, newest first."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from llamacompare.cli.options import db_option, json_option

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table


@click.command("runs")
@db_option
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True)
@json_option
def command(db_path: str | None, limit: int, as_json: bool) -> None:
    """List stored runs, newest first."""
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.store import Store

    store = Store(db_path)
    rows = store.list_runs(limit)
    items: list[dict[str, Any]] = []
    for listing in rows:
        r = listing.run
        items.append({"id": r.id, "suite": r.suite, "created_at": r.created_at, "status": r.status,
                      "models": [m.get("label") or m["name"] for m in r.config["models"]],
                      "answered": listing.answered, "failed": listing.failed})
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo(f"no runs in {store.path} yet; start one with: llamacompare run")
        return
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.cli.console import console

    con = console()
    con.print(_table(con, f"runs in {store.path}", items))


def _table(con: Console, title: str, items: list[dict[str, Any]]) -> RenderableType:
    """A row per run. Run ids never fold (they are copied whole); where a row does not fit on a line, models go
    one a line without the prefix they share, suites and model names fold at separators, the creation time takes
    two lines, then goes (a run id starts with it) and a status other than done goes under the id."""
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.reports.names import display_names, file_name, fold

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.reports.terminal import MODEL_LEAST, Layout, fit, plain_table

    short, prefix = display_names(m for it in items for m in it["models"])
    joined = [", ".join(file_name(m) for m in it["models"]) for it in items]
    stacked = ["\n".join(short[m] for m in it["models"]) for it in items]
    suites = [it["suite"] for it in items]
    created = [it["created_at"][:19].replace("T", " ") for it in items]

    def build(models: list[str], when: str, legend: str, status: bool = True) -> Callable[[Sequence[int]], Table]:
        def make(widths: Sequence[int]) -> Table:
            suite_cells = [fold(s, widths[0]) for s in suites]
            model_cells = [fold(m, widths[1], hang="  ") for m in models]
            caption = [legend] if legend else []
            if not when:
                caption.append("created: a run id starts with the date and time (UTC)")
            if not status:
                caption.append("status: done, unless said under the run id")
            table = plain_table(title, caption="\n".join(caption) or None,
                                lines=when == "split" or any("\n" in c for c in (*suite_cells, *model_cells)))
            table.add_column("run", no_wrap=True, min_width=max(len(it["id"]) for it in items))
            table.add_column("suite", no_wrap=True)
            if when:
                table.add_column("created", no_wrap=True)
            if status:
                table.add_column("status", no_wrap=True)
            table.add_column("models", no_wrap=True)
            table.add_column("answered", justify="right", no_wrap=True)
            table.add_column("failed", justify="right", no_wrap=True)
            for it, suite, model, at in zip(items, suite_cells, model_cells, created, strict=True):
                below = "" if status or it["status"] == "done" else f"\n({it['status']})"  # the id whole above
                table.add_row(it["id"] + below, suite,
                              *([at.replace(" ", "\n")] if when == "split" else [at] if when else []),
                              *([it["status"]] if status else []), model, str(it["answered"]),
                              str(it["failed"] or "-"))
            return table

        return make

    legend = f"model names start with {prefix}" if prefix else ""
    whole = 10_000  # wider than any text: the first layout folds nothing
    return fit(con, [Layout(build(joined, "line", ""), [suites, joined], [whole, whole]),
                     Layout(build(stacked, "split", legend), [suites, stacked], [12, MODEL_LEAST]),
                     Layout(build(stacked, "", legend), [suites, stacked], [12, MODEL_LEAST]),
                     Layout(build(stacked, "", legend, False), [suites, stacked], [12, MODEL_LEAST]),
                     Layout(build(stacked, "", legend, False), [suites, stacked], [0, 0])])
