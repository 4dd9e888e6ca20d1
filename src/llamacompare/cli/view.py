"""`llamacompare view RUN`: serve the HTML report on 127.0.0.1 and open the browser."""

from __future__ import annotations

import http.server
import threading

import click

from llamacompare.cli.options import db_option


@click.command("view")
@click.argument("run", default="latest")
@db_option
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port (default: any free one).")
@click.option("--no-browser", is_flag=True, help="Only print the URL.")
def command(run: str, db_path: str | None, port: int, no_browser: bool) -> None:
    """Serve RUN's report until Ctrl-C."""
    from llamacompare.analysis.runs import run_report
    from llamacompare.reports import render_html
    from llamacompare.store import Store

    body = render_html(run_report(Store(db_path), run)).encode("utf-8")

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

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    click.echo(f"serving the report at {url} (Ctrl-C to stop)", err=True)
    click.echo(url)
    if not no_browser:
        import webbrowser

        threading.Timer(0.3, lambda: webbrowser.open(url)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
