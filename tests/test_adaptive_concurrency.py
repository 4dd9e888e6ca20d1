"""Adaptive concurrency: the AIMD rule on its own (deterministic), its slots under asyncio, the retry loop giving a
slot back while it waits, the progress bar's text, and a live run against a server that refuses more than 8
requests in flight."""

from __future__ import annotations

import asyncio
import io
import json
import time
from pathlib import Path

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import FaultPlan, ScriptedServer

from llamacompare.errors import BadRequestError, RateLimitError, RequestTimeoutError, ServerError
from llamacompare.models.retry import RetryPolicy, is_overload, with_retries
from llamacompare.runner.concurrency import AdaptiveLimit, Aimd, LimitState, Outcome
from llamacompare.runner.progress import RichProgress

# -- the rule -----------------------------------------------------------------------------------------------------


def fill(rule: Aimd) -> list:  # type: ignore[type-arg]
    return [rule.admit() for _ in range(rule.limit - rule.in_flight)]


def test_starts_at_the_ceiling_and_a_burst_of_overloads_halves_once() -> None:
    rule = Aimd(32)
    tickets = fill(rule)
    assert rule.limit == 32 and not rule.can_admit()
    for t in tickets[8:]:  # one overload: every request beyond the server's room comes back refused
        rule.release(t, Outcome.OVERLOAD)
    assert rule.limit == 16 and rule.state().halvings == 1 and rule.state().overloads == 24
    for t in tickets[:8]:
        rule.release(t, Outcome.OK)  # sent before the window of 32 was full: they prove nothing about it
    assert rule.limit == 16 and rule.in_flight == 0


def test_each_round_trip_may_halve_again_down_to_one() -> None:
    rule = Aimd(16)
    limits = []
    for _ in range(6):
        tickets = fill(rule)
        for t in tickets:
            rule.release(t, Outcome.OVERLOAD)
        limits.append(rule.limit)
    assert limits == [8, 4, 2, 1, 1, 1] and rule.state().lowest == 1


def test_a_window_of_successes_adds_one_up_to_the_ceiling() -> None:
    rule = Aimd(6, start=4)
    window = fill(rule)
    grown = []
    for _ in range(16):  # each answer frees a slot that the next request takes at once: the window stays full
        rule.release(window.pop(0), Outcome.OK)
        window += fill(rule)
        grown.append(rule.limit)
    # of the first 4 sent only the last filled the window: it and the next 3 answers make 4 (a window of 4): 5;
    # of the 2 sent then, the first did not fill the window of 5: 5 answers more after it, 6, the ceiling
    assert grown == [4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6]


def test_successes_while_the_window_is_not_full_do_not_grow_it() -> None:
    rule = Aimd(8, start=4)
    for _ in range(20):  # one request at a time: the limit of 4 is never used, so never proved too small
        rule.release(rule.admit(), Outcome.OK)
    assert rule.limit == 4


def test_other_failures_change_nothing() -> None:
    rule = Aimd(8)
    for t in fill(rule):
        rule.release(t, Outcome.OTHER)
    assert rule.limit == 8 and rule.state().halvings == 0


def test_it_never_admits_past_its_limit() -> None:
    rule = Aimd(2)
    fill(rule)
    with pytest.raises(RuntimeError):
        rule.admit()


def test_against_a_server_with_room_for_8_it_settles_near_8() -> None:
    """A simulation in steps of one answer: the client fills its window; the server refuses at once a request that
    arrives while 8 are in flight (the refused one is asked again later) and answers the others in order."""
    from collections import deque

    rule = Aimd(32)
    answering: deque = deque()  # type: ignore[type-arg]
    limits, seen = [], []
    for _ in range(2000):
        while rule.can_admit():
            ticket = rule.admit()
            seen.append(rule.in_flight)  # what the server counts when the request arrives, itself included
            if rule.in_flight > 8:
                rule.release(ticket, Outcome.OVERLOAD)
            else:
                answering.append(ticket)
        rule.release(answering.popleft(), Outcome.OK)
        limits.append(rule.limit)
    assert limits[0] == 8  # 32 -> 16 -> 8 before the first answer
    settled = limits[100:]
    assert max(seen[100:]) == 9 and (min(settled), max(settled)) == (5, 9)  # a sawtooth: probes 9, halves to 5
    assert 6.5 <= sum(settled) / len(settled) <= 8
    assert rule.state().halvings > 20 and rule.state().lowest == 5


