"""Terminal rendering shared by commands (rich), imported only when something is printed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from llamacompare import formatting as fmt


def console() -> Console:
    return Console(highlight=False)


def print_side_by_side(specs: Sequence[Any], results: Sequence[Any], *, verbose: bool = False) -> None:
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.settings import redact

    table = Table(show_lines=True, expand=True)
    table.add_column("", style="bold", no_wrap=True)
    for spec in specs:
        table.add_column(spec.display, overflow="fold")
    rows: dict[str, list[Any]] = {k: [] for k in ("answer", "latency", "first token", "tokens", "cost", "finish")}
    if verbose:
        rows["sent"] = []
    for r in results:
        if isinstance(r, Exception):
            rows["answer"].append(Text(f"{type(r).__name__}: {redact(str(r))}", style="red"))
            for k in rows:
                if k != "answer":
                    rows[k].append(fmt.DASH)
            continue
        rows["answer"].append(Text(r.text.strip()))
        rows["latency"].append(fmt.seconds(r.latency_s))
        rows["first token"].append(fmt.seconds(r.ttft_s))
        rows["tokens"].append(f"{_n(r.prompt_tokens)} in / {_n(r.completion_tokens)} out")
        rows["cost"].append(fmt.cost(r.cost_usd))
        rows["finish"].append(r.finish_reason or "-")
        if verbose:
            rows["sent"].append(Text(_sent(r.request)))
    for name, cells in rows.items():
        table.add_row(name, *cells)
    console().print(table)


def _n(v: int | None) -> str:
    return "?" if v is None else fmt.integer(v)


def _sent(request: dict[str, Any]) -> str:
    if "prompt" in request:
        body = request["prompt"]
    else:
        body = "\n".join(f"[{m['role']}] {m['content']}" for m in request.get("messages", []))
    return f"{body}\n\nparams: {request.get('params')}"
