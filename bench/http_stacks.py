"""Which async HTTP stack costs the least per request? Chat-completion requests against the instant server.

    python bench/http_stacks.py                 # 2,000 requests, concurrency 64, 3 repeats per client
    python bench/http_stacks.py --servers       # instead: CPU cost of the instant server's implementations

Clients are measured side by side in one run, interleaved repeat by repeat (so drift hits all alike),
each against the same server process. Per client: requests/s (median of the repeats), the client
process' CPU time per request (what the HTTP stack costs us), and the server's CPU time per request
(from /proc, Linux only). Every client parses the answer down to its text, as the tool would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from instant_server import start_instant_server  # noqa: E402

BODY: dict[str, Any] = {
    "model": "instant",
    "messages": [{"role": "user", "content": "Yorum: Ürün çok güzel. Duygu nedir?"}],
    "max_tokens": 16,
    "temperature": 0,
}
Send = Callable[[], Awaitable[str]]
ClientFactory = Callable[[str, int], contextlib.AbstractAsyncContextManager[Send]]


# -- clients: each yields a `send()` that makes one request and returns the answer text ---------------


@contextlib.asynccontextmanager
async def aiohttp_client(base_url: str, conc: int, use_orjson: bool = False) -> AsyncIterator[Send]:
    import aiohttp

    url = base_url + "/chat/completions"
    if use_orjson:
        import orjson

        payload, loads = orjson.dumps(BODY), orjson.loads
    else:
        payload, loads = json.dumps(BODY).encode(), json.loads
    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc)) as session:

        async def send() -> str:
            async with session.post(url, data=payload, headers=headers) as r:
                r.raise_for_status()
                return loads(await r.read())["choices"][0]["message"]["content"]

        yield send


@contextlib.asynccontextmanager
async def aiohttp_json_kwarg_client(base_url: str, conc: int) -> AsyncIterator[Send]:
    """The everyday aiohttp spelling: json= to send, r.json() to parse."""
    import aiohttp

    url = base_url + "/chat/completions"
    headers = {"Authorization": "Bearer bench"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc)) as session:

        async def send() -> str:
            async with session.post(url, json=BODY, headers=headers) as r:
                r.raise_for_status()
                return (await r.json())["choices"][0]["message"]["content"]

        yield send


def _httpx_like(module_name: str) -> ClientFactory:
    @contextlib.asynccontextmanager
    async def factory(base_url: str, conc: int) -> AsyncIterator[Send]:
        mod = __import__(module_name)
        limits = mod.Limits(max_connections=conc, max_keepalive_connections=conc)
        headers = {"Authorization": "Bearer bench"}
        async with mod.AsyncClient(limits=limits, headers=headers) as client:
            url = base_url + "/chat/completions"

            async def send() -> str:
                r = await client.post(url, json=BODY)
                r.raise_for_status()
                return r.json()["choices"][0]["message"]["content"]

            yield send

    return factory


def _openai(transport: str) -> ClientFactory:
    @contextlib.asynccontextmanager
    async def factory(base_url: str, conc: int) -> AsyncIterator[Send]:
        import openai

        http_client = openai.DefaultAioHttpClient() if transport == "aiohttp" else openai.DefaultAsyncHttpxClient()
        client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0, http_client=http_client)
        async with client:

            async def send() -> str:
                r = await client.chat.completions.create(**BODY)
                return r.choices[0].message.content or ""

            yield send

    return factory


def available_clients() -> dict[str, ClientFactory]:
    clients: dict[str, ClientFactory] = {
        "aiohttp (bare)": aiohttp_client,
        "aiohttp json=/r.json()": aiohttp_json_kwarg_client,
    }
    if _has("orjson"):
        clients["aiohttp + orjson"] = lambda u, c: aiohttp_client(u, c, use_orjson=True)
    for mod in ("httpx", "httpx2"):
        if _has(mod):
            clients[f"{mod} (bare)"] = _httpx_like(mod)
    if _has("openai"):
        clients["openai SDK / httpx"] = _openai("httpx")
        if _has("aiohttp"):
            clients["openai SDK / aiohttp"] = _openai("aiohttp")
    return clients


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# -- measuring -----------------------------------------------------------------------------------------


def server_cpu_s(pid: int) -> float:
    """User+system CPU seconds of a process so far (Linux /proc), NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Runs:
    rps: list[float] = field(default_factory=list)
    client_cpu_us: list[float] = field(default_factory=list)
    server_cpu_us: list[float] = field(default_factory=list)


async def measure(factory: ClientFactory, base_url: str, server_pid: int, n: int, conc: int, runs: Runs) -> None:
    async with factory(base_url, conc) as send:
        sem = asyncio.Semaphore(conc)

        async def one() -> str:
            async with sem:
                return await send()

        await asyncio.gather(*(one() for _ in range(conc)))  # warm up: open the connections
        s0, c0, t0 = server_cpu_s(server_pid), time.process_time(), time.perf_counter()
        answers = await asyncio.gather(*(one() for _ in range(n)))
        wall = time.perf_counter() - t0
        client_cpu, srv_cpu = time.process_time() - c0, server_cpu_s(server_pid) - s0
    if answers.count("Pozitif") != n:
        raise RuntimeError(f"{factory}: wrong answers")
    runs.rps.append(n / wall)
    runs.client_cpu_us.append(client_cpu / n * 1e6)
    runs.server_cpu_us.append(srv_cpu / n * 1e6)


