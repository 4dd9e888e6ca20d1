"""Prompt templating: placeholders, literal braces, verbatim values (property-based with hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llamacompare.tasks import Case, Task, placeholders, render_case
from llamacompare.tasks.prompt_template import TemplateSyntaxError, compile_template, render

NAME_LIST = ["text", "label", "email", "mesaj", "dialogue", "ürün_adı", "col 1"]
NAMES = st.sampled_from(NAME_LIST)
# Turkish letters, braces, newlines, format-looking text and the rest of unicode.
VALUES = st.text(alphabet=st.sampled_from("{}{x}\n\r\tçğıİöşüÇĞÖŞÜ %!:[]0") | st.characters(), max_size=60)


def _task(**kw: object) -> Task:
    base: dict[str, object] = {"id": "t", "type": "generate", "template": "{text}", "cases": [{"text": "x"}]}
    return Task.model_validate(base | kw)


def test_placeholders_in_order_once() -> None:
    assert placeholders("{b} {a} {b} {{c}} {ç}") == ["b", "a", "ç"]
    assert placeholders("no fields {{here}}") == []


def test_doubled_braces_are_literal() -> None:
    assert render('JSON: {{"k": "{v}"}}', {"v": "1"}) == 'JSON: {"k": "1"}'


@pytest.mark.parametrize(
    ("template", "expect"),
    [
        ("{text", "bad braces (expected '}' before end of string)"),
        ("text}", "bad braces (Single '}' encountered"),
        ("{}", "has no field name"),
        ("{0}", "has no field name"),
        ("{a.b}", "not a plain field name"),
        ("{a[0]}", "not a plain field name"),
        ("{a!r}", "{a!r} is not a plain field name"),
        ("{a:>5}", "{a:>5} is not a plain field name"),
    ],
)
def test_invalid_templates(template: str, expect: str) -> None:
    with pytest.raises(TemplateSyntaxError, match=None) as info:
        compile_template(template)
    assert expect in str(info.value)
    assert "{{" in str(info.value)  # always says how to write a literal brace


@given(value=VALUES, other=VALUES)
def test_values_are_inserted_verbatim(value: str, other: str) -> None:
    out = render("A {text} B {{lit}} C {label}", {"text": value, "label": other})
    assert out == f"A {value} B {{lit}} C {other}"


@given(
    pieces=st.lists(
        st.one_of(st.tuples(st.just("lit"), VALUES), st.tuples(st.just("var"), NAMES)), max_size=12
    ),
    values=st.fixed_dictionaries(dict.fromkeys(NAME_LIST, VALUES)),
)
def test_any_valid_template_renders(pieces: list[tuple[str, str]], values: dict[str, str]) -> None:
    template = "".join(
        p.replace("{", "{{").replace("}", "}}") if kind == "lit" else "{" + p + "}" for kind, p in pieces
    )
    expected = "".join(p if kind == "lit" else values[p] for kind, p in pieces)
    assert render(template, values) == expected
    assert placeholders(template) == list(dict.fromkeys(p for kind, p in pieces if kind == "var"))


@given(value=VALUES)
def test_render_case_prefix_text_and_system(value: str) -> None:
    task = _task(
        type="classify",
        labels={"Pozitif": [], "Negatif": []},
        system="Sistem {x}",
        few_shot=[{"text": "iyi", "label": "Pozitif"}, {"text": "kötü {y}", "label": "Negatif"}],
        few_shot_template="Mesaj: {text}\nDuygu: {label}\n",
        template="Mesaj: {text}\nDuygu:",
        instruction="\nTek kelime ile yanıt ver.",
        cases=[{"text": "x", "label": "Pozitif"}],
    )
    r = render_case(task, Case("1", {"text": value, "label": "Pozitif"}, "Pozitif"))
    assert r.system == "Sistem {x}"  # the system prompt is literal text
    # the shared prefix: the few-shot block and the template's text before its first field
    assert r.prefix == "Mesaj: iyi\nDuygu: Pozitif\nMesaj: kötü {y}\nDuygu: Negatif\nMesaj: "
    assert r.text == r.prefix + f"{value}\nDuygu:" + "\nTek kelime ile yanıt ver."
    assert r.messages() == [{"role": "system", "content": "Sistem {x}"}, {"role": "user", "content": r.text}]


def test_consecutive_cases_share_the_prefix() -> None:
    task = _task(few_shot=[{"text": "a"}], few_shot_template="Q: {text}\n", template="Q: {text}")
    a = render_case(task, Case("1", {"text": "one"}, None))
    b = render_case(task, Case("2", {"text": "two"}, None))
    assert a.prefix == b.prefix == "Q: a\nQ: " and a.text == "Q: a\nQ: one" and b.text == "Q: a\nQ: two"
    assert a.system is None and a.messages() == [{"role": "user", "content": "Q: a\nQ: one"}]


def test_a_zero_shot_instruction_before_the_field_is_the_shared_prefix() -> None:
    """With no few-shot block, the template's text before its first field is what every case shares (the seed's
    e-mail summary: a local model keeps it in its KV cache); a template that starts with a field shares nothing,
    and doubled braces in the lead are one literal brace, as in the text."""
    task = _task(template="E-postayı özetle {{kısa}}:\n\ne-posta: {email}\nÖzet:")
    a, b = (render_case(task, Case(str(i), {"email": e}, None)) for i, e in enumerate(["İyi günler", "{x} ışık"]))
    assert a.prefix == b.prefix == "E-postayı özetle {kısa}:\n\ne-posta: "
    assert a.text.startswith(a.prefix) and b.text == a.prefix + "{x} ışık\nÖzet:"
    assert render_case(_task(template="{text} — 1"), Case("1", {"text": "x"}, None)).prefix == ""
    assert render_case(_task(template="sabit metin"), Case("1", {"text": "x"}, None)).prefix == ""
