"""Valid suites: schema defaults, models, params, labels (Turkish included), suite lookup."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from llamacompare.errors import UsageError
from llamacompare.models.base import Params
from llamacompare.suites import builtin_suite_names, builtin_suite_path
from llamacompare.tasks import LoadedSuite, Suite, fold_label, load_suite

INLINE = """
    name: demo
    models:
      - local:gemma-3-270m
      - name: together:meta-llama/Llama-3-8b-chat-hf
        params: {temperature: 0.2, max_tokens: 64, stop: ["\\n"]}
        concurrency: 4
        rpm: 600
        tpm: 200000
        timeout_s: 60
        label: llama3-8b
    tasks:
      - id: duygu
        type: classify
        labels:
          Pozitif: [olumlu, positive]
          Negatif: olumsuz
        label_map: {1: Pozitif, 0: Negatif}
        template: "Mesaj: {text}\\nDuygu:"
        cases:
          - {id: pizza, text: "Bu akşam pizza!", label: 1}
          - {text: "Geç kaldın!", label: OLUMSUZ}
          - {text: "Harika", label: POZİTİF}
        params: {max_tokens: 8}
      - id: ozet.1
        type: generate
        template: "Özetle: {text}"
        cases: [{text: "uzun bir metin"}]
"""


def test_inline_suite_loads_with_defaults(write_suite: Callable[..., Path]) -> None:
    suite = load_suite(write_suite(INLINE))
    assert suite.name == "demo" and suite.path is not None and suite.path.name == "suite.yaml"
    cls, gen = suite.tasks
    assert (cls.mode, cls.reference, cls.scorers) == ("generate", "label", ["accuracy"])
    assert (gen.mode, gen.reference, gen.scorers) == (None, None, ["length"])
    assert cls.labels == {"Pozitif": ["olumlu", "positive"], "Negatif": ["olumsuz"]}
    assert cls.label_map == {"1": "Pozitif", "0": "Negatif"}
    assert suite.validation.counts() == {"duygu": 3, "ozet.1": 1} and suite.counts()[cls.id] == 3
    assert suite.task("ozet.1") is gen
    with pytest.raises(UsageError, match="no task 'x'"):
        suite.task("x")


def test_models_and_params(write_suite: Callable[..., Path]) -> None:
    suite = load_suite(write_suite(INLINE))
    m0, m1 = suite.models
    assert m0.name == "local:gemma-3-270m" and m0.concurrency is None and m0.display == "local:gemma-3-270m"
    assert (m1.concurrency, m1.rpm, m1.tpm, m1.timeout_s, m1.display) == (4, 600, 200000, 60, "llama3-8b")
    merged = m1.params.apply()
    assert merged == Params(temperature=0.2, max_tokens=64, stop=("\n",))
    # task params override the model's, which override the defaults
    assert suite.tasks[0].generation_params(merged) == Params(temperature=0.2, max_tokens=8, stop=("\n",))
    assert suite.tasks[1].generation_params() == Params()


def test_a_classify_task_answers_in_a_few_tokens_unless_told_otherwise(write_suite: Callable[..., Path]) -> None:
    """A label needs room for a chat model's sentence, not a free answer's 1024 (a base model writes on after the
    label)."""
    suite = load_suite(write_suite(INLINE.replace("        params: {max_tokens: 8}\n", "")))
    cls, gen = suite.tasks
    assert cls.params is None
    assert cls.generation_params() == Params(max_tokens=64)
    assert gen.generation_params() == Params(max_tokens=1024)  # a free answer keeps the default
    m1 = suite.models[1].params.apply()  # the model sets max_tokens 64: it stands
    assert cls.generation_params(m1) == Params(temperature=0.2, max_tokens=64, stop=("\n",))
    assert cls.generation_params(Params(temperature=0.5)) == Params(temperature=0.5, max_tokens=64)
    assert cls.generation_params(Params(max_tokens=16)) == Params(max_tokens=16)


def test_gold_labels_resolve_through_label_map_and_synonyms(write_suite: Callable[..., Path]) -> None:

    suite = load_suite(write_suite(INLINE))
    cases = list(suite.cases(suite.tasks[0]))
    assert [c.id for c in cases] == ["pizza", "2", "3"]
    assert [c.reference for c in cases] == ["Pozitif", "Negatif", "Pozitif"]
    assert cases[0].fields == {"id": "pizza", "text": "Bu akşam pizza!", "label": "1"}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("POZİTİF", "pozitif"),
        ("Pozıtıf", "pozitif"),
        ("  Olumlu.", "olumlu"),
        ("**Negative**", "negative"),
        ("NEGATİF!", "negatif"),
        ("ＰＯＳＩＴＩＶＥ", "positive"),
    ],
)
def test_fold_label(a: str, b: str) -> None:
    assert fold_label(a) == fold_label(b)


def test_fold_label_keeps_different_words_apart() -> None:
    assert fold_label("Pozitif") != fold_label("Negatif")


def test_utf8_bom_in_suite_is_accepted(write_suite: Callable[..., Path], tmp_path: Path) -> None:
    path = write_suite(INLINE)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_suite(path).name == "demo"


def test_builtin_suite_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert builtin_suite_names() == ["samsum", "seed", "sst2", "tools", "tr_polarity", "xsum"]
    assert builtin_suite_path("seed").name == "seed.yaml"
    with pytest.raises(UsageError, match="no built-in suite 'nope'"):
        builtin_suite_path("nope")
    # a file of that name in the current folder wins over the built-in
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seed").write_text(
        "name: mine\ntasks: [{id: a, type: generate, template: '{t}', cases: [{t: x}]}]\n"
    )
    assert load_suite("seed").name == "mine"
    assert load_suite(Path("seed")).name == "mine"


def test_a_folder_is_not_a_suite(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a folder"):
        load_suite(tmp_path)


def test_programmatic_suite_validates_without_a_file() -> None:
    suite = Suite.model_validate(
        {"tasks": [{"id": "t", "type": "generate", "template": "{a}", "cases": [{"b": "x"}]}]}
    )
    with pytest.raises(UsageError) as info:
        LoadedSuite.of(suite).validate()
    assert str(info.value) == "tasks[0].cases[0]: the case has no field 'a', used by the template (it has: b); add it"
