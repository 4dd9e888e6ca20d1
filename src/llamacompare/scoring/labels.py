"""Pull a class label out of a free-form model answer, in English or Turkish.

Models rarely answer with exactly the label. They write "**Positive**.", "The sentiment is: positive",
"Duygu: Negatif", or the label followed by an explanation that mentions the other label. The rules,
in order (each is tried only when the one before decides nothing):

1. Verdict cue: a label introduced by a cue word ("answer", "label", "sentiment", "cevap", "duygu", ...)
   followed by ":", "=", "-", "->" or "is" ("Answer: negative", "The sentiment is positive"). If cued
   mentions name different labels the answer is ambiguous (None).
2. Leading word: the answer starts with a label ("Negative\\n\\nExplanation: ... positive words ...").
   It wins over later mentions unless the next different label follows it with only "or", "and", "/",
   commas... in between, which is a list of options ("Positive or negative?"), not an answer.
3. First sentence: the first sentence or line that mentions a label decides if it names exactly one
   label; a sentence that only lists options is skipped; two labels in it make the answer ambiguous.

Matching is on whole words (a label "neg" never matches inside "negotiation"), case-insensitive with the
Turkish dotted/dotless i folded together, and falls back to a diacritic-free key ("guzel" = "güzel")
because Turkish text is often typed without its letters. Turkish copula suffixes are accepted
("olumsuzdur", "pozitiftir").

Negation: a mention right after "not", "no", "never", "neither", "nor", "non", "without", "n't" (small
words like "very", "a" may sit between) or right before "değil" is *negated*: it is not counted as a
vote for that label, and never turned into a vote for another label either (with three labels "not
positive" does not say which). An answer whose only mentions are negated gives label None with
`negated=True`. A synonym that itself contains "not" ("not spam") is matched as a phrase first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from llamacompare.errors import UsageError

__all__ = ["LabelMatch", "LabelSet", "ascii_fold", "casefold_tr", "extract_label", "lower_tr", "words"]

# A word: letters/digits (no underscore, so __bold__ markdown falls away), keeping combining marks
# attached so a decomposed "ü" does not split a word in two.
_WORD_RE = re.compile(r"[^\W_](?:[^\W_]|[\u0300-\u036f])*")
_TR_I = str.maketrans({"İ": "i", "I": "i", "ı": "i"})
_DOT_ABOVE_RE = re.compile(r"(?<=i)\u0307")


_TR_LOWER = str.maketrans("İI", "iı")


def lower_tr(text: str) -> str:
    """Lowercase by the Turkish rule (İ->i, I->ı). For display; to *compare* text use `casefold_tr`."""
    return unicodedata.normalize("NFC", text).translate(_TR_LOWER).lower()


def casefold_tr(text: str) -> str:
    """A case-insensitive matching key that works for Turkish and English at once.

    İ, I, ı and i all become "i": English "POSITIVE" and Turkish "POZİTİF"/"IŞIK" then match their
    lowercase forms whichever language's rule the writer followed. Other letters keep their diacritics
    (Ş->ş, Ö->ö...). NFKC first, so full-width letters and decomposed accents compare equal too.
    """
    text = unicodedata.normalize("NFKC", text).translate(_TR_I).casefold()
    return _DOT_ABOVE_RE.sub("", text)


def ascii_fold(text: str) -> str:
    """The looser key: `casefold_tr` without diacritics ("güzel" -> "guzel", "değil" -> "degil")."""
    decomposed = unicodedata.normalize("NFKD", casefold_tr(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of `text` (runs of letters and digits), in their original spelling."""
    return _WORD_RE.findall(unicodedata.normalize("NFC", text))


@dataclass(frozen=True, slots=True)
class LabelMatch:
    """The label found in an answer (None when there is none or it is ambiguous).

    `compliant`: the whole answer, stripped of markdown, punctuation and whitespace, is exactly one
    label or synonym (it obeyed "answer with one word"). `matched`: the text that was recognised, as
    written (NFC-normalised). `ambiguous`: two labels compete and nothing says which one is the answer.
    `negated`: a label was mentioned only in negated form ("not positive", "olumlu değil").
    """

    label: str | None
    compliant: bool
    matched: str | None
    ambiguous: bool = False
    negated: bool = False


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int
    key: str  # casefold_tr
    loose: str  # ascii_fold


def _tokens(text: str) -> list[_Token]:
    return [
        _Token(m.group(), m.start(), m.end(), casefold_tr(m.group()), ascii_fold(m.group()))
        for m in _WORD_RE.finditer(text)
    ]


