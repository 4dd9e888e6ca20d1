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
margin_option = click.option(
    "--margin", type=click.FloatRange(min=0.0, max=1.0, max_open=True), default=None,
    help="Recommend the cheapest (fastest) model within this many points of the best on the primary metric "
    "(0.02 = 2 points), by a one-sided 95%% bound; default: the run's own --margin, else the tie rule.",
)
