"""Shared fixtures: an isolated llamacompare home, the bundled model, and a real llama.cpp server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]

CHROMIUM = os.environ.get("LLAMACOMPARE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

SEED_TASK1_PROMPT = """
Mesaj: Merhaba Amit, düşünceli doğum günü kartın için teşekkürler!
Duygu: Pozitif
Mesaj: Merhaba Baba, piyano resitalime 20 dakika geç kaldın!
Duygu: Negatif
Mesaj: Bu akşam pizza sipariş etmek için sabırsızlanıyorum!
Duygu: ?
Tek kelime ile yanıt ver.
"""

HF_VARS = ("HF_HOME", "HF_HUB_OFFLINE", "HF_DATASETS_CACHE", "HF_HUB_CACHE", "HF_DATASETS_OFFLINE")
SECRET_VARS = ("TOGETHER_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "VLLM_API_KEY", "ANTHROPIC_API_KEY",
               "ANTHROPIC_BASE_URL", "LLAMACOMPARE_DB", "LLAMACOMPARE_BASE_URL")


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test touches the user's data dir or sees the developer's keys."""
    home = tmp_path_factory.mktemp("lchome")
    saved = {k: os.environ.get(k) for k in (*SECRET_VARS, *HF_VARS, "LLAMACOMPARE_HOME")}
    for k in SECRET_VARS:
        os.environ.pop(k, None)
    os.environ["LLAMACOMPARE_HOME"] = str(home)
    # the Hugging Face cache of the tests is their own, and the Hub is never asked (it is not reachable here)
    os.environ.update({"HF_HOME": str(home / "hf"), "HF_HUB_OFFLINE": "1"})
    for k in ("HF_DATASETS_CACHE", "HF_HUB_CACHE", "HF_DATASETS_OFFLINE"):
        os.environ.pop(k, None)
    yield home
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def bundled_model_file(isolated_home: Path) -> Path:
    from llamacompare.models.bundled import bundled_model_path

    return bundled_model_path()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(bundled_model_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server with the bundled model, on 127.0.0.1. Yields the base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model_file), "--model_alias",
             "gemma-3-270m", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2",
             "--interrupt_requests", "False"],  # its default cancels a stream when the next request arrives
            stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_healthy(proc, url + "/models", log, "llama_cpp.server")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


LLAMA_CPP_SERVER = REPO / ".venv" / "bin" / "llama-server"


@pytest.fixture(scope="session")
def cpp_server(isolated_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """llama.cpp's own C++ server (`llama-server`, built by scripts/setup.sh dev from the llama.cpp source of the
    in-process engine) on 127.0.0.1: `cpp_server(BUNDLED_NAME, *EXTRA_ARGS)` starts one for that bundled model (and
    those server options), once per session, and gives its base URL; the model is served as `openai:BUNDLED_NAME`."""
    from llamacompare.models.bundled import bundled_model_path

    if not LLAMA_CPP_SERVER.exists():
        pytest.fail(f"{LLAMA_CPP_SERVER} not found: run bash scripts/setup.sh dev (it builds llama-server once)")
    started: dict[tuple[str, ...], tuple[subprocess.Popen[bytes], str]] = {}

    def start(name: str, *extra: str) -> str:
        key = (name, *extra)
        if key not in started:
            port = free_port()
            log = tmp_path_factory.mktemp("cpp-server") / "server.log"
            with log.open("w") as out:
                proc = subprocess.Popen(
                    [str(LLAMA_CPP_SERVER), "-m", str(bundled_model_path(name)), "--alias", name, "--host",
                     "127.0.0.1", "--port", str(port), "-c", "8192", "-np", "4", "-t", "2", "--no-webui", *extra],
                    stdout=out, stderr=subprocess.STDOUT)
            started[key] = (proc, f"http://127.0.0.1:{port}/v1")
            _wait_healthy(proc, f"http://127.0.0.1:{port}/health", log, "llama-server")
        return started[key][1]

    try:
        yield start
    finally:
        for proc, _ in started.values():
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path, what: str) -> None:
    """Until `url` answers 200; the server's log in the error when it exits or takes over two minutes."""
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start: {log.read_text()[-2000:]}")
        time.sleep(0.3)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess (exit codes and stderr as a user sees them)."""
    return subprocess.run(
        [sys.executable, "-m", "llamacompare.cli.main", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})}, input=input, cwd=REPO,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium with no network of its own (the report and notebook tests)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()
