"""Number and outlier operations against pandas and numpy."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamill.problems import Invalid
from tests.fixtures.tables import Revision, close, values

DATA = [1.0, 2.0, None, 4.0, 100.0, float("nan"), -3.0, 2.0]


@pytest.fixture
def numbers(tmp_path: Path) -> Revision:
    ints = [1, 2, None, 4, 100, 5, -3, 2]
    return Revision(tmp_path, {"x": DATA, "i": ints}, {"x": "float", "i": "int"})


def finite_series() -> pd.Series:
    return pd.Series(
        [v if v is not None and not math.isnan(v) else None for v in DATA], dtype=float
    )


def same(actual: list[float | None], expected: list[float | None]) -> bool:
    """Equal, NaN equal to NaN, floats within 1e-9."""
    fixed = [("nan" if isinstance(v, float) and math.isnan(v) else v) for v in actual]
    wanted = [("nan" if isinstance(v, float) and math.isnan(v) else v) for v in expected]
    return close(fixed, wanted)


def test_normalize_like_min_max_scaling_and_keeps_nan(numbers: Revision) -> None:
    series = finite_series()
    scaled = (series - series.min()) / (series.max() - series.min()) * 10 - 5
    result = numbers.apply("normalize", column="x", low=-5, high=5).column("x")
    expected = values(scaled)
    expected[5] = float("nan")
    assert same(result, expected)


def test_standardize_like_pandas_sample_std(numbers: Revision) -> None:
    series = finite_series()
    expected = values((series - series.mean()) / series.std())
    expected[5] = float("nan")
    assert same(numbers.apply("standardize", column="x").column("x"), expected)


def test_a_constant_column_standardises_to_zero(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"x": [3.0, 3.0, None]}, {"x": "float"})
    assert table.apply("standardize", column="x").column("x") == [0.0, 0.0, None]
    assert table.apply("normalize", column="x").column("x") == [0.0, 0.0, None]


def test_round_half_away_from_zero(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"x": [2.5, -2.5, 1.25, 0.125, None], "i": [15, -15, 14, 0, None]},
                     {"x": "float", "i": "int"})  # fmt: skip
    assert table.apply("round", column="x").column("x") == [3.0, -3.0, 1.0, 0.0, None]
    assert table.apply("round", column="x", digits=1).column("x")[2] == 1.3
    tens = table.apply("round", column="i", digits=-1)
    assert tens.column("i") == [20, -20, 10, 0, None] and tens.types["i"] == "int"


def test_clip_like_pandas_and_keeps_nan(numbers: Revision) -> None:
    result = numbers.apply("clip", column="x", lower=0, upper=10).column("x")
    expected = values(pd.Series(DATA, dtype=float).clip(0, 10))
    expected[5] = float("nan")
    assert same(result, expected)
    ints = numbers.apply("clip", column="i", lower=0.5, upper=9.5)
    assert ints.column("i") == [1, 2, None, 4, 9, 5, 1, 2] and ints.types["i"] == "int"


def test_clip_needs_a_bound(numbers: Revision) -> None:
    with pytest.raises(Invalid, match="lower bound, an upper bound or both"):
        numbers.apply("clip", column="x")


def test_bins_by_edges_like_numpy_digitize(numbers: Revision) -> None:
    result = numbers.apply("bin", column="x", method="edges", edges=[-10, 0, 10, 100])
    assert result.column("x_bin") == [
        "[0, 10)", "[0, 10)", None, "[0, 10)", "[10, 100]", None, "[-10, 0)", "[0, 10)",
    ]  # fmt: skip
    assert result.names == ["x", "x_bin", "i"]


def test_equal_width_and_quantile_bins_like_pandas_cut_closed_on_the_left(
    numbers: Revision,
) -> None:
    equal = numbers.apply("bin", column="x", bins=4).column("x_bin")
    assert equal[4] == "[74.25, 100]" and equal[6] == "[-3, 22.75)"
    ints = pd.Series([1, 2, None, 4, 100, 5, -3, 2], dtype=float)
    edges = list(ints.quantile([0, 0.5, 1]))
    edges[-1] = np.nextafter(edges[-1], np.inf)  # pandas' last bin is open, ours closed
    expected = pd.cut(ints, edges, right=False, labels=False)
    labels = numbers.apply("bin", column="i", method="quantile", bins=2, name="half").column("half")
    assert [label is None for label in labels] == list(expected.isna())
    groups = {(label, code) for label, code in zip(labels, expected, strict=True) if label}
    assert len(groups) == len({label for label, _ in groups}) == 2


def test_edges_must_increase(numbers: Revision) -> None:
    with pytest.raises(Invalid, match="edges must increase"):
        numbers.apply("bin", column="x", method="edges", edges=[0, 0, 1])


def reference_fences(
    series: pd.Series, method: str, k: float, trim: float = 0.1
) -> tuple[float, float]:
    clean = series.dropna()
    if method == "iqr":
        q1, q3 = clean.quantile(0.25), clean.quantile(0.75)
        return q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    if method == "trimmed":
        low, high = clean.quantile(trim), clean.quantile(1 - trim)
        kept = clean[(clean >= low) & (clean <= high)]
        return kept.mean() - k * kept.std(), kept.mean() + k * kept.std()
    return clean.mean() - k * clean.std(), clean.mean() + k * clean.std()


@pytest.mark.parametrize(("method", "k"), [("zscore", 1.5), ("iqr", 1.5), ("trimmed", 3.0)])
def test_outliers_flagged_like_the_pandas_reference(
    numbers: Revision, method: str, k: float
) -> None:
    series = finite_series()
    low, high = reference_fences(series, method, k)
    expected = [v is not None and not math.isnan(v) and (v < low or v > high) for v in DATA]
    result = numbers.apply("treat-outliers", column="x", method=method, k=k)
    assert result.column("x_outlier") == expected
    assert result.applied.changes["outliers"] == sum(expected)
    assert math.isclose(result.applied.changes["low"], low)


def test_outliers_made_null_clipped_or_deleted(numbers: Revision) -> None:
    nulled = numbers.apply("treat-outliers", column="x", method="iqr", action="null")
    assert nulled.column("x")[4] is None and nulled.column("x")[0] == 1.0
    clipped = numbers.apply("treat-outliers", column="i", method="iqr", action="clip")
    assert clipped.column("i")[4] == 9 and clipped.types["i"] == "int"  # q3 4.5 + 1.5 * 3
    deleted = numbers.apply("treat-outliers", column="x", method="iqr", action="delete")
    low, high = reference_fences(finite_series(), "iqr", 1.5)
    kept = [v for v in DATA if v is None or math.isnan(v) or low <= v <= high]
    assert len(deleted.records()) == len(kept) == 6


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.floats(-1e6, 1e6) | st.none(), min_size=2, max_size=30))
def test_zscore_flags_agree_with_pandas_on_any_column(
    tmp_path_factory: pytest.TempPathFactory, column: list[float | None]
) -> None:
    table = Revision(tmp_path_factory.mktemp("z"), {"x": column}, {"x": "float"})
    series = pd.Series(column, dtype=float)
    result = table.apply("treat-outliers", column="x", k=2).column("x_outlier")
    if series.dropna().size < 2:
        assert not any(result)
        return
    low, high = reference_fences(series, "zscore", 2)
    expected = [v is not None and (v < low or v > high) for v in column]
    near = [
        v is not None and min(abs(v - low), abs(v - high)) < 1e-6 * (1 + abs(v)) for v in column
    ]
    assert all(r == e for r, e, n in zip(result, expected, near, strict=True) if not n)
    assert np.isfinite(low) or np.isnan(low)


def test_normalize_spans_the_whole_range_of_doubles(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"x": [-1e308, 0.0, 1e308]}, {"x": "float"})
    assert table.apply("normalize", column="x").column("x") == [0.0, 0.5, 1.0]
