"""`llamacompare ask`: the notebook's cell as one command."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING

import click

from llamacompare.cli.options import base_url_option

if TYPE_CHECKING:
    from llamacompare.errors import LlamaCompareError
    from llamacompare.models.base import Response
    from llamacompare.models.client import ModelClient
    from llamacompare.models.spec import ModelSpec
from llamacompare.sync import run as run_loop


@click.command("ask")
@click.argument("prompt")
@click.option("-m", "--model", "models", multiple=True, help="Model name (repeat for several). Default: the bundled "
              "model, or the seed's Llama 2 7B when TOGETHER_API_KEY is set.")
@base_url_option
@click.option("--system", default=None, help="System prompt.")
@click.option("--temperature", type=click.FloatRange(min=0.0), default=0.0, show_default=True)
@click.option("--max-tokens", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--raw", is_flag=True, help="Send the prompt as written, without the chat template (add_inst=False).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=120.0, show_default=True)
@click.option("--verbose", is_flag=True, help="Show exactly what each model received.")
@click.option("--json", "as_json", is_flag=True, help="Print the Responses as JSON.")
def command(prompt: str, models: tuple[str, ...], base_url: str | None, system: str | None, temperature: float,
            max_tokens: int, raw: bool, timeout_s: float, verbose: bool, as_json: bool) -> None:
    """Send PROMPT to each model; print the answers side by side with latency, tokens and cost."""
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.helpers import default_model

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.models.registry import resolve

    names = list(models) or [default_model()]
    specs = [resolve(n, base_url=base_url) for n in names]  # bad names fail here, before any request
    results = run_loop(_ask_all(specs, prompt, system, temperature, max_tokens, raw, timeout_s))
    if as_json:
        out = [r.to_dict() if not isinstance(r, Exception) else {"model": s.name, "error": _err(r)}
               for s, r in zip(specs, results, strict=True)]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        # start-up: `llamacompare CMD --help` loads this module, not the command's work
        from llamacompare.cli.console import print_side_by_side

        print_side_by_side(specs, results, verbose=verbose)
    if any(isinstance(r, Exception) for r in results):
        sys.exit(1)


def _err(exc: BaseException) -> str:
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.settings import redact

    return f"{type(exc).__name__}: {redact(str(exc))}"


async def _ask_all(specs: list[ModelSpec], prompt: str, system: str | None, temperature: float, max_tokens: int,
                   raw: bool, timeout_s: float) -> list[Response | LlamaCompareError]:
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.errors import LlamaCompareError

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.models.base import Params

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.models.client import ModelClient

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.prompts.chat_templates import build_messages

    messages = build_messages([prompt], system=system)
    params = Params(temperature=temperature, max_tokens=max_tokens)

    clients = [ModelClient(spec, timeout_s=timeout_s) for spec in specs]  # a missing key fails here, exit 2

    async def one(client: ModelClient) -> Response:
        try:
            await client.prepare()
            return await client.send(client.request_for(messages, params, add_inst=not raw))
        finally:
            await client.aclose()

    results = await asyncio.gather(*(one(c) for c in clients), return_exceptions=True)
    out: list[Response | LlamaCompareError] = []
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, LlamaCompareError):
            raise r
        out.append(r)
    return out
