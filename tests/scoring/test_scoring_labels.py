"""Label extraction from real-looking model answers, English and Turkish."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llamacompare.errors import UsageError
from llamacompare.scoring.labels import LabelSet, ascii_fold, casefold_tr, extract_label, lower_tr, words

SENTIMENT = LabelSet(
    {
        "positive": ["pozitif", "olumlu"],
        "negative": ["negatif", "olumsuz"],
        "neutral": ["nötr"],
    }
)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("POSITIVE", "positive"),
        ("POZİTİF", "pozitif"),
        ("Pozitif", "pozitif"),
        ("OLUMSUZ", "olumsuz"),
        ("IŞIK", "işik"),
        ("ışık", "işik"),
        ("İSTANBUL", "istanbul"),
        ("ÇĞÖÜŞ", "çğöüş"),
        ("Pozi\u0307ti\u0307f", "pozitif"),  # a wrongly lowercased İ leaves a combining dot behind
        ("ｐｏｓｉｔｉｖｅ", "positive"),  # full-width letters
    ],
)
def test_casefold_tr(text: str, key: str) -> None:
    assert casefold_tr(text) == key


def test_lower_tr_and_ascii_fold() -> None:
    assert lower_tr("IŞIK İNCE") == "ışık ince"
    assert ascii_fold("GÜZEL değil ŞÖYLE çığ") == "guzel degil soyle cig"
    assert words("**Duygu:** Olumlu! (çünkü...) __snake_case__") == ["Duygu", "Olumlu", "çünkü", "snake", "case"]


@pytest.mark.parametrize(
    ("answer", "label", "compliant"),
    [
        ("Pozitif", "positive", True),
        ("positive", "positive", True),
        ("**Positive**.", "positive", True),
        ('"Negative"', "negative", True),
        ("`neutral`", "neutral", True),
        ("POZİTİF", "positive", True),
        ("NÖTR", "neutral", True),
        ("notr", "neutral", True),  # Turkish typed without its letters
        ("Olumlu", "positive", True),
        ("Positive 😊", "positive", True),
        ("- positive", "positive", True),
        ("The sentiment is: positive", "positive", False),
        ("Duygu: Negatif", "negative", False),
        ("> **Answer:** `negative`", "negative", False),
        ("olumsuzdur.", "negative", False),  # Turkish copula suffix
        ("Bu yorum pozitiftir.", "positive", False),
        ("Negative\n\nExplanation: the message uses positive words sarcastically.", "negative", False),
        ("Negative, because the positive words are sarcastic.", "negative", False),
        ("Olumsuz. Çünkü mesajda olumlu bir kelime yok.", "negative", False),
        ("I'd say positive 😊", "positive", False),
        ("Positive or negative? It's negative.", "negative", False),
        ("Positive, negative, or neutral? I'd say neutral.", "neutral", False),
        ("Let me think. 'Great' suggests positive. But 'awful'... Answer: negative", "negative", False),
        ("Sentiment: **Negative**\nExplanation: the label positive doesn't fit", "negative", False),
        ("It isn't positive, it's negative.", "negative", False),
        ("Positive, not negative.", "positive", False),
        ("Bu yorum olumlu değil, olumsuz.", "negative", False),
        ("Neither positive nor negative: neutral.", "neutral", False),
        ("No doubt, positive.", "positive", False),
    ],
)
def test_extract_label(answer: str, label: str, compliant: bool) -> None:
    got = extract_label(answer, SENTIMENT)
    assert got.label == label, got
    assert got.compliant is compliant
    assert got.matched is not None and casefold_tr(got.matched) in {casefold_tr(x) for x in words(answer)} | {
        casefold_tr(answer.strip(' *."`->'))
    }


@pytest.mark.parametrize(
    "answer",
    [
        "Positive or negative?",
        "positive/negative",
        "Mixed: positive and negative",
        "The text contains positive words, but overall it is negative.",
        "Answer: positive\nFinal answer: negative",
    ],
)
def test_ambiguous_answers_give_no_label(answer: str) -> None:
    got = extract_label(answer, SENTIMENT)
    assert got.label is None and got.ambiguous and not got.compliant


@pytest.mark.parametrize(
    "answer",
    [
        "Not positive.",
        "not very positive",
        "Bu yorum olumlu değil.",
        "Neither positive nor negative.",
        "It isn't negative",
    ],
)
def test_only_negated_mentions_give_no_label(answer: str) -> None:
    got = extract_label(answer, SENTIMENT)
    assert got.label is None and got.negated


@pytest.mark.parametrize("answer", ["", "   ", "🙂", "negotiation", "positively", "I cannot tell.", "nötrino"])
def test_no_label(answer: str) -> None:
    got = extract_label(answer, SENTIMENT)
    assert got.label is None and not got.compliant and got.matched is None


def test_whole_word_matching_of_short_labels() -> None:
    labels = LabelSet({"neg": [], "pos": []})
    assert extract_label("negotiation positions", labels).label is None
    assert extract_label("neg", labels).label == "neg"


def test_phrase_synonyms_win_over_their_parts() -> None:
    labels = LabelSet({"ham": ["not spam"], "spam": []})
    assert extract_label("Not spam.", labels).label == "ham"
    assert extract_label("not spam", labels).compliant
    assert extract_label("This is spam.", labels).label == "spam"


def test_yes_no_labels() -> None:
    labels = LabelSet({"yes": ["evet"], "no": ["hayır"]})
    assert extract_label("No", labels).label == "no"
    assert extract_label("Hayır.", labels).label == "no"
    assert extract_label("HAYIR", labels).label == "no"
    assert extract_label("hayir", labels).label == "no"
    assert extract_label("Evet, kesinlikle.", labels).label == "yes"


def test_letter_choices() -> None:
    labels = LabelSet.of(["A", "B", "C", "D"])
    assert extract_label("B", labels).label == "B"
    assert extract_label("The answer is C.", labels).label == "C"
    assert extract_label("**D**\n\nA is wrong because...", labels).label == "D"


def test_label_set_validation() -> None:
    with pytest.raises(UsageError):
        LabelSet({})
    with pytest.raises(UsageError):
        LabelSet({"positive": ["good"], "negative": ["GOOD"]})
    with pytest.raises(UsageError):
        LabelSet({"+": []})
    # labels that differ only in diacritics stay apart: the loose key is not used for them
    labels = LabelSet({"çam": [], "cam": []})
    assert extract_label("Çam", labels).label == "çam"
    assert extract_label("cam", labels).label == "cam"
    # dotted and dotless i are one letter for matching, so these two cannot both be labels
    with pytest.raises(UsageError, match="two labels"):
        LabelSet({"sık": [], "sik": []})
    assert LabelSet({"a": "x"}).synonyms == {"a": ("x",)}  # a bare string is one synonym
    assert hash(SENTIMENT) == hash(LabelSet(dict(SENTIMENT.synonyms)))


# ---------------------------------------------------------------- properties

_SURFACES = [("positive", "positive"), ("pozitif", "positive"), ("olumsuz", "negative"), ("nötr", "neutral")]
_PREFIX = st.text(alphabet=list("*_#>`\"'([ \n«“-"), max_size=6)
_SUFFIX = st.text(alphabet=list("*_`\"').]!?:… \n»”"), max_size=6)


@st.composite
def _decorated(draw: st.DrawFn) -> tuple[str, str]:
    surface, label = draw(st.sampled_from(_SURFACES))
    flips = draw(st.lists(st.booleans(), min_size=len(surface), max_size=len(surface)))
    cased = "".join(c.upper() if f else c for c, f in zip(surface, flips, strict=True))
    return draw(_PREFIX) + cased + draw(_SUFFIX), label


@settings(max_examples=300, deadline=None, database=None)
@given(_decorated())
def test_any_decorated_label_is_extracted_and_compliant(case: tuple[str, str]) -> None:
    answer, label = case
    got = extract_label(answer, SENTIMENT)
    assert got.label == label, answer
    assert got.compliant, answer


_FILLER = st.lists(st.sampled_from(["the", "message", "uses", "words", "bu", "mesaj", "kelimeler", "içeriyor"]))


@settings(max_examples=200, deadline=None, database=None)
@given(_decorated(), st.sampled_from(["positive", "negatif", "nötr"]), _FILLER, _FILLER)
def test_leading_label_wins_over_the_explanation(
    case: tuple[str, str], other: str, before: list[str], after: list[str]
) -> None:
    answer, label = case
    text = f"{answer}\n\nExplanation: {' '.join(before)} {other} {' '.join(after)}"
    assert extract_label(text, SENTIMENT).label == label, text


@settings(max_examples=500, deadline=None, database=None)
@given(st.text())
def test_never_raises_on_any_text(text: str) -> None:
    got = extract_label(text, SENTIMENT)
    assert got.label is None or got.label in SENTIMENT.labels


_TR_EN = "abcçdefgğhıijklmnoöprsştuüvyzqwx ABCÇDEFGĞHIİJKLMNOÖPRSŞTUÜVYZQWX"


@settings(database=None)
@given(st.text(alphabet=_TR_EN))
def test_casefold_ignores_case_in_either_language(text: str) -> None:
    assert casefold_tr(text.upper()) == casefold_tr(text) == casefold_tr(lower_tr(text))
    assert casefold_tr(casefold_tr(text)) == casefold_tr(text)
