"""Grid pages under views: identity slices, direct top-N answers and materialised views."""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamill.datasets import query
from datamill.datasets.engine import Engine
from datamill.datasets.query import RowsReader, columns_of
from datamill.datasets.types import Column
from datamill.datasets.values import to_rows
from datamill.datasets.view import Filter, SortKey, View, parse_view

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("grp", pa.int64()),
        ("val", pa.float64()),
        ("ok", pa.bool_()),
        ("day", pa.date32()),
        ("at", pa.timestamp("us")),
        ("name", pa.string()),
    ]
)
COLUMNS = columns_of(SCHEMA)
NAMES = ["Apple", "apple", "Zoë", "ÉCLAIR", "banana", "", "x'y", 'q"uote', "naïve"]
FLOATS = [0.5, -1.0, 2.25, 1e6, math.nan, math.inf, -math.inf, None]


def make_rows(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Many ties and every kind of missing value, so tie-breaks and null order matter."""
    rng = random.Random(seed)

    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.15 else value

    return [
        {
            "id": maybe(index),
            "grp": maybe(rng.randrange(4)),
            "val": rng.choice(FLOATS),
            "ok": maybe(rng.random() < 0.5),
            "day": maybe(date(2024, 1, 1) + timedelta(days=rng.randrange(5))),
            "at": maybe(datetime(2024, 1, 1) + timedelta(seconds=rng.randrange(3) * 1.5)),
            "name": maybe(rng.choice(NAMES)),
        }
        for index in range(count)
    ]


ROWS = make_rows(61)


def write(path: Path, rows: list[dict[str, Any]], row_group_size: int = 8) -> Path:
    """A file like a revision. DuckDB, which writes revisions, keeps no min/max for a float
    chunk holding NaN; pyarrow keeps them without the NaN, and DuckDB 2.0 then skips row groups
    by them (``val = NaN`` finds nothing, a top-N loses NaN rows), so float statistics are off."""
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    stats = [name for name in SCHEMA.names if name != "val"]
    pq.write_table(table, path, row_group_size=row_group_size, write_statistics=stats)
    return path


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine("256MB", tmp_path_factory.mktemp("spill"), threads=2)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("data") / "table.parquet", ROWS)


@pytest.fixture
def reader(engine: Engine, tmp_path: Path) -> Iterator[RowsReader]:
    reader = RowsReader(engine, tmp_path / "cache", 10**9)
    yield reader
    reader.close()


@pytest.fixture
def uncached(engine: Engine, tmp_path: Path) -> Iterator[RowsReader]:
    reader = RowsReader(engine, tmp_path / "nocache", 0)
    yield reader
    reader.close()


# -- the pandas reference --------------------------------------------------------------------------


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _rank(value: Any) -> Any:
    """DuckDB's order for one value: NaN above every float."""
    return (1, 0.0) if _is_nan(value) else (0, value) if isinstance(value, float) else value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _matches(item: Filter, value: Any) -> bool:
    if item.op in ("is_null", "not_null"):
        return (value is None) == (item.op == "is_null")
    if value is None:
        return False
    if item.op in ("contains", "starts_with", "regex"):
        text, pattern = _text(value), str(item.value)
        if item.op == "regex":
            return re.search(pattern, text) is not None
        test = str.__contains__ if item.op == "contains" else str.startswith
        return test(text.lower(), pattern.lower())
    if item.op == "in":
        assert isinstance(item.value, tuple)
        return any(_rank(value) == _rank(other) for other in item.value)
    if item.op == "between":
        assert isinstance(item.value, tuple)
        return bool(_rank(item.value[0]) <= _rank(value) <= _rank(item.value[1]))
    compare = {
        "eq": "__eq__",
        "ne": "__ne__",
        "lt": "__lt__",
        "le": "__le__",
        "gt": "__gt__",
        "ge": "__ge__",
    }
    return bool(getattr(_rank(value), compare[item.op])(_rank(item.value)))


def reference(rows: list[dict[str, Any]], view: View) -> list[list[Any]]:
    """The view computed the plain way: pandas filters, then a stable multi-key sort."""
    frame = pd.DataFrame(rows, columns=SCHEMA.names, dtype=object)
    frame["_pos"] = range(len(frame))
    keep = pd.Series(True, index=frame.index)
    for item in view.filters:
        keep &= frame[item.column].map(lambda value, item=item: _matches(item, value)).astype(bool)
    if view.q is not None:
        needle = view.q.lower()
        keep &= (
            frame["name"]
            .map(lambda value: value is not None and needle in value.lower())
            .astype(bool)
        )
    frame = frame[keep].copy()
    keys, ascending = [], []
    for index, key in enumerate(view.sort):
        values = frame[key.column]
        filler = next((v for v in values if v is not None and not _is_nan(v)), 0)
        frame[f"_null{index}"] = [v is None for v in values]
        frame[f"_nan{index}"] = [_is_nan(v) for v in values]
        frame[f"_val{index}"] = [filler if v is None or _is_nan(v) else v for v in values]
        keys += [f"_null{index}", f"_nan{index}", f"_val{index}"]
        ascending += [True, not key.desc, not key.desc]
    frame = frame.sort_values([*keys, "_pos"], ascending=[*ascending, True], kind="stable")
    records = frame[SCHEMA.names].to_dict("records")
    return to_rows(pa.Table.from_pylist(records, schema=SCHEMA))


def all_pages(reader: RowsReader, path: Path, view: View, size: int) -> tuple[list[list[Any]], int]:
    rows: list[list[Any]] = []
    first = reader.read_rows(path, COLUMNS, view, 0, size)
    rows += first.rows
    while len(rows) < first.total:
        page = reader.read_rows(path, COLUMNS, view, len(rows), size)
        assert page.total == first.total and page.offset == len(rows) and page.rows
        rows += page.rows
    return rows, first.total


def same_rows(actual: list[list[Any]], expected: list[list[Any]]) -> bool:
    return json.dumps(actual) == json.dumps(expected)


def view_of(sort: Any = None, filter: Any = None, q: str | None = None) -> View:
    return parse_view(
        None if sort is None else json.dumps(sort),
        None if filter is None else json.dumps(filter),
        q,
        COLUMNS,
    )


VIEWS = [
    view_of([{"column": "val"}]),
    view_of([{"column": "val", "desc": True}]),
    view_of([{"column": "grp"}, {"column": "name", "desc": True}, {"column": "at"}]),
    view_of([{"column": "ok", "desc": True}, {"column": "day"}]),
    view_of(filter=[{"column": "val", "op": "gt", "value": 0}]),
    view_of(
        [{"column": "id", "desc": True}], [{"column": "name", "op": "contains", "value": "APP"}]
    ),
    view_of([{"column": "name"}], [{"column": "grp", "op": "in", "value": [1, 3]}], q="a"),
    view_of(filter=[{"column": "day", "op": "between", "value": ["2024-01-02", "2024-01-03"]}]),
    view_of(q="zoë"),
    view_of([{"column": "val"}], [{"column": "val", "op": "is_null"}]),
    view_of(filter=[{"column": "id", "op": "eq", "value": -5}]),
]


# -- identity --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "limit"), [(0, 1), (0, 100), (5, 10), (7, 2), (8, 8), (60, 5), (3, 1000)]
)
def test_identity_pages_are_slices_of_the_file_across_row_groups(
    reader: RowsReader, table: Path, offset: int, limit: int
) -> None:
    page = reader.read_rows(table, COLUMNS, View(), offset, limit)
    assert page.total == len(ROWS) and page.offset == offset and page.columns == COLUMNS
    assert same_rows(page.rows, reference(ROWS, View())[offset : offset + limit])


