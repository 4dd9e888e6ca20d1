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
@click.option("--labels", "labels_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Store the human labels exported from the HTML report (a JSON file) in the run, then score: "
                   "the `human` metric and the judge's agreement with people (Cohen's kappa).")
def command(run: str, db_path: str | None, suite_path: Path | None, labels_path: Path | None) -> None:
    """Recompute RUN's scores from its stored answers."""
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.cli.summary import print_report

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.pipeline import rescore_run

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.store import Store

    result = rescore_run(Store(db_path), run, suite_path=suite_path, labels_path=labels_path)
    print_report(result.report, side_by_side_max=0)
    stored = f"{result.labels} human labels stored, " if labels_path is not None else ""
    click.echo(f"rescored run {result.run_id}: {stored}{result.scores} scores, no model called")
