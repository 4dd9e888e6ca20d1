"""`llamacompare runs`: stored runs, newest first."""

from __future__ import annotations

import json
from typing import Any

import click

from llamacompare.cli.options import db_option, json_option


@click.command("runs")
@db_option
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True)
@json_option
def command(db_path: str | None, limit: int, as_json: bool) -> None:
    """List stored runs, newest first."""
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
    from rich.table import Table

    from llamacompare.cli.render import console

    table = Table(title=f"runs in {store.path}", title_justify="left")
    for col in ("run", "suite", "created", "status", "models", "answered", "failed"):
        table.add_column(col, overflow="fold")
    for it in items:
        table.add_row(it["id"], it["suite"], it["created_at"][:19].replace("T", " "), it["status"],
                      ", ".join(it["models"]), str(it["answered"]), str(it["failed"] or "-"))
    console().print(table)
