"""Together: the seed notebook's provider. Known names resolve case-insensitively to their canonical spelling and
chat family (sent as text in the family's template, as the seed did); any other name is checked against
Together's model list before a request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llamacompare.models import servers
from llamacompare.models.base import BatchAPI
from llamacompare.models.builtin.compat import CompatPlugin
from llamacompare.models.capabilities import Capabilities
from llamacompare.models.catalog import PRICES_AS_OF, TOGETHER_MODELS, family_from_name, find_together
from llamacompare.models.openai_batch import TogetherBatch
from llamacompare.models.spec import ModelSpec, PromptFormat
from llamacompare.prompts.chat_templates import RENDERERS


class TogetherPlugin(CompatPlugin):
    description = "any model Together serves"
    default_url = "https://api.together.xyz/v1"
    url_env = "TOGETHER_BASE_URL"
    key_env = "TOGETHER_API_KEY"

    def capabilities(self, spec: ModelSpec) -> Capabilities:
        return servers.TOGETHER

    def batch_format(self, spec: ModelSpec) -> Callable[[Any], BatchAPI] | None:

        return TogetherBatch

    def key_required(self, spec: ModelSpec) -> bool:
        return True

    def claims(self, name: str) -> bool:
        return find_together(name) is not None

    def resolve(self, rest: str, *, base_url: str | None = None) -> ModelSpec:
        url = self.url(base_url)
        known = find_together(rest)
        if known is not None:
            return ModelSpec(self.name, known.name, known.family, url, self.key_env, known.context_length, None,
                             known.price_in, known.price_out, prompt_format=_format(known.family))
        # Together serves many models we do not list; the server's own model list decides before any request.
        family = family_from_name(rest)
        return ModelSpec(self.name, rest, family, url, self.key_env, prompt_format=_format(family))

    def known_names(self) -> list[str]:
        names = [f"{self.name}:{m.name}" for m in TOGETHER_MODELS]
        names += [a for m in TOGETHER_MODELS for a in m.aliases]
        return names + [m.name for m in TOGETHER_MODELS]

    def listing(self) -> list[str]:
        lines = []
        for m in TOGETHER_MODELS:
            price = f"${m.price_in:.2f}/${m.price_out:.2f} per M tokens ({PRICES_AS_OF})" if m.price_in else ""
            lines.append(f"{self.name}:{m.name}  {price}".rstrip())
        return [*lines, f"{self.name}:ANY/model  {self.description}"]


def _format(family: str | None) -> PromptFormat:

    return "family_text" if family in RENDERERS else "messages"


plugin = TogetherPlugin()
