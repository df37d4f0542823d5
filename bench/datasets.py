"""Dataset speed and memory, each figure beside raw DuckDB, pyarrow and pandas in the same run.

    .venv/bin/python bench/datasets.py [--rows 10000000] [--keep]

Generates a table (integer id, float with 5% nulls, text of 1,000 categories, timestamp, short free
text) as CSV, then measures:

- CSV ingest throughput: Datamill's ingest vs raw DuckDB read_csv -> Parquet (and pyarrow, pandas);
- the rows endpoint over HTTP, 100-row pages at random offsets (p50/p95 of 100 requests) vs
  reading the same page straight from the Parquet file;
- the first page after a new sort on the float column, with and without a filter, vs raw DuckDB's
  sort-and-page; then following pages of that view at random offsets;
- the profile of every column vs raw DuckDB (and Polars) computing the same aggregates;
- the server's peak resident memory throughout.

A benchmark, not a test: it prints figures and ratios and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pandas as pd
import polars as pl
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from harness import benchmark_table, server, timed, upload
from reporting import line, pct

from datamill.datasets.engine import Engine
from datamill.datasets.ingest import IngestOptions, ingest

HERE = Path(__file__).resolve().parent
WORK = HERE / ".data"
USER, PASSWORD = "bench", "bench-password-123"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def bench_ingest(csv: Path, work: Path) -> None:
    size_mb = csv.stat().st_size / 1024**2
    print(f"\nCSV ingest ({size_mb:,.0f} MB)")
    engine = Engine("1GB", work / "spill")
    ours_out, raw_out = work / "ours.parquet", work / "raw.parquet"

    def ours() -> None:
        ingest(engine, csv, "bench.csv", ours_out, IngestOptions(), tmp_dir=work)

    def raw_duckdb() -> None:
        con = duckdb.connect()
        con.execute(
            f"COPY (SELECT * FROM read_csv('{csv}')) TO '{raw_out}' "
            "(FORMAT parquet, ROW_GROUP_SIZE 100000, COMPRESSION zstd)"
        )
        con.close()

    def raw_pyarrow() -> None:
        pq.write_table(pacsv.read_csv(csv), work / "pa.parquet", row_group_size=100_000)

    def raw_pandas() -> None:
        pd.read_csv(csv).to_parquet(work / "pd.parquet", row_group_size=100_000)

    t_raw, _ = timed(raw_duckdb)
    t_ours, _ = timed(ours)
    t_raw2, _ = timed(raw_duckdb)  # twice, so that a cold file cache favours neither side
    t_raw = min(t_raw, t_raw2)
    line(
        "Datamill ingest vs DuckDB read_csv->Parquet",
        size_mb / t_ours,
        size_mb / t_raw,
        "MB/s",
        "(target >= 0.8x)",
    )
    t_pa, _ = timed(raw_pyarrow)
    print(f"  {'pyarrow read_csv -> Parquet':<44} {size_mb / t_pa:9.1f} MB/s")
    if size_mb < 1500:
        t_pd, _ = timed(raw_pandas)
        print(f"  {'pandas read_csv -> Parquet':<44} {size_mb / t_pd:9.1f} MB/s")
    engine.close()
    for name in ("raw.parquet", "pa.parquet", "pd.parquet"):
        (work / name).unlink(missing_ok=True)


def page_times(
    client: httpx.Client, url: str, total: int, params: dict[str, str], n: int
) -> list[float]:
    rng = random.Random(7)
    times = []
    for _ in range(n):
        offset = rng.randrange(max(1, total - 100))
        elapsed, reply = timed(
            lambda o=offset: client.get(url, params={**params, "offset": str(o)})
        )
        reply.raise_for_status()
        times.append(elapsed)
    return times


def raw_page_times(parquet: Path, total: int, n: int) -> list[float]:
    """Baseline: the same pages read straight from the Parquet file with pyarrow."""
    rng = random.Random(7)
    file = pq.ParquetFile(parquet)
    starts = [0]
    for i in range(file.num_row_groups):
        starts.append(starts[-1] + file.metadata.row_group(i).num_rows)
    times = []
    for _ in range(n):
        offset = rng.randrange(max(1, total - 100))

        def read(o: int = offset) -> Any:
            group = next(i for i in range(len(starts) - 1) if starts[i + 1] > o)
            table = file.read_row_group(group)
            return table.slice(o - starts[group], 100).to_pylist()

        times.append(timed(read)[0])
    return times


def raw_sorted_page(parquet: Path, where: str) -> float:
    con = duckdb.connect()
    elapsed, _ = timed(
        lambda: con.execute(
            f"SELECT * FROM read_parquet('{parquet}') {where} ORDER BY val LIMIT 100"
        ).fetchall()
    )
    con.close()
    return elapsed


def raw_profile(parquet: Path) -> float:
    """Baseline: the profile's aggregates, written as plain DuckDB SQL over the file."""
    con = duckdb.connect()
    src = f"read_parquet('{parquet}')"
    # Like the profile: exact distinct counts of numbers and times up to a million rows, the
    # HyperLogLog estimate beyond (text is always exact, through its GROUP BY below).
    rows = pq.ParquetFile(parquet).metadata.num_rows
    exact = rows <= 1_000_000

    def distinct(column: str) -> str:
        return f"count(DISTINCT {column})" if exact else f"approx_count_distinct({column})"

    def run() -> None:
        con.execute(
            f"""SELECT count(id), count(*) - count(id), {distinct("id")}, min(id), max(id),
                       avg(id), stddev_samp(id),
                       count(val), count(*) - count(val), {distinct("val")}, min(val), max(val),
                       avg(val), stddev_samp(val),
                       count(cat), count(*) - count(cat), count(DISTINCT cat),
                       min(length(cat)), max(length(cat)),
                       count(ts), count(*) - count(ts), {distinct("ts")}, min(ts), max(ts),
                       count(note), count(*) - count(note), count(DISTINCT note),
                       min(length(note)), max(length(note))
                FROM {src}"""
        ).fetchall()
        for column in ("id", "val"):
            con.execute(
                f"""WITH b AS (SELECT min({column}) lo, max({column}) hi FROM {src})
                    SELECT least(19, floor(({column} - lo) / ((hi - lo) / 20)))::INT k, count(*)
                    FROM {src}, b WHERE {column} IS NOT NULL GROUP BY k"""
            ).fetchall()
        con.execute(
            f"""WITH b AS (SELECT epoch(min(ts)) lo, epoch(max(ts)) hi FROM {src})
                SELECT least(19, floor((epoch(ts) - lo) / ((hi - lo) / 20)))::INT k, count(*)
                FROM {src}, b WHERE ts IS NOT NULL GROUP BY k"""
        ).fetchall()
        for column in ("cat", "note"):
            con.execute(
                f"SELECT {column}, count(*) c FROM {src} WHERE {column} IS NOT NULL "
                f"GROUP BY 1 ORDER BY c DESC, 1 LIMIT 10"
            ).fetchall()

    elapsed, _ = timed(run)
    con.close()
    return elapsed


