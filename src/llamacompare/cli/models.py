"""`llamacompare models`: known names, and what a given name resolves to."""

from __future__ import annotations

import click


@click.command("models")
@click.argument("names", nargs=-1)
def command(names: tuple[str, ...]) -> None:
    """Without NAMES, list the known models; with NAMES, show what each resolves to."""
    from llamacompare.models.catalog import BUNDLED_MODEL, PRICES_AS_OF, TOGETHER_MODELS
    from llamacompare.models.registry import resolve

    if names:
        for n in names:
            s = resolve(n)
            click.echo(f"{n} -> {s.name} (provider {s.provider}, chat format {s.family or 'server-side'}"
                       + (f", {s.base_url}" if s.base_url else "") + ")")
        return
    click.echo(f"local:{BUNDLED_MODEL}  (bundled, in-process, no key)")
    for m in TOGETHER_MODELS:
        price = f"${m.price_in:.2f}/${m.price_out:.2f} per M tokens ({PRICES_AS_OF})" if m.price_in else ""
        click.echo(f"together:{m.name}  {price}")
    click.echo("openai:NAME / vllm:NAME / ollama:NAME with --base-url; local:/path/model.gguf; "
               "local:ollama/NAME[:TAG]")
