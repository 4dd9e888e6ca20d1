"""`llamacompare` entry point. Commands are imported only when invoked, to keep start-up fast."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("llamacompare.cli.ask", "Send one prompt to several models and show the answers side by side."),
    "run": ("llamacompare.cli.run", "Run a suite of tasks x models, store and score every answer."),
    "runs": ("llamacompare.cli.runs", "List stored runs, newest first."),
    "show": ("llamacompare.cli.show", "Show a stored run: summary and answers side by side."),
    "export": ("llamacompare.cli.export", "Export a run's answers as CSV, JSONL or JSON."),
    "rescore": ("llamacompare.cli.rescore", "Apply scorers again to a stored run without calling any model."),
    "report": ("llamacompare.cli.report", "Write a self-contained HTML (or Markdown/JUnit) report of a run."),
    "view": ("llamacompare.cli.view", "Serve a run's HTML report on 127.0.0.1 and open the browser."),
    "diff": ("llamacompare.cli.diff", "Compare two runs case by case, with significance."),
    "models": ("llamacompare.cli.models", "List known model names and what a name resolves to."),
    "batch": ("llamacompare.cli.batch", "A run's requests as a batch file for vLLM's run-batch, and its answers back."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _available(name):
            return None
        return importlib.import_module(COMMANDS[name][0]).command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _available(name: str) -> bool:
    return importlib.util.find_spec(COMMANDS[name][0]) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llamacompare")
def cli() -> None:
    """Compare LLMs side by side on the same prompts: answers, scores with confidence intervals, latency, cost.

    \b
    Quick start (no key, no network):
      llamacompare run                      # the seed notebook's tasks on the bundled model
      llamacompare ask "Merhaba!" -m local:gemma-3-270m
    """


def main() -> None:
    # start-up: `import llamacompare` and `llamacompare --help` load nothing more
    from llamacompare.cli.errors import handle_errors

    with handle_errors():
        cli.main(standalone_mode=False)
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
