"""Text operations against Python's and pandas' string methods."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamill.problems import Invalid
from tests.fixtures.tables import Revision, values

WORDS = ["  new   york ", "ÉCOLE normale", None, "", "tab\there\n", "o'neil mcDONALD"]


@pytest.fixture
def words(tmp_path: Path) -> Revision:
    return Revision(tmp_path, {"w": WORDS, "n": [1, 2, 3, 4, 5, 6]}, {"w": "text", "n": "int"})


def test_trim_and_collapse_like_split_and_join(words: Revision) -> None:
    result = words.apply("trim-whitespace")
    assert result.column("w") == [None if w is None else " ".join(w.split()) for w in WORDS]
    only_trim = words.apply("trim-whitespace", collapse=False).column("w")
    assert only_trim == [None if w is None else w.strip(" \t\n") for w in WORDS]


def test_upper_and_lower_like_python_including_unicode(words: Revision) -> None:
    assert words.apply("change-case", columns=["w"], case="upper").column("w") == values(
        words.frame()["w"].str.upper()
    )
    assert words.apply("change-case", columns=["w"], case="lower").column("w") == values(
        words.frame()["w"].str.lower()
    )


def test_title_case_capitalises_each_whitespace_separated_word(words: Revision) -> None:
    def title(text: str | None) -> str | None:
        if text is None:
            return None
        return "".join(t[:1].upper() + t[1:].lower() for t in re.findall(r"\s+|\S+", text))

    assert words.apply("change-case", columns=["w"], case="title").column("w") == [
        title(w) for w in WORDS
    ]


def test_case_of_a_number_column_is_a_422(words: Revision) -> None:
    with pytest.raises(Invalid, match="column 'n' is int; expected text"):
        words.apply("change-case", columns=["n"], case="upper")


def test_literal_replacements_apply_in_order_like_str_replace(words: Revision) -> None:
    replacements = [{"find": "o", "replace": "0"}, {"find": "0", "replace": "(zero)"}]
    result = words.apply("find-replace", columns=["w"], replacements=replacements)
    expected = (
        words.frame()["w"]
        .str.replace("o", "0", regex=False)
        .str.replace("0", "(zero)", regex=False)
    )
    assert result.column("w") == values(expected)


def test_regex_replacement_with_groups_like_re_sub_in_ascii_mode(words: Revision) -> None:
    """RE2's \\w and \\s are ASCII classes, as Python's with re.ASCII."""
    result = words.apply(
        "find-replace",
        columns=["w"],
        replacements=[{"find": r"(\w+)\s+(\w+)", "replace": r"\2 \1"}],
        mode="regex",
    )
    expected = [
        None if w is None else re.sub(r"(\w+)\s+(\w+)", r"\2 \1", w, flags=re.ASCII) for w in WORDS
    ]
    assert result.column("w") == expected


def test_whole_cell_replacement_only_touches_exact_cells(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"c": ["NYC", "NYC!", "nyc", None]}, {"c": "text"})
    exact = table.apply(
        "find-replace", columns=["c"], replacements=[{"find": "NYC", "replace": "New York"}],
        whole_cell=True,
    )  # fmt: skip
    assert exact.column("c") == ["New York", "NYC!", "nyc", None]
    folded = table.apply(
        "find-replace", columns=["c"], replacements=[{"find": "NYC", "replace": "New York"}],
        whole_cell=True, case_sensitive=False,
    )  # fmt: skip
    assert folded.column("c") == ["New York", "NYC!", "New York", None]
    regex = table.apply(
        "find-replace", columns=["c"], replacements=[{"find": "a|aa|NYC.?", "replace": "X"}],
        whole_cell=True, mode="regex",
    )  # fmt: skip
    assert regex.column("c") == ["X", "X", "nyc", None]


def test_a_literal_pattern_with_regex_characters_is_taken_literally(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"c": ["a.b", "axb", r"c\d"]}, {"c": "text"})
    result = table.apply(
        "find-replace", columns=["c"], replacements=[{"find": ".", "replace": r"\1$"}],
        case_sensitive=False,
    )  # fmt: skip
    assert result.column("c") == [r"a\1$b", "axb", r"c\d"]


def test_a_broken_regex_is_a_422_at_its_place(words: Revision) -> None:
    with pytest.raises(Invalid) as caught:
        words.apply("find-replace", columns=["w"], replacements=[{"find": "(", "replace": ""}],
                    mode="regex")  # fmt: skip
    assert (caught.value.errors or [])[0]["loc"] == [
        "body", "params", "replacements", 0, "find",
    ]  # fmt: skip


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(st.text(alphabet="ab .é\t", max_size=8) | st.none(), max_size=10),
    find=st.text(alphabet="ab .é", min_size=1, max_size=3),
    replace=st.text(alphabet="xy\\$", max_size=3),
)
def test_literal_replace_agrees_with_python_on_any_text(
    tmp_path_factory: pytest.TempPathFactory, cells: list[str | None], find: str, replace: str
) -> None:
    table = Revision(tmp_path_factory.mktemp("replace"), {"c": cells}, {"c": "text"})
    for sensitive in (True, False):
        result = table.apply(
            "find-replace", columns=["c"], replacements=[{"find": find, "replace": replace}],
            case_sensitive=sensitive,
        )  # fmt: skip
        expected = [None if c is None else c.replace(find, replace) for c in cells]
        assert result.column("c") == expected
    assert values(pd.Series(cells, dtype=object)) == cells
