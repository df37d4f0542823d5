"""Keys for clustering similar text values, the same as OpenRefine's for the same input.

People moving from OpenRefine must find the clusters they know. These functions follow the
keyers of OpenRefine 3.5 and later (``FingerprintKeyer``, ``NGramFingerprintKeyer``):

- **fingerprint**: trim whitespace, lower-case, fold to ASCII (decompose, drop diacritics,
  modifier letters and modifier symbols, then the letters decomposition leaves alone: ß → ss,
  æ → ae, ø → oe, þ → th, ł → l...), remove punctuation and control characters, split on
  whitespace, sort and de-duplicate the words, join them with one space;
- **n-gram fingerprint** (n = 2 by default): the same folding, then every control character and
  whitespace removed, the sorted distinct n-grams of what is left, concatenated.

Sorting is by UTF-16 code units, as Java sorts strings.
"""

from __future__ import annotations

import re
import unicodedata

# Guava's CharMatcher.whitespace(), which OpenRefine trims with.
_TRIMMED = "\t\n\u000b\f\r \u0085\u1680\u2028\u2029\u205f\u3000\u00a0\u180e\u202f" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
# Unicode White_Space, Java's \s with UNICODE_CHARACTER_CLASS.
_WHITE_SPACE = "\t\n\u000b\f\r \u0085\u00a0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
_SPLIT = re.compile(f"[{re.escape(_WHITE_SPACE)}]+")
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f\x80-\x84\x86-\x9f]")
_NOT_DIACRITICS = {
    "ß": "ss",
    "æ": "ae",
    "ø": "oe",
    "å": "aa",
    "©": "c",
    "\u00f0": "d",
    "\u0111": "d",
    "\u0256": "d",
    "\u00fe": "th",
    "ƿ": "w",
    "\u0127": "h",
    "\u0131": "i",
    "\u0138": "k",
    "\u0142": "l",
    "\u014b": "n",
    "\u017f": "s",
    "\u0167": "t",
    "œ": "oe",
    "\u1e9c": "s",  # long s with diagonal stroke
    "\u1e9d": "s",  # long s with high stroke
}
_FOLD = str.maketrans(_NOT_DIACRITICS)


def _dropped(char: str) -> bool:
    """Combining diacritical marks (the block), modifier letters, modifier symbols."""
    return 0x0300 <= ord(char) <= 0x036F or unicodedata.category(char) in ("Lm", "Sk")


def _punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def normalize(text: str) -> str:
    """Trimmed, lower-cased, folded to ASCII where a letter has an ASCII form, without
    punctuation and control characters (OpenRefine's strong normalisation)."""
    text = text.strip(_TRIMMED).lower()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not _dropped(c))
    text = text.translate(_FOLD)
    text = "".join(c for c in text if not _punctuation(c))
    return _CONTROLS.sub("", text)


def _java_order(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def fingerprint(text: str) -> str:
    """The fingerprint key of ``text``."""
    words = _SPLIT.split(normalize(text))
    while words and words[-1] == "":  # Java's split drops trailing empty strings, not leading
        words.pop()
    return " ".join(sorted(set(words), key=_java_order))


def ngram_fingerprint(text: str, size: int = 2) -> str:
    """The n-gram fingerprint key of ``text`` (n-grams of ``size`` characters)."""
    folded = normalize(text)
    kept = "".join(c for c in folded if c not in _WHITE_SPACE and unicodedata.category(c) != "Cc")
    units = kept.encode("utf-16-be", "surrogatepass")
    length = len(units) // 2
    grams = {
        units[2 * i : 2 * (i + size)].decode("utf-16-be", "surrogatepass")
        for i in range(length - size + 1)
    }
    return "".join(sorted(grams, key=_java_order))