@dataclass(frozen=True)
class LabelSet:
    """Canonical labels with their accepted synonyms: ``LabelSet({"positive": ["pozitif", "olumlu"]})``.

    The label itself is always accepted. Synonyms may be phrases ("not spam", "çok iyi"). A synonym
    claimed by two labels is a UsageError; where two labels only differ in diacritics, the loose
    (diacritic-free) key is not used for them.
    """

    synonyms: Mapping[str, Sequence[str]]
    _strict: dict[tuple[str, ...], str] = field(init=False, repr=False, compare=False)
    _loose: dict[tuple[str, ...], str] = field(init=False, repr=False, compare=False)
    _longest: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.synonyms, str) or not self.synonyms:
            raise UsageError("a label set needs at least one label")
        strict: dict[tuple[str, ...], str] = {}
        loose: dict[tuple[str, ...], set[str]] = {}
        frozen: dict[str, tuple[str, ...]] = {}
        for label, syns in self.synonyms.items():
            if isinstance(syns, str):  # a bare string would be iterated letter by letter
                syns = [syns]
            frozen[label] = tuple(syns)
            for phrase in (label, *syns):
                toks = _tokens(unicodedata.normalize("NFC", phrase))
                if not toks:
                    raise UsageError(f"label {label!r}: {phrase!r} has no letters or digits to match")
                key = tuple(t.key for t in toks)
                owner = strict.setdefault(key, label)
                if owner != label:
                    raise UsageError(f"{phrase!r} is given for two labels: {owner!r} and {label!r}")
                loose.setdefault(tuple(t.loose for t in toks), set()).add(label)
        object.__setattr__(self, "synonyms", frozen)
        object.__setattr__(self, "_strict", strict)
        object.__setattr__(self, "_loose", {k: next(iter(v)) for k, v in loose.items() if len(v) == 1})
        object.__setattr__(self, "_longest", max(len(k) for k in strict))

    @classmethod
    def of(cls, labels: Sequence[str]) -> LabelSet:
        """A label set without synonyms."""
        return cls({label: [] for label in labels})

    @property
    def labels(self) -> list[str]:
        return list(self.synonyms)

    def __hash__(self) -> int:
        return hash(tuple(self.synonyms.items()))

    def lookup(self, toks: Sequence[_Token], *, copula: bool = True) -> str | None:
        """The label these tokens spell (strict key, then loose key, then with a Turkish copula)."""
        key = tuple(t.key for t in toks)
        if key in self._strict:
            return self._strict[key]
        lkey = tuple(t.loose for t in toks)
        if lkey in self._loose:
            return self._loose[lkey]
        stem = _strip_copula(lkey[-1]) if copula else None
        if stem is not None:
            return self._loose.get((*lkey[:-1], stem))
        return None


# Turkish "is" suffixes: olumsuz-dur, pozitif-tir, negatif-tir (after ascii_fold: dir/dur/tir/tur).
_COPULA = ("dir", "dur", "tir", "tur")


def _strip_copula(word: str) -> str | None:
    for suffix in _COPULA:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return None


_NEGATORS_BEFORE = {"not", "no", "never", "neither", "nor", "non", "without", "nothing", "hardly"}
# Words that may sit between a negator and the label: "not very positive", "not at all positive".
_NEG_FILLERS = {
    "a",
    "an",
    "the",
    "very",
    "really",
    "so",
    "too",
    "that",
    "quite",
    "at",
    "all",
    "entirely",
    "exactly",
    "particularly",
    "necessarily",
    "clearly",
    "strictly",
    "truly",
    "fully",
    "completely",
    "overly",
    "purely",
    "simply",
    "be",
    "is",
    "bir",
    "pek",
    "hic",
    "cok",
}
_LIST_JOINERS = {"or", "and", "nor", "vs", "versus", "veya", "ya", "da", "de", "ve", "yoksa", "ile"}
_CUES = {
    "answer",
    "label",
    "sentiment",
    "classification",
    "category",
    "class",
    "verdict",
    "prediction",
    "output",
    "result",
    "response",
    "emotion",
    "polarity",
    "tone",
    "choice",
    "cevap",
    "cevabim",
    "yanit",
    "yanitim",
    "sonuc",
    "etiket",
    "sinif",
    "kategori",
    "duygu",
    "tahmin",
    "tahminim",
    "karar",
    "secim",
}
_CUE_LINK_WORDS = {"is", "was", "would", "will", "be", "should", "olarak"}
_CUE_SYMBOL_RE = re.compile(r"[:=\-–—>→]")
_BOUNDARY_RE = re.compile(r"\n|[.!?;:(){}\[\]]|\s[-–—]\s|[–—]")
_MARKUP_RE = re.compile(r"[\s*_`~#>\"'“”‘’«»„,/|\\]+")


@dataclass(frozen=True, slots=True)
class _Mention:
    label: str
    first: int  # token index
    last: int  # token index, exclusive
    segment: int
    negated: bool = False
    cued: bool = False


def _is_negator(tokens: Sequence[_Token], i: int) -> bool:
    tok = tokens[i].loose
    if tok in _NEGATORS_BEFORE:
        return True
    # "isn't", "doesn't", "don't": the apostrophe splits off a lone "t" after a word ending in "n"
    if tok != "t" or i == 0:
        return False
    before = tokens[i - 1]
    return before.loose.endswith("n") and before.end == tokens[i].start - 1


