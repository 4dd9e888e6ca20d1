"""Options shared by several commands."""

from __future__ import annotations

import click

base_url_option = click.option(
    "--base-url", default=None, envvar="LLAMACOMPARE_BASE_URL",
    help="Base URL of an OpenAI-compatible server, for openai:/vllm:/ollama: models (e.g. http://127.0.0.1:8080/v1).",
)
db_option = click.option(
    "--db", "db_path", default=None, type=click.Path(dir_okay=False),
    help="SQLite database to use (default: llamacompare.db in the user data dir, or $LLAMACOMPARE_DB).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
prefer_option = click.option(
    "--prefer", type=click.Choice(["cost", "latency"]), default="cost", show_default=True,
    help="Recommend the cheapest or the fastest model among those tied with the best.",
)
