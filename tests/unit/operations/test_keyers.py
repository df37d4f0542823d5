"""Clustering keys give what OpenRefine's keyers give for the same input (its own test cases)."""

from __future__ import annotations

import pytest

from datamill.operations.keyers import fingerprint, ngram_fingerprint

# Inputs and keys from OpenRefine's FingerprintKeyerTests.
FINGERPRINTS = [
    ("the multi multi word test", "multi test the word"),
    (" école ÉCole ecoLe ", "ecole"),
    (" d c b a ", "a b c d"),
    ("\tABC \t DEF ", "abc def"),
    ("bbb\taaa", "aaa bbb"),
    ("æø", "aeoe"),
    ("©ß", "css"),
    ("\u00d0\u00f0\u00de\u00feǷƿ", "ddththww"),
    ("ﬀﬁﬂﬃﬅﬆ", "fffiflffistst"),
    ("\u0149", "n"),
    ("\u00d8\u00f8", "oeoe"),
    ("\u0126\u0127", "hh"),
    ("\u013f\u0140", "ll"),
    (
        "a\u0009\nb\u000bc\u000cd\re\u0085f\u00a0g\u1680h\u2000i\u2001j\u2002k\u2003l\u2004m"
        "\u2005n\u2006o\u2007p\u2008q\u2009r\u200as\u2028t\u2029u\u202fv\u205fw\u3000z",
        "a b c d e f g h i j k l m n o p q r s t u v w z",
    ),
    (
        "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ",
        "aaaaaaaeceeeeiiiidnooooooeuuuuythssaaaaaaaeceeeeiiiidnooooooeuuuuythy",
    ),
    (
        "ĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĲĳĴĵĶķĸĹĺĻļĽľĿŀŁłŃńŅņŇňŉŊŋŌōŎŏŐőŒœŔŕŖŗ"
        "ŘřŚśŜŝŞşŠšŢţŤťŦŧŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſ",
        "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiijijjjkkkllllllllllnnnnnnnnnooooooo"
        "eoerrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs",
    ),
    (
        "ẖẗẘẙẚẛẜẝẞẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặẸẹẺẻẼẽẾếỀềỂểỄễỆệ",
        "htwyasssssaaaaaaaaaaaaaaaaaaaaaaaaeeeeeeeeeeeeeeee",
    ),
    ("", ""),
]


@pytest.mark.parametrize(("text", "key"), FINGERPRINTS)
def test_fingerprint_matches_openrefine(text: str, key: str) -> None:
    assert fingerprint(text) == key


@pytest.mark.parametrize(
    ("text", "size", "key"),
    [
        ("hello", 1, "ehlo"),
        ("he!llo,. world", 1, "dehlorw"),
        ("\u0001a, !b-c_d\u00a0d\tz\u0003", 3, "abcbcdcddddz"),
        ("Paris", 2, "arispari"),
        ("a", 2, ""),
    ],
)
def test_ngram_fingerprint_matches_openrefine(text: str, size: int, key: str) -> None:
    assert ngram_fingerprint(text, size) == key


def test_values_that_differ_by_case_accents_order_and_punctuation_share_a_key() -> None:
    names = ["New York", "new york ", "York, New", "NEW-YORK", "Nëw  Yórk"]
    assert len({fingerprint(n) for n in names}) == 2  # "NEW-YORK" becomes one word
    assert len({ngram_fingerprint(n) for n in names}) == 2  # "York, New" has other pairs
