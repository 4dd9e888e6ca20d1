"""What the run command prints when a run ends; the report tables themselves are reports/terminal.py."""

from __future__ import annotations

from llamacompare import formatting as fmt
from llamacompare.cli.console import console
from llamacompare.reports.terminal import print_report
from llamacompare.runner.engine import RunOutcome

__all__ = ["print_outcome", "print_report"]


def print_outcome(outcome: RunOutcome, db_path: str | None) -> None:
    con = console()
    parts = [f"{outcome.sent} sent", f"{outcome.cached} from cache"]
    if outcome.already_done:
        parts.append(f"{outcome.already_done} already done")
    if outcome.failed:
        reasons = ", ".join(f"{k}: {v}" for k, v in outcome.errors.items())
        parts.append(f"[red]{outcome.failed} failed[/red] ({reasons})")
    cost = fmt.cost(outcome.cost_usd) + (" + unknown" if outcome.cost_unknown else "")
    con.print(f"run [bold]{outcome.run_id}[/bold]: {', '.join(parts)}; {outcome.tokens:,} tokens, {cost}, "
              f"{outcome.elapsed_s:.1f} s")
    if outcome.decisions:
        con.print(f"until decided: {outcome.saved:,} request(s) not sent", markup=False, highlight=False)
        for line in outcome.decisions:
            con.print(f"  {line}", markup=False, highlight=False)
    for note in getattr(outcome, "notes", ()):
        con.print(f"note: {note}", markup=False, highlight=False)
    db = f" --db {db_path}" if db_path else ""
    con.print(f"next: llamacompare show {outcome.run_id}{db} · llamacompare report {outcome.run_id}{db}"
              + (f" · rerun the failed: llamacompare run --resume {outcome.run_id}{db}" if outcome.failed else ""))