# -- the slots under asyncio ----------------------------------------------------------------------------------------


def test_waiters_are_admitted_in_order_and_never_past_the_limit() -> None:
    async def main() -> tuple[list[int], int]:
        slots = AdaptiveLimit(3)
        order: list[int] = []
        peak = 0

        async def one(i: int) -> None:
            nonlocal peak
            async with slots.attempt():
                order.append(i)
                peak = max(peak, slots.rule.in_flight)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(one(i) for i in range(10)))
        return order, peak

    order, peak = asyncio.run(main())
    assert order == list(range(10)) and peak == 3


def test_a_halving_holds_new_attempts_until_enough_have_finished() -> None:
    async def main() -> list[int]:
        slots = AdaptiveLimit(4)
        release = asyncio.Event()
        seen: list[int] = []

        async def held(fail: bool) -> None:
            async with slots.attempt():
                await release.wait()
                if fail:
                    raise RateLimitError("429", status=429, retry_after=1.0)

        running = [asyncio.create_task(held(fail=i == 0)) for i in range(4)]
        await asyncio.sleep(0)
        waiting = asyncio.create_task(slots.acquire())
        release.set()
        await asyncio.gather(*running, return_exceptions=True)
        ticket = await waiting  # all four done: the limit (now 2) has room
        seen.append(slots.limit)
        seen.append(slots.rule.in_flight)
        slots.release(ticket, Outcome.OK)
        return seen

    assert asyncio.run(main()) == [2, 1]


def test_a_cancelled_waiter_gives_its_slot_on() -> None:
    async def main() -> int:
        slots = AdaptiveLimit(1)
        first = await slots.acquire()
        cancelled = asyncio.create_task(slots.acquire())
        later = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0)
        cancelled.cancel()
        slots.release(first, Outcome.OK)
        ticket = await asyncio.wait_for(later, 1)
        slots.release(ticket, Outcome.OK)
        return slots.rule.in_flight

    assert asyncio.run(main()) == 0


def test_what_counts_as_an_overload() -> None:
    assert is_overload(RateLimitError("429", status=429))
    assert is_overload(ServerError("503", status=503))
    assert is_overload(ServerError("529 overloaded", status=529))
    assert is_overload(ServerError("500 with Retry-After", status=500, retry_after=2.0))
    assert not is_overload(ServerError("500", status=500))
    assert not is_overload(RequestTimeoutError("timed out"))
    assert not is_overload(BadRequestError("400", status=400))
    assert not is_overload(asyncio.CancelledError())


def test_a_retry_waits_without_holding_a_slot() -> None:
    """One slot: the request told to come back later gives it up while it waits, so another is answered first."""
    async def main() -> list[str]:
        slots = AdaptiveLimit(2, start=1)
        events: list[str] = []
        tries = 0

        async def refused_once() -> str:
            nonlocal tries
            tries += 1
            if tries == 1:
                events.append("a refused")
                raise RateLimitError("429", status=429, retry_after=0.05)
            events.append("a answered")
            return "a"

        async def other() -> str:
            await asyncio.sleep(0.01)  # asks while `a` waits out its Retry-After
            async with slots.attempt():
                events.append("b answered")
            return "b"

        policy = RetryPolicy(attempts=3, base_s=0.01)
        await asyncio.gather(with_retries(refused_once, policy, slots=slots), other())
        # the refusal halved 1 to 1 (never below); b's answer, a full window of 1, grew it to 2
        assert slots.state() == LimitState(2, 2, 0, 1, 1, 1)
        return events

    assert asyncio.run(main()) == ["a refused", "b answered", "a answered"]


def test_the_progress_bar_shows_each_models_limit_of_its_ceiling() -> None:
    from rich.console import Console

    bar = RichProgress(Console(file=io.StringIO()))
    bar.start(10, "run")
    try:
        assert "in flight" not in bar.stats(time.perf_counter())
        bar.watch_concurrency("openai:alpha", lambda: LimitState(8, 16, 8, 8, 1, 3))
        assert bar.stats(time.perf_counter()).endswith("· 8/16 in flight")
        bar.watch_concurrency("openai:beta", lambda: LimitState(32, 32, 5, 32, 0, 0))
        assert bar.concurrency_text() == "openai:alpha 8/16 · openai:beta 32/32 in flight"
    finally:
        bar.close()


# -- a live run -----------------------------------------------------------------------------------------------------


