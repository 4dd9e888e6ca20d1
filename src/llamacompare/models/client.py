"""ModelClient: one resolved model with its provider, chat format and retry policy.

The notebook helpers, `ask` and the runner all send through this, so every path renders prompts, checks that the
model is served, retries and measures the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from llamacompare.errors import ProviderError
from llamacompare.models import open_provider
from llamacompare.models.base import Params, Provider, Request, Response
from llamacompare.models.registry import ModelSpec
from llamacompare.models.retry import RetryPolicy, with_retries
from llamacompare.prompts.render import to_request
from llamacompare.prompts.templates import Message

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
        self.cached_keys: set[int] = set()  # filled by the runner from the store

    async def prepare(self) -> None:
        """Checks before any request: the model is served (where the server says), templates are loaded."""
        if self._prepared:
            return
        from llamacompare.models.local import LocalProvider
        from llamacompare.models.openai_compat import OpenAICompatProvider

        if isinstance(self.provider, LocalProvider):
            self._gguf_template = await self.provider.chat_template()
            self.context_length = self.provider.model.n_ctx
        elif isinstance(self.provider, OpenAICompatProvider):
            info = await self.provider.check_model(self.spec.id)
            if info is not None and info.context_length:
                self.context_length = info.context_length
        self._prepared = True

    def width(self, hosted_concurrency: int) -> int:
        """Requests worth having in flight at once: what an in-process model computes together, else the given
        concurrency for a server."""
        from llamacompare.models.local import LocalProvider

        return self.provider.model.parallel if isinstance(self.provider, LocalProvider) else hosted_concurrency

    def request_for(
        self, messages: Sequence[Message], params: Params, *, add_inst: bool = True, prefix: str | None = None,
        cue: str | None = None,
    ) -> Request:
        return to_request(self.spec, messages, params, add_inst=add_inst, gguf_template=self._gguf_template,
                          prefix=prefix, cue=cue)

    async def send(self, request: Request, *, on_retry: RetryHook | None = None) -> Response:
        if not self._prepared:
            await self.prepare()
        response = await with_retries(
            lambda: self.provider.generate(self.spec.id, request), self.retry, on_retry=on_retry or self.on_retry
        )
        response.model = self.name
        return response

    async def label_logprobs(
        self, prompt: str, labels: list[str], *, prefix: str | None = None, on_retry: RetryHook | None = None
    ) -> dict[str, float]:
        if not self._prepared:
            await self.prepare()
        return await with_retries(
            lambda: self.provider.label_logprobs(self.spec.id, prompt, labels, prefix=prefix), self.retry,
            on_retry=on_retry or self.on_retry,
        )

    async def aclose(self) -> None:
        await self.provider.aclose()
