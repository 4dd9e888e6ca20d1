"""How the CLI ends on errors: one line, no traceback; exit 2 for bad input, 1 for failed requests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from llamacompare.errors import LlamaCompareError, ProviderError, UsageError


@contextmanager
def handle_errors() -> Iterator[None]:
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.settings import redact

    try:
        yield
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError | click.BadParameter) else exc.exit_code)
    except UsageError as exc:
        click.echo(f"error: {redact(str(exc))}", err=True)
        sys.exit(2)
    except ProviderError as exc:
        click.echo(f"error: {type(exc).__name__}: {redact(str(exc))}", err=True)
        sys.exit(1)
    except LlamaCompareError as exc:
        click.echo(f"error: {redact(str(exc))}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted; everything answered so far is saved", err=True)
        sys.exit(130)
