"""Label log-probs out of answers: tail alignment of echoed prompts, and the first answer tokens' top log-probs."""

from __future__ import annotations

import math

import pytest

from llamacompare.models.logprobs import (
    NoLogprobs,
    PromptTokens,
    completion_entries,
    echoed_prompt,
    label_logprob,
    top_label_logprobs,
)


def test_only_the_label_tokens_are_summed_whatever_the_start_holds() -> None:
    # a BOS text at the start (vLLM) or sentencepiece spaces ("▁", one character too) change nothing at the end
    for start in (["<s>", "Mesaj"], ["<|begin_of_text|>", "Mesaj"], ["Mesaj"]):
        p = PromptTokens([*start, ":", " iyi", "\n", "Duygu", ":", "▁Olum", "suz"],
                         [None] + [-1.0] * (len(start) + 4) + [-0.5, -0.25])
        assert label_logprob(p, " Olumsuz") == pytest.approx(-0.75)


def test_a_token_that_straddles_the_boundary_counts_with_the_label() -> None:
    # the prompt ends in a space that the tokenizer merged into the label's first token
    p = PromptTokens(["Duygu", ":", " Pozitif"], [None, -1.0, -0.3])
    assert label_logprob(p, "Pozitif") == pytest.approx(-0.3)
    with pytest.raises(NoLogprobs):
        label_logprob(PromptTokens(["Pozitif"], [None]), " Pozitif")


def test_generated_tokens_are_left_out_by_the_usage() -> None:
    # llama-cpp-python: BOS counted in prompt_tokens but not listed; one generated token at the end
    data = {"choices": [{"text": "Duygu: iyi\n", "logprobs": {
        "tokens": ["Duygu", ":", " iyi", "\n"], "token_logprobs": [None, -1.0, -0.4, -2.0],
        "text_offset": [0, 5, 6, 10]}}], "usage": {"prompt_tokens": 4, "completion_tokens": 1}}
    p = echoed_prompt(data, "Duygu: iyi")
    assert p.tokens == ["Duygu", ":", " iyi"] and label_logprob(p, " iyi") == pytest.approx(-0.4)
    # without usage, the answer's text after the prompt tells
    del data["usage"]
    assert echoed_prompt(data, "Duygu: iyi").tokens == ["Duygu", ":", " iyi"]


def test_together_prompt_part_has_the_prompt_only() -> None:
    data = {"prompt": [{"text": "Duygu: iyi", "logprobs": {"tokens": ["Duygu", ":", " iyi"],
                                                            "token_logprobs": [None, -1.0, -0.4],
                                                            "token_ids": [1, 2, 3]}}],
            "choices": [{"text": "\n", "logprobs": {"tokens": ["\n"], "token_logprobs": [-2.0], "token_ids": [4]}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
    assert label_logprob(echoed_prompt(data, "Duygu: iyi"), " iyi") == pytest.approx(-0.4)
    with pytest.raises(NoLogprobs):
        echoed_prompt({"choices": [{"text": "x", "logprobs": None}]}, "x")


def _entry(token: str, lp: float, top: dict[str, float]) -> dict[str, object]:
    return {"token": token, "logprob": lp, "top_logprobs": [{"token": t, "logprob": v} for t, v in top.items()]}


def test_top_logprobs_sum_spellings_of_the_label_but_not_longer_words() -> None:
    top = {" positive": -0.2, " negative": -2.0, " positively": -5.0, " Positive": -6.0, "positive.": -7.0}
    scores = top_label_logprobs([_entry(" positive", -0.2, top)], [" positive", " negative", " neutral"])
    expected = math.log(math.exp(-0.2) + math.exp(-6.0) + math.exp(-7.0))
    assert scores.logprobs[" positive"] == pytest.approx(expected)
    assert scores.logprobs[" negative"] == pytest.approx(-2.0)
    # not listed: at most what the list leaves over, and below every listed token
    assert scores.logprobs[" neutral"] == pytest.approx(-7.0)
    assert scores.unfinished == frozenset()


def test_labels_that_share_their_first_token_are_followed_along_the_answer() -> None:
    entries = [_entry("Very", -0.1, {"Very": -0.1, "Not": -3.0}),
               _entry(" good", -0.5, {" good": -0.5, " bad": -1.5})]
    scores = top_label_logprobs(entries, ["Very good", "Very bad", "Not sure"])
    assert scores.logprobs["Very good"] == pytest.approx(-0.6)
    assert scores.logprobs["Very bad"] == pytest.approx(-1.6)
    assert scores.logprobs["Not sure"] == pytest.approx(-3.0)
    # with only the first token, both "Very ..." labels are still open: the caller asks for more tokens
    assert top_label_logprobs(entries[:1], ["Very good", "Very bad"]).unfinished == {"Very good", "Very bad"}


def test_completion_and_ollama_shapes_give_the_same_entries() -> None:
    legacy = {"tokens": [" olumlu"], "token_logprobs": [-0.1], "top_logprobs": [{" olumlu": -0.1, " olumsuz": -2.5}]}
    ollama = {"content": [_entry(" olumlu", -0.1, {" olumlu": -0.1, " olumsuz": -2.5})]}
    a = top_label_logprobs(completion_entries(legacy), ["Olumlu", "Olumsuz"]).logprobs
    b = top_label_logprobs(completion_entries(ollama), ["Olumlu", "Olumsuz"]).logprobs
    assert a == b and a["Olumlu"] == pytest.approx(-0.1) and a["Olumsuz"] == pytest.approx(-2.5)


def test_labels_not_listed_are_named_as_bounded() -> None:
    """A label none of the listed alternatives starts, at its first token or a later one, has a bound for a score,
    not its log-prob: the scores are exact only for the labels listed."""
    entries = [_entry("Very", -0.1, {"Very": -0.1, "Not": -3.0}),
               _entry(" good", -0.5, {" good": -0.5, " bad": -1.5})]
    scores = top_label_logprobs(entries, ["Very good", "Very bad", "Very nice", "Maybe"])
    assert scores.bounded == {"Very nice", "Maybe"}
    assert scores.logprobs["Very nice"] <= -0.1 + -1.5 and scores.logprobs["Maybe"] <= -3.0
    assert top_label_logprobs(entries, ["Very good", "Not sure"]).bounded == frozenset()


def test_label_scores_are_covered_only_when_no_label_was_bounded() -> None:
    from llamacompare.models.base import LabelScores

    assert LabelScores({"a": -0.1}, method="echo").covered
    assert not LabelScores({"a": -0.1, "b": -9.0}, method="chat_top_logprobs", bounded=("b",)).covered
