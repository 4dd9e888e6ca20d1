"""Chat templates against the published Llama 2 and Llama 3 formats, string-exact."""

from __future__ import annotations

import pytest

from llamacompare.models.base import Params
from llamacompare.models.registry import resolve
from llamacompare.models.requests import to_request
from llamacompare.prompts.chat_templates import build_messages, render_llama2, render_llama3


def test_llama2_single_turn_matches_meta_format() -> None:
    # Meta's reference: f"{B_INST} {prompt.strip()} {E_INST}" with BOS, B_INST="[INST]", E_INST="[/INST]"
    assert render_llama2(build_messages(["Merhaba!"])) == "<s>[INST] Merhaba! [/INST]"


def test_llama2_system_prompt_goes_inside_first_instruction() -> None:
    msgs = build_messages(["Soru?"], system="Kısa yanıt ver.")
    assert render_llama2(msgs) == "<s>[INST] <<SYS>>\nKısa yanıt ver.\n<</SYS>>\n\nSoru? [/INST]"


def test_llama2_multi_turn() -> None:
    msgs = build_messages(["p0", "p1"], ["r0"])
    assert render_llama2(msgs) == "<s>[INST] p0 [/INST] r0 </s><s>[INST] p1 [/INST]"


def test_llama2_strips_contents_like_the_reference() -> None:
    assert render_llama2(build_messages(["\n  selam \n"])) == "<s>[INST] selam [/INST]"


def test_llama3_format_with_system_and_generation_prompt() -> None:
    msgs = build_messages(["Merhaba"], system="Sen yardımcı bir asistansın.")
    expected = (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nSen yardımcı bir asistansın.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nMerhaba<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    assert render_llama3(msgs) == expected


def test_llama3_multi_turn() -> None:
    msgs = build_messages(["a", "b"], ["x"])
    assert render_llama3(msgs) == (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\na<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nx<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nb<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def test_llama_chat_needs_one_more_prompt_than_responses() -> None:
    with pytest.raises(ValueError, match="one more prompt than responses"):
        build_messages(["a", "b"], ["x", "y"])


def test_together_llama_models_get_rendered_text_servers_get_messages() -> None:
    msgs = build_messages(["hi"])
    params = Params(max_tokens=8)
    req2 = to_request(resolve("META-LLAMA/Llama-2-7B-CHAT-HF"), msgs, params)
    assert req2.prompt == "<s>[INST] hi [/INST]"
    req3 = to_request(resolve("META-LLAMA/Llama-3-8B-CHAT-HF"), msgs, params)
    assert req3.prompt is not None and req3.prompt.startswith("<|begin_of_text|>")
    server = to_request(resolve("openai:gemma-3-270m", base_url="http://127.0.0.1:1/v1"), msgs, params)
    assert server.prompt is None and server.messages == ({"role": "user", "content": "hi"},)
    raw = to_request(resolve("META-LLAMA/Llama-2-7B-CHAT-HF"), msgs, params, add_inst=False)
    assert raw.prompt == "hi"


def test_a_base_model_cue_goes_to_base_models_only() -> None:
    """The seed's summary prompt ends with a signed letter; a base model gets a cue to continue with the answer,
    every other model the prompt unchanged."""
    msgs = build_messages(["Bu e-postayı özetle.\n\ne-posta: Sevgili Amit, ...\nAndrew\n"])
    params, cue = Params(max_tokens=8), "\nÖzet:\n"
    base = to_request(resolve("local:gemma-3-270m"), msgs, params, cue=cue)
    assert base.prompt == "Bu e-postayı özetle.\n\ne-posta: Sevgili Amit, ...\nAndrew\n\nÖzet:\n"
    chat_gguf = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>"
    templated = to_request(resolve("local:gemma-3-270m"), msgs, params, cue=cue, gguf_template=chat_gguf)
    assert templated.prompt is not None and templated.prompt.endswith("Andrew\n<assistant>")
    together = to_request(resolve("META-LLAMA/Llama-2-7B-CHAT-HF"), msgs, params, cue=cue)
    assert together.prompt is not None and "Özet:" not in together.prompt
    server = to_request(resolve("openai:m", base_url="http://127.0.0.1:1/v1"), msgs, params, cue=cue)
    assert server.messages is not None and "Özet:" not in server.messages[0]["content"]
    raw = to_request(resolve("local:gemma-3-270m"), msgs, params, cue=cue, add_inst=False)
    assert raw.prompt is not None and not raw.prompt.endswith("Özet:\n")  # the helper's raw text stays raw