def numbered_suite(tmp_path: Path, n: int, models: str = "") -> Path:
    cases = "\n".join(f"      - {{id: c{i}, text: 'mesaj {i} — İş güzel', label: {'Pozitif' if i % 2 else 'Negatif'}}}"
                      for i in range(n))
    suite = tmp_path / "many.yaml"
    suite.write_text(f"""
name: many
{models}
tasks:
  - id: t
    type: classify
    labels: {{Pozitif: [], Negatif: []}}
    template: "Mesaj: {{text}}"
    cases:
{cases}
""", encoding="utf-8")
    return suite


def test_a_live_run_settles_near_the_servers_8_in_flight_and_loses_nothing(tmp_path: Path) -> None:
    n = 400
    plan = FaultPlan(retry_after=0.25, retry_after_style="ms")  # OpenAI's retry-after-ms beside Retry-After
    with ScriptedServer(["alpha"], latency=0.1, capacity=8, faults=plan) as srv:
        res = run_cli("run", str(numbered_suite(tmp_path, n)), "-m", "openai:alpha", "--base-url", srv.base_url,
                      "--concurrency", "32", "--db", str(tmp_path / "a.db"), "--json", timeout=300)
        requests = [r for r in srv.requests if r.path.endswith("/chat/completions")]
    assert res.returncode == 0, res.stderr
    outcome = json.loads(res.stdout)["outcome"]
    assert outcome["sent"] == n and outcome["failed"] == 0  # every case answered, none failed
    assert {r.prompt_hash for r in requests if r.outcome == "ok"} == {r.prompt_hash for r in requests}
    start = requests[0].time
    # it did start at 32: before the first answer could come back (0.1 s), far more than 8 were sent
    assert sum(r.time < start + 0.09 for r in requests) > 16
    late = [r.in_flight for r in requests if r.time > start + 2.0]
    assert len(late) > 100 and max(late) <= 10  # then it kept near the server's 8
    state = outcome["concurrency"]["openai:alpha"]
    assert state["ceiling"] == 32 and 4 <= state["limit"] <= 12 and state["halvings"] >= 2
    refused = sum(r.outcome == "429" for r in requests)
    assert refused == state["overloads"] and refused < n / 4
    assert any("adapted to" in note for note in outcome["notes"])
    print(f"\n{n} cases: {len(requests)} requests, {refused} refused, limit {state['limit']} of 32 at the end "
          f"(lowest {state['lowest']}, halved {state['halvings']} times), peak after 2 s {max(late)}, "
          f"{outcome['elapsed_s']:.1f} s")


@pytest.mark.parametrize("how", ["flag", "suite"])
def test_fixed_concurrency_keeps_32_in_flight(tmp_path: Path, how: str) -> None:
    """--fixed-concurrency, or `fixed_concurrency: true` on the suite's model: every 429 retried, the limit kept."""
    flag = ["--concurrency", "32", "--fixed-concurrency"] if how == "flag" else []
    models = "models: [{name: 'openai:alpha', concurrency: 32, fixed_concurrency: true}]" if how == "suite" else ""
    with ScriptedServer(["alpha"], latency=0.1, capacity=8, faults=FaultPlan(retry_after=0.05)) as srv:
        res = run_cli("run", str(numbered_suite(tmp_path, 64, models)), "-m", "openai:alpha", "--base-url",
                      srv.base_url, *flag, "--retries", "20", "--db", str(tmp_path / "f.db"), "--json", timeout=300)
        refused = srv.stats()["by_outcome"]["429"]
    assert res.returncode == 0, res.stderr
    outcome = json.loads(res.stdout)["outcome"]
    # 32 at a time against room for 8: about 3 of 4 refused each time round, never fewer sent
    assert outcome["failed"] == 0 and outcome["concurrency"] == {} and refused > 64


def test_an_in_process_model_keeps_its_batch_width(tmp_path: Path, bundled_model_file: Path) -> None:
    """The bundled model computes 32 answers at once and refuses none: nothing adapts, and the bar shows nothing."""
    res = run_cli("run", str(numbered_suite(tmp_path, 4)), "-m", "local:gemma-3-270m", "--mode", "logprob",
                  "--db", str(tmp_path / "l.db"), "--json", timeout=300)
    assert res.returncode == 0, res.stderr
    outcome = json.loads(res.stdout)["outcome"]
    assert outcome["sent"] == 4 and outcome["concurrency"] == {}
