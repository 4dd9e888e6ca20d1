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
    from llamacompare.cli.summary import print_report
    from llamacompare.pipeline import rescore_run
    from llamacompare.store import Store

    result = rescore_run(Store(db_path), run, suite_path=suite_path)
    print_report(result.report, side_by_side_max=0)
    click.echo(f"rescored run {result.run_id}: {result.scores} scores, no model called")
