"""The Parquet every format ends in: the six storage types and bounded, zstd row groups."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

from datamill.datasets.ingest import ROW_GROUP_SIZE
from tests.unit.datasets.ingest.files import (
    Lab,
    numbered_lines,
)

TYPED = (
    b"i,f,b,d,t,s,mixed,tz\n"
    b"1,1.5,true,2024-01-31,2024-01-31 10:20:30,hello,1,2024-01-31T10:00:00+02:00\n"
    b"-2,2,false,2024-02-29,2024-02-29T23:59:59,world,x,2024-01-31T10:00:00Z\n"
    b",,,,,,,\n"
)


def test_each_type_is_inferred_and_stored_as_its_storage_type(lab: Lab) -> None:
    result = lab.ingest("typed.csv", TYPED)
    assert {c["name"]: c["type"] for c in result.columns} == {
        "i": "int",
        "f": "float",
        "b": "bool",
        "d": "date",
        "t": "timestamp",
        "s": "text",
        "mixed": "text",
        "tz": "timestamp",
    }
    schema = lab.schema()
    assert schema["i"] == pa.int64() and schema["f"] == pa.float64()
    assert schema["b"] == pa.bool_() and schema["d"] == pa.date32()
    assert schema["t"] == pa.timestamp("us") and schema["tz"] == pa.timestamp("us")
    assert schema["s"] == pa.string() and schema["mixed"] == pa.string()
    first, second, empty = lab.rows()
    assert first["t"] == dt.datetime(2024, 1, 31, 10, 20, 30)
    assert first["tz"] == dt.datetime(2024, 1, 31, 8, 0)
    assert second == {
        "i": -2,
        "f": 2.0,
        "b": False,
        "d": dt.date(2024, 2, 29),
        "t": dt.datetime(2024, 2, 29, 23, 59, 59),
        "s": "world",
        "mixed": "x",
        "tz": dt.datetime(2024, 1, 31, 10, 0),
    }
    assert set(empty.values()) == {None}


def test_row_groups_never_exceed_row_group_size(lab: Lab) -> None:
    data = b"a,b,c\n" + numbered_lines(350_000)
    result = lab.ingest("many.csv", data)
    metadata = pq.read_metadata(lab.out)
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert result.row_count == sum(sizes) == 350_000
    assert len(sizes) >= 4 and max(sizes) <= ROW_GROUP_SIZE
    assert metadata.row_group(0).column(0).compression == "ZSTD"
