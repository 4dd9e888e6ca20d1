"""`llamacompare export RUN`: every answer with its request, measurements and scores, as CSV, JSONL or JSON."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from llamacompare.cli.options import db_option


@click.command("export")
@click.argument("run", default="latest")
@db_option
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "json"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File to write (default: standard output).")
def command(run: str, db_path: str | None, fmt: str, output: str | None) -> None:
    """Export RUN's answers (one row per task x case x model x mode x repeat)."""
    from llamacompare.store import Store

    store = Store(db_path)
    row = store.get_run(run)
    rows = export_rows(store, row["id"])
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        write(rows, fmt, out)
    finally:
        if output:
            out.close()


FIELDS = ["run_id", "task", "case", "model", "mode", "repeat", "status", "error", "input", "reference", "answer",
          "finish_reason", "prompt_tokens", "completion_tokens", "latency_s", "ttft_s", "cost_usd", "cost_source",
          "cached", "attempts", "scores", "request"]


def export_rows(store: Any, run_id: str) -> Iterator[dict[str, Any]]:
    scores: dict[tuple[Any, ...], dict[str, float | None]] = {}
    for s in store.scores(run_id):
        scores.setdefault((s["task_id"], s["case_id"], s["model"], s["mode"], s["rep"]), {})[s["scorer"]] = s["value"]
    for r in store.results(run_id):
        yield {
            "run_id": run_id, "task": r["task_id"], "case": r["case_id"], "model": r["model"], "mode": r["mode"],
            "repeat": r["rep"], "status": r["status"], "error": r["error"], "input": json.loads(r["input_json"]),
            "reference": r["reference"], "answer": r["text"], "finish_reason": r["finish_reason"],
            "prompt_tokens": r["prompt_tokens"], "completion_tokens": r["completion_tokens"],
            "latency_s": r["latency_s"], "ttft_s": r["ttft_s"], "cost_usd": r["cost_usd"],
            "cost_source": r["cost_source"], "cached": bool(r["cached"]), "attempts": r["attempts"],
            "scores": scores.get((r["task_id"], r["case_id"], r["model"], r["mode"], r["rep"]), {}),
            "request": json.loads(r["request_json"]) if r["request_json"] else None,
        }


def write(rows: Iterator[dict[str, Any]], fmt: str, out: Any) -> None:
    if fmt == "jsonl":
        for r in rows:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif fmt == "json":
        json.dump(list(rows), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        w = csv.DictWriter(out, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                        for k, v in r.items()})