async def bench_clients(base_url: str, pid: int, names: list[str], n: int, conc: int, repeats: int) -> dict[str, Runs]:
    clients = available_clients()
    results = {name: Runs() for name in names}
    for rep in range(repeats):
        for name in names:
            await measure(clients[name], base_url, pid, n, conc, results[name])
            print(f"  repeat {rep + 1}: {name:<24} {results[name].rps[-1]:8.0f} req/s", file=sys.stderr)
    return results


def print_table(results: dict[str, Runs], baseline: str) -> None:
    """Medians, and the best run: other load on the machine only ever slows a run down."""
    base = statistics.median(results[baseline].rps)
    base_cpu = statistics.median(results[baseline].client_cpu_us)
    print(
        f"\n{'client':<24}{'req/s median':>13}{'best':>7}{'vs bare':>9}"
        f"{'client CPU µs/req':>19}{'vs bare':>9}{'server CPU µs/req':>19}   runs (req/s)"
    )
    for name, r in results.items():
        med, cpu = statistics.median(r.rps), statistics.median(r.client_cpu_us)
        print(
            f"{name:<24}{med:>13.0f}{max(r.rps):>7.0f}{med / base:>8.2f}x"
            f"{cpu:>19.0f}{cpu / base_cpu:>8.1f}x{statistics.median(r.server_cpu_us):>19.0f}   "
            + "/".join(f"{x:.0f}" for x in r.rps)
        )


def parse_microbench() -> None:
    """json vs orjson on the answer body alone, and on a long (2,000-word) answer."""
    import timeit

    import orjson

    from instant_server import BODIES

    small = BODIES[(b"POST", b"/v1/chat/completions")][0]
    big = json.dumps({"choices": [{"message": {"content": "kelime " * 2000}}], "usage": {}}).encode()
    print("\nparsing one answer (µs):      json.loads   orjson.loads")
    for label, raw in (("small (instant server)", small), ("2,000-word answer", big)):
        t_json = min(timeit.repeat(lambda raw=raw: json.loads(raw), number=2000, repeat=5)) / 2000 * 1e6
        t_or = min(timeit.repeat(lambda raw=raw: orjson.loads(raw), number=2000, repeat=5)) / 2000 * 1e6
        print(f"  {label:<28}{t_json:>10.1f}{t_or:>15.1f}")


def versions() -> str:
    parts = [f"Python {platform.python_version()}", f"{os.cpu_count()} CPUs"]
    for dist in ("aiohttp", "httpx", "httpx2", "openai", "orjson", "uvloop"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            parts.append(f"{dist} {importlib.metadata.version(dist)}")
    return ", ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--requests", type=int, default=2000)
    ap.add_argument("-c", "--concurrency", type=int, default=64)
    ap.add_argument("-r", "--repeats", type=int, default=3)
    ap.add_argument("--clients", help="comma-separated subset of: " + ", ".join(available_clients()))
    ap.add_argument("--servers", action="store_true", help="compare the instant server's implementations instead")
    ap.add_argument("--server-impl", default="protocol", choices=("protocol", "aiohttp"))
    ap.add_argument("--server-no-uvloop", action="store_true")
    ns = ap.parse_args()
    print(versions())
    print(f"{ns.requests} chat completions at concurrency {ns.concurrency}, {ns.repeats} repeats; client loop: asyncio")
    if ns.servers:
        compare_servers(ns.requests, ns.concurrency, ns.repeats)
        return
    names = ns.clients.split(",") if ns.clients else list(available_clients())
    with start_instant_server(impl=ns.server_impl, uvloop=not ns.server_no_uvloop) as (proc, url):
        print(f"server: instant_server --impl {ns.server_impl}{' (no uvloop)' if ns.server_no_uvloop else ''}")
        results = asyncio.run(bench_clients(url, proc.pid, names, ns.requests, ns.concurrency, ns.repeats))
    print_table(results, names[0])
    if _has("orjson"):
        parse_microbench()


def compare_servers(n: int, conc: int, repeats: int) -> None:
    variants = [("protocol", True), ("protocol", False), ("aiohttp", True), ("aiohttp", False)]
    if not _has("uvloop"):
        variants = [v for v in variants if not v[1]]
    results: dict[str, Runs] = {}
    for impl, uv in variants:
        label = f"{impl}{' + uvloop' if uv else ''}"
        with start_instant_server(impl=impl, uvloop=uv) as (proc, url):
            runs = results[label] = Runs()
            for _ in range(repeats):
                asyncio.run(measure(aiohttp_client, url, proc.pid, n, conc, runs))
    print(f"\n{'server implementation':<26}{'req/s (median)':>15}{'server CPU µs/req':>19}{'client CPU µs/req':>19}")
    for label, r in results.items():
        print(
            f"{label:<26}{statistics.median(r.rps):>15.0f}{statistics.median(r.server_cpu_us):>19.0f}"
            f"{statistics.median(r.client_cpu_us):>19.0f}"
        )


if __name__ == "__main__":
    main()
