"""How much of a generated text repeats itself: a model caught in a loop ("daha iyi bir yolculuktan daha iyi bir
yolculuktan ...") writes many words that say nothing, and a word count alone reads that as a long answer.

repetition(text) = 1 - distinct word 4-grams / all word 4-grams, over the text's words as ROUGE reads them
(`scoring.rouge.tokenize`: runs of Unicode letters and digits, compared by the Turkish-aware `casefold_tr`, so
"Yolculuk"/"yolculuk" and "IŞIK"/"ışık" are one word while "güzel"/"guzel" are two). 0 = no 4-gram occurs twice; a
text that repeats one phrase over and over tends to 1. A text of fewer than 5 words cannot repeat a 4-gram: 0.
"""

from __future__ import annotations

from llamacompare.scoring.rouge import tokenize

__all__ = ["LOOPING", "NGRAM", "is_looping", "repetition"]

NGRAM = 4
# An answer "loops" from here: a third of its 4-grams are repeats. Ordinary prose stays under a few percent (a
# 200-word text that says one sentence twice is near 4%); half a text spent on one repeated phrase is near 0.5.
LOOPING = 0.3


def repetition(text: str, n: int = NGRAM) -> float:
    """The share of the text's word n-grams that repeat an earlier one: 1 - distinct / total (0 with none)."""
    words = tokenize(text)
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def is_looping(value: float, threshold: float = LOOPING) -> bool:
    return value >= threshold
