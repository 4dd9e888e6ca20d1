"""`llamacompare rescore RUN`: apply the (possibly edited) suite's scorers to stored answers; no model is called."""

from __future__ import annotations

from pathlib import Path

import click

from llamacompare.cli.options import db_option


@click.command("rescore")
@click.argument("run", default="latest")
@db_option
@click.option("--suite", "suite_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Score with this suite file's scorers and labels (same task ids) instead of the stored ones.")
def command(run: str, db_path: str | None, suite_path: Path | None) -> None:
    """Recompute RUN's scores from its stored answers."""
    from llamacompare.analysis.runs import stored_suite
    from llamacompare.analysis.score import score_run
    from llamacompare.cli.summary import print_report
    from llamacompare.errors import UsageError
    from llamacompare.store import Store

    store = Store(db_path)
    row = store.get_run(run)
    suite = stored_suite(row)
    if suite_path is not None:
        from llamacompare.tasks.loader import load_suite

        new = load_suite(suite_path, validate=False)
        known = {t.id for t in suite.tasks}
        missing = [t.id for t in new.tasks if t.id not in known]
        if missing:
            raise UsageError(f"{suite_path}: task(s) {', '.join(missing)} are not in run {row['id']} "
                             f"(its tasks: {', '.join(sorted(known))})")
        suite = new
    n = score_run(store, row["id"], suite)
    from llamacompare.analysis.summary import build_report

    print_report(build_report(store, row["id"], suite), side_by_side_max=0)
    click.echo(f"rescored run {row['id']}: {n} scores, no model called")