def polars_profile(parquet: Path) -> float:
    def run() -> None:
        frame = pl.scan_parquet(parquet)
        aggs = []
        for column in ("id", "val", "cat", "ts", "note"):
            col = pl.col(column)
            aggs += [
                col.count().alias(f"{column}_n"),
                col.null_count().alias(f"{column}_z"),
                col.n_unique().alias(f"{column}_d"),
            ]
        for column in ("id", "val"):
            col = pl.col(column)
            aggs += [
                col.min().alias(f"{column}_min"),
                col.max().alias(f"{column}_max"),
                col.mean().alias(f"{column}_mean"),
                col.std().alias(f"{column}_std"),
            ]
        frame.select(aggs).collect()
        for column in ("cat", "note"):
            frame.group_by(column).len().sort("len", descending=True).head(10).collect()

    return timed(run)[0]


def bench_server(csv: Path, work: Path, repeats: int) -> None:
    data_dir = work / "server"
    shutil.rmtree(data_dir, ignore_errors=True)
    with server(data_dir) as (handle, watcher):
        url, token = handle.split("|")
        client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        )
        size_mb = csv.stat().st_size / 1024**2
        elapsed, dataset = timed(lambda: upload(client, csv))
        print(f"\nUpload over HTTP, end to end: {size_mb / elapsed:,.1f} MB/s ({elapsed:.1f} s)")
        total = dataset["head_revision"]["row_count"]
        parquet = next((data_dir / "revisions" / dataset["id"]).glob("*.parquet"))
        rows_url = f"/api/v1/datasets/{dataset['id']}/rows"

        print(f"\nRows endpoint, unsorted, 100-row pages at random offsets ({total:,} rows)")
        page_times(client, rows_url, total, {"limit": "100"}, 10)  # warm up
        ours = page_times(client, rows_url, total, {"limit": "100"}, repeats)
        raw = raw_page_times(parquet, total, repeats)
        line("p50 over HTTP vs pyarrow from the file", pct(ours, 0.5), pct(raw, 0.5))
        line(
            "p95 over HTTP vs pyarrow from the file",
            pct(ours, 0.95),
            pct(raw, 0.95),
            target="(target p95 <= 30 ms)",
        )
        con = duckdb.connect()
        duck = [
            timed(
                lambda o=o: con.execute(
                    f"SELECT * FROM read_parquet('{parquet}') LIMIT 100 OFFSET {o}"
                ).fetchall()
            )[0]
            for o in random.Random(7).sample(range(total - 100), 20)
        ]
        con.close()
        print(f"  {'raw DuckDB LIMIT/OFFSET p50':<44} {ms(pct(duck, 0.5))}")
        load, frame = timed(lambda: pd.read_parquet(parquet))
        pandas_pages = [
            timed(lambda o=o: frame.iloc[o : o + 100].to_dict("split"))[0]
            for o in random.Random(7).sample(range(total - 100), 20)
        ]
        print(f"  {'pandas: load whole file once, then':<44} {load:8.1f} s")
        print(f"  {'pandas: iloc page p50 (in memory)':<44} {ms(pct(pandas_pages, 0.5))}")

        cases = [
            ("no filter", "", []),
            (
                "filter cat = category_7",
                "WHERE cat = 'category_7'",
                [{"column": "cat", "op": "eq", "value": "category_7"}],
            ),
        ]
        for label, where, filters in cases:
            print(f"\nNew sort on the float column, {label}")
            sort = json.dumps([{"column": "val"}])
            params = {"sort": sort, "limit": "100", "filter": json.dumps(filters)}
            base = min(raw_sorted_page(parquet, where) for _ in range(3))
            first, reply = timed(lambda p=params: client.get(rows_url, params={**p, "offset": "0"}))
            reply.raise_for_status()
            line(
                "first page vs raw DuckDB ORDER BY ... LIMIT 100",
                first,
                base,
                target="(target <= 1.3x)",
            )
            view_total = reply.json()["total"]
            later = page_times(client, rows_url, view_total, params, repeats)
            print(f"  {'following pages, random offsets: p50':<44} {ms(pct(later, 0.5))}")
            print(
                f"  {'following pages, random offsets: p95':<44} {ms(pct(later, 0.95))}"
                "   (target p95 <= 50 ms)"
            )
            print(f"  {'(slowest, while the view materialises)':<44} {ms(max(later))}")

        print("\nProfile of every column")
        base = min(raw_profile(parquet) for _ in range(2))
        ours_profile, reply = timed(lambda: client.get(f"/api/v1/datasets/{dataset['id']}/profile"))
        reply.raise_for_status()
        line("first profile over HTTP vs raw DuckDB", ours_profile, base, target="(target <= 1.5x)")
        print(f"  {'Polars, the same aggregates':<44} {ms(polars_profile(parquet))}")
        kept, _ = timed(lambda: client.get(f"/api/v1/datasets/{dataset['id']}/profile"))
        print(f"  {'second request (kept with the revision)':<44} {ms(kept)}")
        time.sleep(0.2)
        print(
            f"\nServer peak resident memory: {watcher.peak / 1024**2:,.0f} MB (target <= 1536 MB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV for reruns")
    args = parser.parse_args()
    csv = benchmark_table(WORK, args.rows)
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"DuckDB {duckdb.__version__}"
    )
    bench_ingest(csv, WORK)
    bench_server(csv, WORK, args.repeats)
    (WORK / "ours.parquet").unlink(missing_ok=True)
    if not args.keep:
        csv.unlink()


if __name__ == "__main__":
    main()
