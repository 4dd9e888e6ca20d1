"""`llamacompare batch export` and `batch import`: a run's requests as an OpenAI batch file for a GPU box with no
server (vLLM's run-batch), and its output stored back as the run's answers."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from llamacompare.cli.options import base_url_option, db_option

if TYPE_CHECKING:
    from llamacompare.models.spec import Api
    from llamacompare.store import Store


@click.group("batch")
def command() -> None:
    """Run a suite's requests offline: export them as a batch file, import the answers."""


@command.command("export")
@click.argument("source", default="latest")
@click.option("-m", "--model", "models", multiple=True,
              help="With a SUITE: the model(s) of the new run (e.g. vllm:meta-llama/Llama-3.1-8B-Instruct). With a "
              "RUN: only this model's requests.")
@click.option("--data", default=None, metavar="FILE|hf:...", help="With a SUITE: its cases, as `run --data`.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="With a SUITE: the first N cases of each task.")
@click.option("--api", type=click.Choice(["chat", "completions"]), default=None,
              help="With a SUITE: how conversations are sent, as `run --api` (vLLM's run-batch takes chat only).")
@base_url_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The batch file to write (default: batch-RUN.jsonl here).")
@db_option
def export(source: str, models: tuple[str, ...], data: str | None, limit: int | None, api: Api | None,
           base_url: str | None, output: Path | None, db_path: str | None) -> None:
    """Write the requests SOURCE still needs as an OpenAI batch file: SOURCE is a stored RUN (default: the latest),
    or, with -m, a SUITE for a new run."""
    from llamacompare import pipeline  # start-up: `llamacompare CMD --help` loads this module, not the command's work

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.runner import RunOptions

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.runner.offline import export_batch

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.store import Store

    store = Store(db_path)
    new = bool(models) and not _is_run(store, source)
    if new:
        plan = pipeline.plan_run(source, list(models), RunOptions(base_url=base_url, api=api), data=data, limit=limit)
    else:
        plan = pipeline.resume_plan(store, source)
    path = output or Path(f"batch-{plan.run_id}.jsonl")
    # written beside, then moved into place: a failure leaves no half-written file
    fd, tmp = tempfile.mkstemp(prefix=".batch-", suffix=".jsonl", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as out:
            done = export_batch(plan, store, out, model=None if new else (models[0] if models else None), new=new)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    cached = f" ({done.cached:,} found in the cache and stored)" if done.cached else ""
    click.echo(f"run {done.run_id}: {done.lines:,} request(s) of {', '.join(done.models)} written to {path}{cached}")
    db = f" --db {db_path}" if db_path else ""
    click.echo(f"next: python -m vllm.entrypoints.openai.run_batch -i {path} -o results.jsonl --model MODEL; then "
               f"llamacompare batch import {done.run_id} results.jsonl{db}")


@command.command("import")
@click.argument("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
def import_(run: str, file: Path, db_path: str | None) -> None:
    """Store FILE (vLLM run-batch's output, or a provider batch's) as RUN's answers, then score the run."""
    from llamacompare import pipeline  # start-up: `llamacompare CMD --help` loads this module, not the command's work

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.cli.summary import print_outcome, print_report

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.runner.offline import import_batch

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.store import Store

    store = Store(db_path)
    plan = pipeline.resume_plan(store, run)
    outcome = import_batch(plan, store, file)
    result = pipeline.rescore_run(store, plan.run_id)
    print_report(result.report, side_by_side_max=0)
    print_outcome(outcome, db_path)
    if outcome.failed:
        sys.exit(1)


def _is_run(store: Store, ref: str) -> bool:
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.errors import UsageError

    try:
        store.get_run(ref)
    except UsageError:
        return False
    return True
