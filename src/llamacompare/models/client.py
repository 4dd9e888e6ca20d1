"""ModelClient: one resolved model with its provider, chat format and retry policy.

The notebook helpers, `ask` and the runner all send through this, so every path renders prompts, checks that the
model is served, retries and measures the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import cast

from llamacompare.errors import ProviderError, UsageError
from llamacompare.models import open_provider
from llamacompare.models.base import LabelScores, Params, Prepared, Provider, Request, Response
from llamacompare.models.capabilities import Capabilities
from llamacompare.models.requests import plain_text, to_request
from llamacompare.models.retry import AttemptSlots, RetryPolicy, with_retries
from llamacompare.models.spec import ModelSpec
from llamacompare.prompts.chat_templates import Message

RetryHook = Callable[[int, ProviderError, float], None]


class ModelClient:
    def __init__(
        self,
        spec: ModelSpec,
        *,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        stream: bool = True,
        on_retry: RetryHook | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name  # read for every answer: computed once
        self.retry = retry or RetryPolicy()
        self.provider: Provider = open_provider(spec, api_key=api_key, timeout_s=timeout_s, stream=stream)
        self._gguf_template: str | None = None
        self._prepared = False
        self.on_retry = on_retry
        self.context_length = spec.context_length
        self.served_id = spec.id
        self.capabilities: Capabilities = self.provider.capabilities
        self.notes: tuple[str, ...] = ()
        self.cached_keys: set[int] = set()  # filled by the runner from the store

    async def prepare(self) -> None:
        """Checks before any request: the model is served (where the server says) and under which id, its
        context, its chat template, what it can do."""
        if self._prepared:
            return
        prepared = await self.provider.prepare(self.spec.id)
        if prepared.chat_refused and self.spec.api == "chat":
            raise UsageError(f"--api chat for {self.name}: {prepared.chat_refused}")
        self.served_id = prepared.served_id
        self.capabilities = prepared.capabilities
        if prepared.prompt_format is not None and self.spec.api is None:
            self.spec = replace(self.spec, prompt_format=prepared.prompt_format)
        self._gguf_template = prepared.chat_template
        self.context_length = prepared.context_length or self.context_length
        self.notes = prepared.notes + _default_template_note(self.spec, prepared)
        self._prepared = True

    def width(self, hosted_concurrency: int) -> int:
        """Requests worth having in flight at once: what an in-process model computes together, else the given
        concurrency for a server."""
        return self.provider.width(hosted_concurrency)

    async def count_tokens(self, text: str) -> tuple[int, bool]:
        """(tokens in `text`, whether the count is exact rather than estimated)."""
        return await self.provider.count_tokens(text), self.capabilities.exact_tokens

    def request_for(
        self, messages: Sequence[Message], params: Params, *, add_inst: bool = True, prefix: str | None = None,
        cue: str | None = None, base_stop: Sequence[str] = (), chat: Sequence[Message] | None = None,
    ) -> Request:
        # `--api completions` asks for the model's plain text, as a base model gets it: no template
        template = None if self.spec.api == "completions" else self._gguf_template
        return to_request(self.spec, messages, params, add_inst=add_inst, gguf_template=template,
                          prefix=prefix, cue=cue, base_stop=base_stop, chat=chat)

    def label_request(self, request: Request, labels: list[str]) -> tuple[Request, dict[str, str]]:
        """What to score labels after, and each label as it is scored. A label continues a raw prompt (after a
        space unless the prompt ends in one); for chat top log-probs it starts the answer to the messages. A
        server that takes messages for answers scores a continuation of them as plain text, as a model without a
        chat template is sent them."""
        if self.capabilities.label_method == "chat_top_logprobs" and request.messages is not None:
            return request, {a: a for a in labels}
        # the messages were built from Message dicts when the request was rendered
        messages = cast("list[Message]", list(request.messages or ()))
        prompt = request.prompt if request.prompt is not None else plain_text(messages)
        surface = {lab: (lab if prompt[-1:].isspace() else " " + lab) for lab in labels}
        return Request(prompt=prompt, params=request.params, prefix=request.prefix), surface

    async def send(self, request: Request, *, on_retry: RetryHook | None = None,
                   slots: AttemptSlots | None = None) -> Response:
        """The model's answer, retried by the client's policy; `slots` bound the attempts in flight."""
        if not self._prepared:
            await self.prepare()
        response = await with_retries(
            lambda: self.provider.generate(self.served_id, request), self.retry,
            on_retry=on_retry or self.on_retry, slots=slots,
        )
        response.model = self.name
        return response

    async def score_labels(self, request: Request, labels: list[str], *, on_retry: RetryHook | None = None,
                           slots: AttemptSlots | None = None) -> LabelScores:
        if not self._prepared:
            await self.prepare()
        return await with_retries(
            lambda: self.provider.score_labels(self.served_id, request, labels), self.retry,
            on_retry=on_retry or self.on_retry, slots=slots,
        )

    async def label_logprobs(
        self, prompt: str, labels: list[str], *, prefix: str | None = None, on_retry: RetryHook | None = None
    ) -> dict[str, float]:
        scores = await self.score_labels(Request(prompt=prompt, prefix=prefix), labels, on_retry=on_retry)
        return scores.logprobs

    async def aclose(self) -> None:
        await self.provider.aclose()


def _default_template_note(spec: ModelSpec, prepared: Prepared) -> tuple[str, ...]:
    """One line where a server would apply a chat template the model does not carry, or refuse chat for it: what is
    sent instead, or, when the user asked for chat, that the answers come through the server's default template."""
    if not prepared.server_default_template:
        return ()
    if spec.prompt_format == "messages":
        return ("no chat template in the model: the server wraps its messages in a default template of its own "
                "(--api completions sends the text as a base model reads it)",)
    instead = "refuses chat for it" if prepared.chat_refused else "would wrap messages in a default template of its own"
    return (f"no chat template in the model: sent as plain text on /completions, as in-process (the server {instead})",)
