"""`llamacompare view RUN`: serve the HTML report on 127.0.0.1 and open the browser."""

from __future__ import annotations

import errno
import hashlib
import http.server
import threading

import click

from llamacompare.cli.options import db_option
from llamacompare.errors import UsageError

#: the ports runs are served on: below Linux's ephemeral range (32768-60999), clear of the usual 8000s
PORTS = range(18300, 19300)


def run_port(run_id: str) -> int:
    """The run's own port. The page keeps a run's human labels in the browser's storage, which belongs to an
    address (http://127.0.0.1:PORT): on a new port each time, the labels marked last time would seem gone."""
    digest = int.from_bytes(hashlib.sha256(run_id.encode("utf-8")).digest()[:4], "big")
    return PORTS[digest % len(PORTS)]


@click.command("view")
@click.argument("run", default="latest")
@db_option
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port (default: the run's own, the same every time, so the labels you mark stay; 0: any free).")
@click.option("--no-browser", is_flag=True, help="Only print the URL.")
def command(run: str, db_path: str | None, port: int | None, no_browser: bool) -> None:
    """Serve RUN's report until Ctrl-C."""
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.analysis.runs import run_report

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.reports import render_html

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.store import Store

    report = run_report(Store(db_path), run)
    body = render_html(report).encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            if self.path not in ("/", "/index.html"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    own = run_port(report.run.id)
    wanted = own if port is None else port
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", wanted), Handler)
    except OSError as exc:
        if port is not None or exc.errno != errno.EADDRINUSE:
            raise UsageError(f"cannot serve on 127.0.0.1:{wanted}: {exc.strerror} "
                             "(--port N for another port, 0 for any free one)") from None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        click.echo(f"port {own}, where this run is always served, is in use (another view of it?): labels marked "
                   f"at the address below stay apart from those marked at http://127.0.0.1:{own}/", err=True)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    click.echo(f"serving the report at {url} (Ctrl-C to stop)", err=True)
    click.echo(url)
    if not no_browser:
        import webbrowser  # start-up: `llamacompare CMD --help` loads this module, not the command's work

        threading.Timer(0.3, lambda: webbrowser.open(url)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
