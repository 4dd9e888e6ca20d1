"""Chat templates: how a conversation becomes the exact text a model family was trained on."""

from llamacompare.prompts.chat_templates import (
    Message,
    build_messages,
    render_for_family,
    render_llama2,
    render_llama3,
)

__all__ = ["Message", "build_messages", "render_for_family", "render_llama2", "render_llama3"]