@pytest.mark.parametrize("view", [View(), VIEWS[0], VIEWS[4]])
def test_an_offset_past_the_end_gives_no_rows_and_the_true_total(
    reader: RowsReader, table: Path, view: View
) -> None:
    page = reader.read_rows(table, COLUMNS, view, 500, 10)
    assert page.rows == [] and page.total == len(reference(ROWS, view)) and page.offset == 500


@pytest.mark.parametrize(("offset", "limit"), [(-1, 10), (0, 0), (0, 1001)])
def test_offset_and_limit_out_of_range_are_refused(
    reader: RowsReader, table: Path, offset: int, limit: int
) -> None:
    with pytest.raises(AssertionError):
        reader.read_rows(table, COLUMNS, View(), offset, limit)


def test_pages_can_use_a_subset_of_columns_in_any_order(reader: RowsReader, table: Path) -> None:
    columns: list[Column] = [{"name": "name", "type": "text"}, {"name": "id", "type": "int"}]
    for view in (View(), VIEWS[0]):
        page = reader.read_rows(table, columns, view, 0, 5)
        expected = [[row[6], row[0]] for row in reference(ROWS, view)[:5]]
        assert same_rows(page.rows, expected)


# -- views: direct answers and the cache -----------------------------------------------------------


@pytest.mark.parametrize("view", VIEWS, ids=[view.key() for view in VIEWS])
def test_every_page_of_a_view_matches_pandas_with_and_without_the_cache(
    reader: RowsReader, uncached: RowsReader, table: Path, view: View
) -> None:
    expected = reference(ROWS, view)
    for source in (reader, uncached):
        rows, total = all_pages(source, table, view, 7)
        assert total == len(expected)
        assert same_rows(rows, expected)