def _mentions(text: str, tokens: list[_Token], labels: LabelSet) -> list[_Mention]:
    segment_of = [0] * len(tokens)
    seg = 0
    for i in range(1, len(tokens)):
        if _BOUNDARY_RE.search(text, tokens[i - 1].end, tokens[i].start):
            seg += 1
        segment_of[i] = seg

    raw: list[tuple[str, int, int]] = []
    in_mention = [False] * len(tokens)
    i = 0
    while i < len(tokens):
        for n in range(min(labels._longest, len(tokens) - i), 0, -1):  # longest phrase first
            label = labels.lookup(tokens[i : i + n])
            if label is not None and segment_of[i] == segment_of[i + n - 1]:
                raw.append((label, i, i + n))
                for k in range(i, i + n):
                    in_mention[k] = True
                i += n
                break
        else:
            i += 1

    def same_segment(a: int, b: int) -> bool:
        return segment_of[a] == segment_of[b]

    out = []
    for label, first, last in raw:
        negated = False
        j = first - 1
        hops = 0
        while j >= 0 and not in_mention[j] and same_segment(j, first) and hops < 4:
            if _is_negator(tokens, j):
                negated = True
                break
            if tokens[j].loose not in _NEG_FILLERS:
                break
            j -= 1
            hops += 1
        # Turkish negation follows the word: "olumlu değil", "olumlu bir yorum değil" is not covered
        for k in range(last, min(last + 2, len(tokens))):
            if in_mention[k] or not same_segment(k, first):
                break
            if tokens[k].loose.startswith("degil"):
                negated = True
                break
            if tokens[k].loose not in _NEG_FILLERS:
                break
        out.append(_Mention(label, first, last, segment_of[first], negated, _is_cued(text, tokens, first)))
    return out


def _is_cued(text: str, tokens: list[_Token], first: int) -> bool:
    """Whether the mention starting at token `first` is introduced as a verdict ("Answer: X")."""
    j = first - 1
    link_words = False
    while j >= 0 and tokens[j].loose in _CUE_LINK_WORDS:
        link_words = True
        j -= 1
    if j < 0 or tokens[j].loose not in _CUES:
        return False
    gap = text[tokens[j].end : tokens[first].start]
    if "\n\n" in gap:
        return False
    return link_words or bool(_CUE_SYMBOL_RE.search(gap))


def _is_option_list(text: str, tokens: list[_Token], a: _Mention, b: _Mention) -> bool:
    """Whether mention b follows a with only list punctuation and "or"/"and"/"veya" between them."""
    if a.segment != b.segment:
        return False
    between = tokens[a.last : b.first]
    if any(t.loose not in _LIST_JOINERS for t in between):
        return False
    # the characters between the words must be list punctuation and markup only
    cuts = [tokens[a.last - 1].end, *(x for t in between for x in (t.start, t.end)), tokens[b.first].start]
    gap = "".join(text[cuts[k] : cuts[k + 1]] for k in range(0, len(cuts), 2))
    return set(_MARKUP_RE.sub("", gap)) <= {"-"}


def _span(text: str, tokens: list[_Token], m: _Mention) -> str:
    return text[tokens[m.first].start : tokens[m.last - 1].end]


def extract_label(answer: str, labels: LabelSet) -> LabelMatch:
    """Find which label of `labels` the answer gives. Never raises on any text (see the module doc)."""
    text = unicodedata.normalize("NFC", answer or "")
    tokens = _tokens(text)
    if not tokens:
        return LabelMatch(None, False, None)

    # compliant: the answer is exactly one label or synonym (a suffixed "olumsuzdur" is not)
    whole = labels.lookup(tokens, copula=False) if len(tokens) <= labels._longest else None
    if whole is not None:
        return LabelMatch(whole, True, text[tokens[0].start : tokens[-1].end])

    mentions = _mentions(text, tokens, labels)
    live = [m for m in mentions if not m.negated]
    if not live:
        return LabelMatch(None, False, None, negated=bool(mentions))

    def found(m: _Mention) -> LabelMatch:
        return LabelMatch(m.label, False, _span(text, tokens, m))

    ambiguous = LabelMatch(None, False, None, ambiguous=True)
    if len({m.label for m in live}) == 1:
        return found(live[0])

    # 1. verdict cues
    cued = [m for m in live if m.cued]
    if cued:
        return found(cued[-1]) if len({m.label for m in cued}) == 1 else ambiguous

    # 2. the answer starts with a label
    lead = live[0]
    if lead.first == 0:
        rival = next(m for m in live if m.label != lead.label)
        previous = max((m for m in live if m.first < rival.first), key=lambda m: m.first)
        if not _is_option_list(text, tokens, previous, rival):
            return found(lead)

    # 3. the first sentence that mentions a label, skipping ones that only list options
    for seg in sorted({m.segment for m in live}):
        here = [m for m in live if m.segment == seg]
        if len({m.label for m in here}) == 1:
            return found(here[0])
        if all(_is_option_list(text, tokens, a, b) for a, b in zip(here, here[1:], strict=False)):
            continue
        return ambiguous
    return ambiguous
