"""The seed notebook's helpers, `llama()` and `llama_chat()`, on top of ModelClient.

Unlike the course helper, a failure raises a typed exception after the retries; it is never returned as text.
"""

from __future__ import annotations

from collections.abc import Sequence

from llamacompare.models.base import Params, Response
from llamacompare.models.catalog import BUNDLED_INSTRUCT, BUNDLED_MODEL
from llamacompare.models.client import ModelClient
from llamacompare.models.registry import resolve
from llamacompare.models.retry import RetryPolicy
from llamacompare.prompts.chat_templates import Message, build_messages
from llamacompare.settings import get_env
from llamacompare.sync import run_sync

SEED_DEFAULT_MODEL = "togethercomputer/llama-2-7b-chat"


def default_model() -> str:
    """The seed's default (a chat model) when a Together key is set; otherwise the bundled instruct model, or the
    bundled base model where the instruct model's package is not installed."""
    # start-up: `from llamacompare import ...` in a notebook loads nothing more
    from llamacompare.models.bundled import is_installed

    if get_env("TOGETHER_API_KEY"):
        return SEED_DEFAULT_MODEL
    return f"local:{BUNDLED_INSTRUCT if is_installed(BUNDLED_INSTRUCT) else BUNDLED_MODEL}"


async def agenerate(
    messages: Sequence[Message],
    model: str,
    *,
    add_inst: bool = True,
    temperature: float = 0.0,
    max_tokens: int = 1024,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 120.0,
    max_tries: int = 3,
    base: float = 2.0,
    verbose: bool = False,
) -> Response:
    """Send one conversation to one model and return the Response with its measurements."""
    spec = resolve(model, base_url=base_url)
    client = ModelClient(
        spec, api_key=api_key, timeout_s=timeout_s, retry=RetryPolicy(attempts=max_tries + 1, base_s=base / 2)
    )
    try:
        await client.prepare()
        request = client.request_for(messages, Params(temperature=temperature, max_tokens=max_tokens),
                                     add_inst=add_inst)
        if verbose:
            _print_request(spec.name, request.to_dict())
        return await client.send(request)
    finally:
        await client.aclose()


def _print_request(model: str, sent: dict) -> None:
    print(f"model: {model}")
    if "prompt" in sent:
        print(f"prompt:\n{sent['prompt']}")
    else:
        for m in sent["messages"]:
            print(f"[{m['role']}]\n{m['content']}")
    print(f"params: {sent['params']}")


def llama(
    prompt: str,
    add_inst: bool = True,
    model: str | None = None,
    temperature: float = 0.0,
    max_tokens: int = 1024,
    verbose: bool = False,
    *,
    system: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 120.0,
    max_tries: int = 3,
    base: float = 2.0,
) -> str:
    """Prompt a model and return its answer text (the seed's helper)."""
    messages = build_messages([prompt], system=system)
    response = run_sync(agenerate(
        messages, model or default_model(), add_inst=add_inst, temperature=temperature, max_tokens=max_tokens,
        base_url=base_url, api_key=api_key, timeout_s=timeout_s, max_tries=max_tries, base=base, verbose=verbose,
    ))
    return response.text


def llama_chat(
    prompts: Sequence[str],
    responses: Sequence[str],
    model: str | None = None,
    temperature: float = 0.0,
    max_tokens: int = 1024,
    verbose: bool = False,
    *,
    system: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 120.0,
    max_tries: int = 3,
) -> str:
    """Multi-turn chat: `len(prompts) == len(responses) + 1`; returns the answer to the last prompt."""
    messages = build_messages(list(prompts), list(responses), system=system)
    response = run_sync(agenerate(
        messages, model or default_model(), temperature=temperature, max_tokens=max_tokens, base_url=base_url,
        api_key=api_key, timeout_s=timeout_s, max_tries=max_tries, verbose=verbose,
    ))
    return response.text
