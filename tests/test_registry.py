"""Model names: case-insensitive, the seed's spellings, prefixes, and helpful failures."""

from __future__ import annotations

import pytest

from llamacompare.errors import ModelNameError
from llamacompare.models.registry import resolve


@pytest.mark.parametrize(
    "name, expected",
    [
        ("META-LLAMA/Llama-2-7B-CHAT-HF", "together:meta-llama/Llama-2-7b-chat-hf"),
        ("togethercomputer/llama-2-7b-chat", "together:meta-llama/Llama-2-7b-chat-hf"),
        ("META-LLAMA/Llama-2-13B-CHAT-HF", "together:meta-llama/Llama-2-13b-chat-hf"),
        ("META-LLAMA/Llama-2-70B-CHAT-HF", "together:meta-llama/Llama-2-70b-chat-hf"),
        ("META-LLAMA/Llama-3-8B-CHAT-HF", "together:meta-llama/Llama-3-8b-chat-hf"),
        ("meta-llama/llama-3-70b-chat-hf", "together:meta-llama/Llama-3-70b-chat-hf"),
        ("together:META-LLAMA/LLAMA-3-8B-CHAT-HF", "together:meta-llama/Llama-3-8b-chat-hf"),
        ("local:gemma-3-270m", "local:gemma-3-270m"),
        ("gemma-3-270m", "local:gemma-3-270m"),
        ("LOCAL:Gemma-3-270M", "local:gemma-3-270m"),
    ],
)
def test_seed_spellings_resolve(name: str, expected: str) -> None:
    assert resolve(name).name == expected


def test_families_and_prices_come_with_known_models() -> None:
    spec = resolve("META-LLAMA/Llama-2-70B-CHAT-HF")
    assert spec.family == "llama2" and spec.price_in == pytest.approx(0.9)
    assert resolve("META-LLAMA/Llama-3-8B-CHAT-HF").family == "llama3"


def test_provider_prefixes_and_base_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve("openai:my-model", base_url="http://127.0.0.1:9/v1/").base_url == "http://127.0.0.1:9/v1"
    assert resolve("vllm:meta-llama/Llama-3-8B").base_url == "http://127.0.0.1:8000/v1"
    assert resolve("ollama:llama3").base_url == "http://127.0.0.1:11434/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:7/v1")
    assert resolve("openai:x").base_url == "http://127.0.0.1:7/v1"


def test_unknown_name_lists_the_closest_known() -> None:
    with pytest.raises(ModelNameError) as err:
        resolve("META-LLAMA/Llama-2-7B-CHAT")
    assert "Llama-2-7b-chat-hf" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("bad", ["", "   ", "has space", "tab\tname", "local:", "local:/a\tb.gguf", "a b.ggufx"])
def test_invalid_names_fail_clearly(bad: str) -> None:
    with pytest.raises(ModelNameError):
        resolve(bad)


def test_local_gguf_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "x.gguf"
    with pytest.raises(ModelNameError, match="not found"):
        resolve(f"local:{f}")
    f.write_bytes(b"GGUF")
    assert resolve(str(f)).path == str(f.resolve())


def test_a_gguf_path_may_have_spaces(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from llamacompare.tasks.schema import ModelConfig

    folder = tmp_path / "Model Files"
    folder.mkdir()
    f = folder / "my model.gguf"
    f.write_bytes(b"GGUF")
    assert resolve(f"local:{f}").path == str(f.resolve())
    assert ModelConfig(name=f"local:{f}").name == f"local:{f}"  # as a suite lists it
    with pytest.raises(ValueError, match="spaces"):
        ModelConfig(name="llama 3 8b")  # only a file's path may have them


def test_ollama_store_lookup(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import json

    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path))
    manifest = tmp_path / "manifests" / "registry.ollama.ai" / "library" / "tiny" / "latest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [
        {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:abc"}]}))
    (tmp_path / "blobs").mkdir()
    (tmp_path / "blobs" / "sha256-abc").write_bytes(b"GGUF")
    assert resolve("local:ollama/tiny").path == str(tmp_path / "blobs" / "sha256-abc")
    with pytest.raises(ModelNameError, match="ollama pull"):
        resolve("local:ollama/other:7b")
