"""Column profiles, checked against pandas and numpy on small tables."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datamill.datasets import profile as profile_module
from datamill.datasets.engine import Engine
from datamill.datasets.profile import compute_profile
from datamill.datasets.query import columns_of
from datamill.datasets.view import parse_view

SCHEMA = pa.schema(
    [
        ("n", pa.int64()),
        ("x", pa.float64()),
        ("flag", pa.bool_()),
        ("day", pa.date32()),
        ("at", pa.timestamp("us")),
        ("word", pa.string()),
        ("empty", pa.float64()),
    ]
)
COLUMNS = columns_of(SCHEMA)
WORDS = ["b", "a", "Zoë", "b", "c", "a", "", "naïve", "b", "a"]


def make_rows() -> list[dict[str, Any]]:
    specials = [math.nan, math.inf, -math.inf]
    return [
        {
            "n": None if index % 9 == 4 else (index * 37) % 101 - 50,
            "x": specials[index % 3]
            if index % 10 == 7
            else (None if index % 11 == 3 else index / 4),
            "flag": None if index % 5 == 0 else index % 3 == 0,
            "day": None if index % 6 == 5 else date(2024, 1, 1) + timedelta(days=(index * 7) % 40),
            "at": None
            if index % 8 == 1
            else datetime(2024, 1, 1)
            + timedelta(seconds=(index * 7919) % 86_400, microseconds=index),
            "word": None if index % 7 == 6 else WORDS[index % len(WORDS)],
            "empty": None,
        }
        for index in range(57)
    ]


ROWS = make_rows()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine("256MB", tmp_path_factory.mktemp("spill"), threads=2)
    yield engine
    engine.close()


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path, row_group_size=10)
    return path


@pytest.fixture(scope="module")
def profiled(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = write(tmp_path_factory.mktemp("profile") / "t.parquet", ROWS)
    return compute_profile(engine, path, COLUMNS)


def column(result: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(item for item in result["columns"] if item["name"] == name)
    return found


def values(name: str, rows: list[dict[str, Any]] = ROWS) -> list[Any]:
    return [row[name] for row in rows if row[name] is not None]


def finite(name: str) -> pd.Series:
    return pd.Series([v for v in values(name) if math.isfinite(v)], dtype="float64")


def distinct(items: list[Any]) -> int:
    return len({"NaN" if isinstance(v, float) and math.isnan(v) else v for v in items})


def test_the_profile_is_strict_json_with_one_entry_per_column(profiled: dict[str, Any]) -> None:
    json.dumps(profiled, allow_nan=False)
    assert profiled["row_count"] == len(ROWS)
    assert [(item["name"], item["type"]) for item in profiled["columns"]] == [
        (c["name"], c["type"]) for c in COLUMNS
    ]


@pytest.mark.parametrize("name", SCHEMA.names)
def test_counts_nulls_and_distinct_match_pandas(profiled: dict[str, Any], name: str) -> None:
    frame = pd.DataFrame(ROWS, dtype=object)
    result = column(profiled, name)
    assert result["count"] == int(frame[name].map(lambda v: v is not None).sum())
    assert result["nulls"] == int(frame[name].map(lambda v: v is None).sum())
    assert result["distinct"] == distinct(values(name))
    assert result["distinct_exact"] is True


@pytest.mark.parametrize("name", ["n", "x"])
def test_numbers_get_finite_min_max_mean_std(profiled: dict[str, Any], name: str) -> None:
    result, reference = column(profiled, name), finite(name)
    assert result["min"] == reference.min() and result["max"] == reference.max()
    assert result["mean"] == pytest.approx(reference.mean())
    assert result["std"] == pytest.approx(reference.std(ddof=1))


def test_floats_count_nan_and_infinities_apart(profiled: dict[str, Any]) -> None:
    assert column(profiled, "x")["non_finite"] == sum(
        1 for v in values("x") if not math.isfinite(v)
    )
    assert column(profiled, "x")["non_finite"] > 0
    assert "non_finite" not in column(profiled, "n")


def axis(name: str) -> list[float]:
    """Values on the histogram axis: numbers, days or microseconds since 1970."""
    result = []
    for value in values(name):
        if isinstance(value, datetime):
            result.append((value - datetime(1970, 1, 1)) / timedelta(microseconds=1))
        elif isinstance(value, date):
            result.append(float((value - date(1970, 1, 1)).days))
        elif math.isfinite(value):
            result.append(float(value))
    return result


def histogram_range(name: str) -> tuple[float, float]:
    """Minimum to maximum; for dates, twenty bins of the fewest whole days that cover it."""
    low, high = min(axis(name)), max(axis(name))
    if name == "day":
        return low, low + 20 * max(1, math.ceil((high - low) / 20))
    return low, high


@pytest.mark.parametrize("name", ["n", "x", "day", "at"])
def test_histograms_have_twenty_bins_counted_like_numpy(
    profiled: dict[str, Any], name: str
) -> None:
    histogram = column(profiled, name)["histogram"]
    counts, _ = np.histogram(axis(name), bins=20, range=histogram_range(name))
    assert len(histogram["edges"]) == 21
    assert histogram["counts"] == counts.tolist()
    assert sum(histogram["counts"]) == len(axis(name))


def test_numeric_histogram_edges_are_evenly_spaced_numbers(profiled: dict[str, Any]) -> None:
    edges = column(profiled, "n")["histogram"]["edges"]
    assert edges == pytest.approx(np.linspace(finite("n").min(), finite("n").max(), 21).tolist())


def test_dates_and_timestamps_are_iso_text(profiled: dict[str, Any]) -> None:
    day, at = column(profiled, "day"), column(profiled, "at")
    assert (day["min"], day["max"]) == (
        min(values("day")).isoformat(),
        max(values("day")).isoformat(),
    )
    assert (at["min"], at["max"]) == (min(values("at")).isoformat(), max(values("at")).isoformat())
    assert day["histogram"]["edges"][0].startswith(day["min"])
    assert at["histogram"]["edges"][0] == at["min"] and at["histogram"]["edges"][-1] == at["max"]
    for edge in at["histogram"]["edges"]:
        datetime.fromisoformat(edge)


def test_date_edges_are_dates_when_every_edge_is_a_whole_day(
    engine: Engine, tmp_path: Path
) -> None:
    days = [{"day": date(2024, 1, 1) + timedelta(days=offset)} for offset in (0, 40)]
    path = tmp_path / "days.parquet"
    pq.write_table(pa.Table.from_pylist(days, schema=pa.schema([("day", pa.date32())])), path)
    edges = compute_profile(engine, path, [{"name": "day", "type": "date"}])["columns"][0][
        "histogram"
    ]["edges"]
    assert edges[:3] == ["2024-01-01", "2024-01-03", "2024-01-05"] and edges[-1] == "2024-02-10"


def test_text_gets_top_values_with_ties_broken_by_value_and_lengths(
    profiled: dict[str, Any],
) -> None:
    result = column(profiled, "word")
    counts = Counter(values("word"))
    expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]
    assert [(item["value"], item["count"]) for item in result["top"]] == expected
    assert result["min_length"] == min(len(v) for v in values("word"))
    assert result["max_length"] == max(len(v) for v in values("word"))
    assert "histogram" not in result


def test_only_the_ten_most_frequent_values_are_listed(engine: Engine, tmp_path: Path) -> None:
    words = [{"w": f"w{index:02d}"} for index in range(30) for _ in range(index % 4 + 1)]
    path = tmp_path / "words.parquet"
    pq.write_table(pa.Table.from_pylist(words), path)
    result = compute_profile(engine, path, [{"name": "w", "type": "text"}])["columns"][0]
    assert [item["value"] for item in result["top"]] == [
        "w03",
        "w07",
        "w11",
        "w15",
        "w19",
        "w23",
        "w27",
        "w02",
        "w06",
        "w10",
    ]
    assert result["distinct"] == 30


def test_booleans_count_true_and_false(profiled: dict[str, Any]) -> None:
    result = column(profiled, "flag")
    assert (result["true"], result["false"]) == (
        values("flag").count(True),
        values("flag").count(False),
    )


def test_an_all_null_column_has_counts_and_no_range(profiled: dict[str, Any]) -> None:
    result = column(profiled, "empty")
    assert (result["count"], result["nulls"], result["distinct"]) == (0, len(ROWS), 0)
    assert result["min"] is None and result["mean"] is None and result["histogram"] is None


def test_an_empty_table_profiles_every_column_as_empty(engine: Engine, tmp_path: Path) -> None:
    result = compute_profile(engine, write(tmp_path / "empty.parquet", []), COLUMNS)
    json.dumps(result, allow_nan=False)
    assert result["row_count"] == 0
    for item in result["columns"]:
        assert (item["count"], item["nulls"], item["distinct"]) == (0, 0, 0)
        assert item.get("histogram") is None and item.get("top", []) == []


def test_a_constant_column_gets_a_unit_wide_histogram_around_its_value(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "constant.parquet"
    pq.write_table(pa.table({"k": pa.array([7, 7, 7], pa.int64())}), path)
    result = compute_profile(engine, path, [{"name": "k", "type": "int"}])["columns"][0]
    assert result["histogram"]["edges"][0] == 6.5 and result["histogram"]["edges"][-1] == 7.5
    assert result["histogram"]["counts"][10] == 3 and sum(result["histogram"]["counts"]) == 3
    assert result["std"] == 0.0


def test_huge_floats_that_overflow_the_variance_give_null_not_infinity(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "huge.parquet"
    pq.write_table(pa.table({"h": pa.array([1e308, -1e308], pa.float64())}), path)
    result = compute_profile(engine, path, [{"name": "h", "type": "float"}])
    json.dumps(result, allow_nan=False)
    assert result["columns"][0]["std"] is None


def test_large_tables_estimate_distinct_numbers_but_count_text_exactly(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profile_module, "EXACT_DISTINCT_ROWS", 10)
    result = compute_profile(engine, write(tmp_path / "t.parquet", ROWS), COLUMNS)
    assert column(result, "n")["distinct_exact"] is False
    assert column(result, "n")["distinct"] == pytest.approx(distinct(values("n")), rel=0.1)
    assert column(result, "word")["distinct_exact"] is True
    assert column(result, "word")["distinct"] == distinct(values("word"))


def test_a_view_profiles_only_its_rows(engine: Engine, tmp_path: Path) -> None:
    view = parse_view(None, '[{"column": "flag", "op": "eq", "value": true}]', None, COLUMNS)
    result = compute_profile(engine, write(tmp_path / "t.parquet", ROWS), COLUMNS, view)
    kept = [row for row in ROWS if row["flag"] is True]
    assert result["row_count"] == len(kept)
    assert column(result, "n")["count"] == len(values("n", kept))
    assert (
        column(result, "word")["top"][0]["count"]
        == Counter(values("word", kept)).most_common(1)[0][1]
    )


# -- extreme dates and exact edges -----------------------------------------------------------------


def profile_of(engine: Engine, path: Path, table: pa.Table) -> dict[str, dict[str, Any]]:
    pq.write_table(table, path)
    result = compute_profile(engine, path, columns_of(table.schema))
    json.dumps(result, allow_nan=False)
    return {item["name"]: item for item in result["columns"]}


def exact_edges(low: int, high: int) -> list[int]:
    span = max(high - low, 20)
    return [low + -(-span * position // 20) for position in range(21)]


def micros(value: datetime) -> int:
    return (value - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def test_dates_and_timestamps_after_year_9999_are_profiled_as_iso_text(
    engine: Engine, tmp_path: Path
) -> None:
    far_day, far_micros = 3_000_000, 316_516_204_800_500_000  # 10183-09-21, 12000-01-01T00:00:00.5
    table = pa.table(
        {
            "day": pa.array([0, far_day, None], pa.date32()),
            "at": pa.array([0, far_micros, None], pa.timestamp("us")),
        }
    )
    profiled = profile_of(engine, tmp_path / "far.parquet", table)
    day, at = profiled["day"], profiled["at"]
    assert (day["min"], day["max"]) == ("1970-01-01", "10183-09-21")
    assert (at["min"], at["max"]) == ("1970-01-01T00:00:00", "12000-01-01T00:00:00.500000")
    assert day["histogram"]["edges"][::20] == ["1970-01-01", "10183-09-21"]
    assert at["histogram"]["edges"][::20] == [at["min"], at["max"]]
    assert day["histogram"]["counts"][::19] == at["histogram"]["counts"][::19] == [1, 1]


def test_timestamps_up_to_the_last_microsecond_of_9999_get_exact_edges(
    engine: Engine, tmp_path: Path
) -> None:
    low, high = datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999_999)
    table = pa.table({"at": pa.array([low, high], pa.timestamp("us"))})
    histogram = profile_of(engine, tmp_path / "wide.parquet", table)["at"]["histogram"]
    expected = exact_edges(micros(low), micros(high))
    edges = [micros(datetime.fromisoformat(edge)) for edge in histogram["edges"]]
    assert edges == expected
    assert histogram["edges"][-1] == "9999-12-31T23:59:59.999999"
    assert histogram["counts"][0] == histogram["counts"][-1] == 1


def test_timestamp_edges_a_few_microseconds_apart_are_distinct_whole_microseconds(
    engine: Engine, tmp_path: Path
) -> None:
    start = datetime(2024, 1, 1)
    values = [start + timedelta(microseconds=offset) for offset in (0, 3, 7)]
    table = pa.table({"at": pa.array(values, pa.timestamp("us"))})
    histogram = profile_of(engine, tmp_path / "close.parquet", table)["at"]["histogram"]
    edges = [micros(datetime.fromisoformat(edge)) for edge in histogram["edges"]]
    assert edges == [micros(start) + offset for offset in range(21)]
    assert [index for index, count in enumerate(histogram["counts"]) if count] == [0, 3, 7]


@pytest.mark.parametrize(
    ("low", "high"),
    [(date(1000, 1, 1), date(2024, 5, 17)), (date(2024, 1, 1), date(2024, 1, 6))],
    ids=["centuries", "days"],
)
def test_date_edges_are_whole_days_evenly_spaced_from_the_minimum(
    engine: Engine, tmp_path: Path, low: date, high: date
) -> None:
    table = pa.table({"day": pa.array([low, high, high], pa.date32())})
    histogram = profile_of(engine, tmp_path / "days.parquet", table)["day"]["histogram"]
    edges = [date.fromisoformat(edge) for edge in histogram["edges"]]
    steps = {(later - earlier).days for earlier, later in itertools.pairwise(edges)}
    assert edges[0] == low and edges[-1] >= high and len(steps) == 1
    assert (edges[-1] - low).days < (high - low).days + 20
    last = max(index for index, count in enumerate(histogram["counts"]) if count)
    assert edges[last] <= high < edges[last + 1] and histogram["counts"][last] == 2


def test_duckdb_infinite_dates_are_left_out_of_the_range(engine: Engine, tmp_path: Path) -> None:
    days = [(date(2024, 1, 1) - date(1970, 1, 1)).days, 2**31 - 1, -(2**31) + 1]
    table = pa.table({"day": pa.array(days, pa.date32())})
    day = profile_of(engine, tmp_path / "infinite.parquet", table)["day"]
    assert (day["count"], day["min"], day["max"]) == (3, "2024-01-01", "2024-01-01")
    assert sum(day["histogram"]["counts"]) == 1
