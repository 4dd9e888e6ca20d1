"""`llamacompare models`: the installed providers and the models they know, and what a given name resolves to."""

from __future__ import annotations

import click


@click.command("models")
@click.argument("names", nargs=-1)
def command(names: tuple[str, ...]) -> None:
    """Without NAMES, list the installed providers and known models; with NAMES, show what each resolves to."""
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.models.plugins import plugins

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.models.registry import resolve

    if names:
        for n in names:
            s = resolve(n)
            click.echo(f"{n} -> {s.name} (provider {s.provider}, chat format {s.family or 'server-side'}"
                       + (f", {s.base_url}" if s.base_url else "") + ")")
        return
    for plugin in plugins().values():
        for line in plugin.listing():
            click.echo(line)