@pytest.mark.parametrize("view", [View(), *VIEWS], ids=["identity", *[v.key() for v in VIEWS]])
def test_every_row_of_every_page_comes_with_its_position_in_the_revision(
    reader: RowsReader, uncached: RowsReader, table: Path, view: View
) -> None:
    """Edits and deletions from a sorted or filtered grid name rows by these positions."""
    every = reader.read_rows(table, COLUMNS, View(), 0, len(ROWS)).rows
    for source in (reader, uncached):
        offset, total = 0, 1
        while offset < total:
            page = source.read_rows(table, COLUMNS, view, offset, 7)
            assert page.positions is not None and len(page.positions) == len(page.rows)
            assert same_rows([every[p] for p in page.positions], page.rows)
            offset, total = offset + 7, page.total


def test_the_first_page_is_answered_directly_and_later_pages_come_from_the_cache(
    reader: RowsReader, table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = VIEWS[2]
    first = reader.read_rows(table, COLUMNS, view, 0, 10)
    direct_calls: list[int] = []
    original = RowsReader._direct

    def spy(self: RowsReader, *args: Any) -> Any:
        direct_calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(RowsReader, "_direct", spy)
    second = reader.read_rows(table, COLUMNS, view, 10, 10)
    again = reader.read_rows(table, COLUMNS, view, 0, 10)
    assert direct_calls == []
    assert same_rows(first.rows + second.rows, reference(ROWS, view)[:20])
    assert same_rows(again.rows, first.rows)
    assert len(list((tmp_path / "cache").glob("view-*.parquet"))) == 1


def test_a_deep_first_request_waits_for_the_materialised_view(
    reader: RowsReader, table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(query, "DIRECT_DEPTH", 10)
    monkeypatch.setattr(RowsReader, "_direct", lambda *args: pytest.fail("answered directly"))
    page = reader.read_rows(table, COLUMNS, VIEWS[0], 20, 10)
    assert same_rows(page.rows, reference(ROWS, VIEWS[0])[20:30])


CANDIDATE_FILTERS: list[dict[str, Any]] = [
    {"column": "val", "op": "ge", "value": 0.5},
    {"column": "val", "op": "ne", "value": "NaN"},
    {"column": "grp", "op": "lt", "value": 2},
    {"column": "ok", "op": "eq", "value": True},
    {"column": "day", "op": "le", "value": "2024-01-03"},
    {"column": "at", "op": "gt", "value": "2024-01-01T00:00:00"},
    {"column": "name", "op": "in", "value": ["Apple", "apple", ""]},
    {"column": "name", "op": "starts_with", "value": "a"},
    {"column": "name", "op": "regex", "value": "^[A-Z]"},
    {"column": "id", "op": "not_null"},
    {"column": "grp", "op": "is_null"},
    {"column": "val", "op": "contains", "value": "inf"},
    {"column": "id", "op": "between", "value": [10, 40]},
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_views_paged_through_the_cache_equal_pandas(
    engine: Engine, table: Path, data: st.DataObject
) -> None:
    sort = data.draw(
        st.lists(st.sampled_from(SCHEMA.names), unique=True, max_size=3).flatmap(
            lambda names: st.tuples(*(st.tuples(st.just(name), st.booleans()) for name in names))
        )
    )
    filters = data.draw(st.lists(st.sampled_from(CANDIDATE_FILTERS), max_size=2))
    q = data.draw(st.none() | st.sampled_from(["a", "É", "'", "zz"]))
    size = data.draw(st.integers(1, 30))
    view = view_of([{"column": c, "desc": d} for c, d in sort], filters, q)
    expected = reference(ROWS, view)
    with TemporaryDirectory() as cache, pytest.MonkeyPatch.context() as patch:
        patch.setattr(query, "CACHE_ROW_GROUP", 5)
        reader = RowsReader(engine, Path(cache), 10**9)
        try:
            rows, total = all_pages(reader, table, view, size)
            assert reader.count(table, view) == total == len(expected)
        finally:
            reader.close()
    assert same_rows(rows, expected)


# -- counting --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "view", [View(), *VIEWS], ids=["identity", *[view.key() for view in VIEWS]]
)
def test_count_is_the_number_of_rows_in_the_view(
    reader: RowsReader, table: Path, view: View
) -> None:
    assert reader.count(table, view) == len(reference(ROWS, view))


def test_count_uses_the_materialised_view_when_there_is_one(
    reader: RowsReader, table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = VIEWS[4]
    all_pages(reader, table, view, 5)
    monkeypatch.setattr(query, "_count_sql", lambda *args: pytest.fail("counted again"))
    assert reader.count(table, view) == len(reference(ROWS, view))


# -- the cache's bounds and life cycle -------------------------------------------------------------


def test_least_recently_used_views_are_evicted_beyond_the_byte_budget(
    engine: Engine, table: Path, tmp_path: Path
) -> None:
    probe = RowsReader(engine, tmp_path / "probe", 10**9)
    all_pages(probe, table, VIEWS[0], 30)
    probe.close()
    one_file = next((tmp_path / "probe").glob("view-*.parquet")).stat().st_size
    reader = RowsReader(engine, tmp_path / "cache", int(one_file * 2.5))
    try:
        for view in (VIEWS[0], VIEWS[1], VIEWS[0], VIEWS[2]):  # VIEWS[1] is then the oldest
            all_pages(reader, table, view, 30)  # several pages: the later ones wait for the build
        files = list((tmp_path / "cache").glob("view-*.parquet"))
        assert len(files) == 2
        assert sum(file.stat().st_size for file in files) <= one_file * 2.5
        for view in (VIEWS[0], VIEWS[1], VIEWS[2]):
            assert same_rows(all_pages(reader, table, view, 9)[0], reference(ROWS, view))
    finally:
        reader.close()


def test_a_view_larger_than_the_whole_budget_is_answered_without_a_cache(
    engine: Engine, table: Path, tmp_path: Path
) -> None:
    reader = RowsReader(engine, tmp_path / "cache", 100)
    try:
        for _ in range(2):
            rows, _ = all_pages(reader, table, VIEWS[2], 13)
            assert same_rows(rows, reference(ROWS, VIEWS[2]))
        assert list((tmp_path / "cache").glob("*")) == []
    finally:
        reader.close()


def test_a_restarted_reader_adopts_the_views_already_on_disk(
    engine: Engine, table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = RowsReader(engine, tmp_path / "cache", 10**9)
    all_pages(first, table, VIEWS[3], 30)
    first.close()
    monkeypatch.setattr(RowsReader, "_materialise", lambda *args: pytest.fail("built again"))
    monkeypatch.setattr(RowsReader, "_direct", lambda *args: pytest.fail("answered directly"))
    second = RowsReader(engine, tmp_path / "cache", 10**9)
    try:
        assert same_rows(all_pages(second, table, VIEWS[3], 10)[0], reference(ROWS, VIEWS[3]))
    finally:
        second.close()


def test_a_rewritten_file_never_gets_the_old_files_view(reader: RowsReader, tmp_path: Path) -> None:
    path = write(tmp_path / "changing.parquet", ROWS)
    all_pages(reader, path, VIEWS[0], 100)
    changed = make_rows(40, seed=99)
    write(tmp_path / "changing.parquet", changed)
    rows, total = all_pages(reader, path, VIEWS[0], 100)
    assert total == 40 and same_rows(rows, reference(changed, VIEWS[0]))


def test_a_failed_build_falls_back_to_direct_answers_and_is_retried(
    reader: RowsReader,
    table: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    original = RowsReader._materialise

    def broken(self: RowsReader, *args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(RowsReader, "_materialise", broken)
    rows, _ = all_pages(reader, table, VIEWS[1], 10)
    assert same_rows(rows, reference(ROWS, VIEWS[1]))
    assert "could not materialise" in caplog.text
    monkeypatch.setattr(RowsReader, "_materialise", original)
    assert same_rows(all_pages(reader, table, VIEWS[1], 10)[0], reference(ROWS, VIEWS[1]))


def test_concurrent_readers_of_a_new_view_share_one_build_and_agree(
    reader: RowsReader, table: Path, tmp_path: Path
) -> None:
    view = VIEWS[5]
    expected = reference(ROWS, view)
    failures: list[BaseException] = []

    def read(offset: int) -> None:
        try:
            page = reader.read_rows(table, COLUMNS, view, offset, 3)
            assert same_rows(page.rows, expected[offset : offset + 3])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=read, args=(offset % 12,)) for offset in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    reader.read_rows(table, COLUMNS, view, 3, 3)  # waits for the build
    assert len(list((tmp_path / "cache").glob("view-*.parquet"))) == 1


def test_close_leaves_no_background_thread(engine: Engine, table: Path, tmp_path: Path) -> None:
    reader = RowsReader(engine, tmp_path / "cache", 10**9)
    for view in VIEWS[:4]:
        reader.read_rows(table, COLUMNS, view, 0, 5)
    reader.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("datamill-view")]


def test_a_column_named_like_duckdbs_row_number_still_sorts_and_pages_consistently(
    reader: RowsReader, tmp_path: Path
) -> None:
    """Such a column hides DuckDB's row number: ties are then in no set order, but the pages of
    one view all come from one materialised file, so they neither repeat nor skip a row."""
    rows: list[dict[str, Any]] = [
        {"file_row_number": index % 3, "x": f"r{index}"} for index in range(20)
    ]
    path = tmp_path / "clash.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=6)
    columns = columns_of(pq.read_schema(path))
    view = parse_view('[{"column": "file_row_number", "desc": true}]', None, None, columns)
    pages = [reader.read_rows(path, columns, view, offset, 3) for offset in range(0, 20, 3)]
    paged = [row for page in pages for row in page.rows]
    numbers = sorted((row["file_row_number"] for row in rows), reverse=True)
    assert [row[0] for row in paged] == numbers
    assert all(page.positions is None for page in pages)  # hidden: no edits by position
    assert sorted(str(row[1]) for row in paged) == sorted(row["x"] for row in rows)


def test_a_column_named_like_duckdbs_row_number_sorts_without_a_cache_too(
    uncached: RowsReader, tmp_path: Path
) -> None:
    rows = [{"file_row_number": 10 - index, "x": f"r{index}"} for index in range(10)]
    path = tmp_path / "clash.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=3)
    columns = columns_of(pq.read_schema(path))
    view = parse_view(None, '[{"column": "x", "op": "ne", "value": "r0"}]', None, columns)
    view = View(sort=(SortKey("file_row_number"),), filters=view.filters)
    page = uncached.read_rows(path, columns, view, 2, 3)
    assert page.rows == [[3, "r7"], [4, "r6"], [5, "r5"]] and page.total == 9


def test_an_empty_table_has_empty_pages_under_any_view(reader: RowsReader, tmp_path: Path) -> None:
    path = write(tmp_path / "empty.parquet", [])
    for view in (View(), *VIEWS[:6]):
        page = reader.read_rows(path, COLUMNS, view, 0, 10)
        assert (page.rows, page.total) == ([], 0)
        assert reader.count(path, view) == 0


def test_metadata_kept_is_bounded_and_evicted_files_are_read_again(tmp_path: Path) -> None:
    files = query.ParquetRows(max_chunks=len(SCHEMA) * 8 * 2)  # two files of 8 row groups
    paths = [write(tmp_path / f"f{index}.parquet", make_rows(61, seed=index)) for index in range(4)]
    for _ in range(2):
        for index, path in enumerate(paths):
            expected = reference(make_rows(61, seed=index), View())[10:30]
            assert same_rows(to_rows(files.read(path, SCHEMA.names, 10, 20)), expected)
    assert files._chunks <= len(SCHEMA) * 8 * 2


def test_sort_keys_are_exposed_as_parsed(table: Path) -> None:
    assert VIEWS[2].sort == (SortKey("grp"), SortKey("name", True), SortKey("at"))


# -- forgetting a revision, oversized views and the build queue ------------------------------------


def view_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("view-*"))


def test_forget_drops_every_view_of_a_revision_and_keeps_the_others(
    reader: RowsReader, tmp_path: Path
) -> None:
    doomed = write(tmp_path / "doomed.parquet", ROWS)
    kept = write(tmp_path / "kept.parquet", ROWS)
    for view in VIEWS[:3]:
        all_pages(reader, doomed, view, 30)
    all_pages(reader, kept, VIEWS[0], 30)
    assert len(view_files(tmp_path / "cache")) == 8  # four views, each with its sidecar
    reader.forget(doomed)
    assert len(view_files(tmp_path / "cache")) == 2
    doomed.unlink()
    assert same_rows(all_pages(reader, kept, VIEWS[0], 30)[0], reference(ROWS, VIEWS[0]))


def test_forget_cancels_a_queued_build_and_discards_a_running_one(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    original = RowsReader._materialise

    def gated(self: RowsReader, *args: Any) -> None:
        started.set()
        release.wait(10)
        original(self, *args)

    monkeypatch.setattr(RowsReader, "_materialise", gated)
    path = write(tmp_path / "doomed.parquet", ROWS)
    reader = RowsReader(engine, tmp_path / "cache", 10**9)
    try:
        running = reader._cache.start("running", path, reader._builder(path, COLUMNS, VIEWS[0]))
        queued = reader._cache.start("queued", path, reader._builder(path, COLUMNS, VIEWS[1]))
        assert running is not None and queued is not None and started.wait(10)
        reader.forget(path)
        release.set()
        running.result(10)
        assert queued.cancelled()
        assert view_files(tmp_path / "cache") == []
        assert reader._cache.pending("running") is None
    finally:
        release.set()
        reader.close()


def test_a_restart_drops_views_whose_revision_file_is_gone(engine: Engine, tmp_path: Path) -> None:
    gone = write(tmp_path / "gone.parquet", ROWS)
    kept = write(tmp_path / "kept.parquet", ROWS)
    first = RowsReader(engine, tmp_path / "cache", 10**9)
    all_pages(first, gone, VIEWS[0], 30)
    all_pages(first, kept, VIEWS[1], 30)
    first.close()
    legacy = tmp_path / "cache" / "view-legacy.parquet"  # made before sources were recorded
    legacy.write_bytes(b"PAR1")
    gone.unlink()
    second = RowsReader(engine, tmp_path / "cache", 10**9)
    try:
        assert len(view_files(tmp_path / "cache")) == 2
        sidecar = next((tmp_path / "cache").glob("view-*.json"))
        assert json.loads(sidecar.read_text()) == {"source": str(kept)}
    finally:
        second.close()


def test_a_view_larger_than_the_budget_is_deleted_without_evicting_the_others(
    tmp_path: Path,
) -> None:
    cache = query.ViewCache(tmp_path / "cache", 1_000)
    try:
        for key, size in (("small-1", 300), ("small-2", 300), ("huge", 5_000)):
            future = cache.start(
                key, tmp_path / "t.parquet", lambda target, n=size: fill(target, n)
            )
            assert future is not None
            future.result(10)
        with cache.pinned("small-1") as one, cache.pinned("small-2") as two:
            assert one is not None and two is not None
        with cache.pinned("huge") as huge:
            assert huge is None
        assert cache.start("huge", tmp_path / "t.parquet", fill) is None  # answered directly
        assert len(list((tmp_path / "cache").glob("view-*.parquet"))) == 2
    finally:
        cache.close()


def fill(target: Path, size: int = 10) -> None:
    target.write_bytes(b"x" * size)


def test_the_build_queue_keeps_only_the_newest_pending_builds(tmp_path: Path) -> None:
    started, release = threading.Event(), threading.Event()

    def gated(target: Path) -> None:
        started.set()
        release.wait(10)
        fill(target)

    cache = query.ViewCache(tmp_path / "cache", 10**9, max_pending=4)
    source = tmp_path / "t.parquet"
    try:
        running = cache.start("running", source, gated)
        assert running is not None and started.wait(10)
        futures = [cache.start(f"key-{index}", source, fill) for index in range(6)]
        assert [future is not None and future.cancelled() for future in futures] == [
            True,
            True,
            False,
            False,
            False,
            False,
        ]
        assert cache.pending("key-0") is None and cache.pending("key-5") is not None
        assert cache.cancel("key-5") and not cache.cancel("key-5") and not cache.cancel("running")
        release.set()
        for future in futures[2:5]:
            assert future is not None
            future.result(10)
        assert len(list((tmp_path / "cache").glob("view-*.parquet"))) == 4
    finally:
        release.set()
        cache.close()


def test_a_reader_waiting_on_a_build_pushed_out_of_the_queue_is_answered_directly(
    engine: Engine, table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(query, "DIRECT_DEPTH", 0)  # every first request waits for its build
    reader = RowsReader(engine, tmp_path / "cache", 10**9)
    release = threading.Event()
    original = RowsReader._materialise

    def gated(self: RowsReader, *args: Any) -> None:
        release.wait(10)
        original(self, *args)

    pages: dict[int, list[list[Any]]] = {}

    def read(index: int) -> None:
        pages[index] = reader.read_rows(table, COLUMNS, VIEWS[index], 0, 5).rows

    monkeypatch.setattr(RowsReader, "_materialise", gated)
    threads = [threading.Thread(target=read, args=(index,)) for index in range(6)]
    try:
        for thread in threads:
            thread.start()
            time.sleep(0.05)  # one running build, then a queue that overflows
        release.set()
        for thread in threads:
            thread.join(10)
        assert sorted(pages) == list(range(6))
        for index, rows in pages.items():
            assert same_rows(rows, reference(ROWS, VIEWS[index])[:5])
    finally:
        release.set()
        reader.close()


def test_a_view_larger_than_the_budget_evicts_no_other_view_and_is_answered_directly(
    engine: Engine, table: Path, tmp_path: Path
) -> None:
    big_rows = make_rows(10_000)
    big = write(tmp_path / "big.parquet", big_rows)
    probe = RowsReader(engine, tmp_path / "probe", 10**9)
    all_pages(probe, table, VIEWS[0], 30)
    probe.close()
    one_file = next((tmp_path / "probe").glob("view-*.parquet")).stat().st_size
    reader = RowsReader(engine, tmp_path / "cache", int(one_file * 2.5))
    try:
        for view in VIEWS[:2]:
            all_pages(reader, table, view, 30)
        for _ in range(2):
            rows, _ = all_pages(reader, big, VIEWS[0], 1000)
            assert same_rows(rows, reference(big_rows, VIEWS[0]))
        assert len(list((tmp_path / "cache").glob("view-*.parquet"))) == 2
    finally:
        reader.close()
