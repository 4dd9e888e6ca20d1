"""Labels as a reader compares them."""

from __future__ import annotations

import unicodedata


def fold_label(text: str) -> str:
    """Compare labels the way a reader would: case-, accent-of-i- and edge-punctuation-insensitive.

    Turkish needs care: 'POZİTİF'.casefold() keeps a combining dot and 'ı' is not 'i'; both fold to 'i' here.
    """
    s = unicodedata.normalize("NFKC", text).replace("İ", "i").replace("ı", "i")
    s = s.casefold().replace("\u0307", "")
    return s.strip(" \t\r\n.,;:!?\"'`*()[]{}<>")
