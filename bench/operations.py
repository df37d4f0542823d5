"""Cleaning operations on the benchmark table, each beside raw DuckDB and pandas in the same run.

    .venv/bin/python bench/operations.py [--rows 10000000] [--keep]

The table of ``bench/datasets.py`` (integer id, float with 5% nulls, text of 1,000 categories,
timestamp, short free text) is uploaded to a served Datamill (local pool, 2 workers). Then each
operation is applied through the API — wall time from the request to its run's success, which is
when the revision event goes out — and undone, so that every one reads the uploaded revision. The
same work is done on the same Parquet file:

- by raw DuckDB: one ``COPY (SELECT ...) TO`` Parquet, the SQL a person would write;
- by pandas: read the file, apply the operation, write the file (as the first web cleaning
  tools did, the whole file rewritten per edit).

The time through the API is heard on the WebSocket (the revision event), so that waiting takes
no CPU from the worker on a small machine. Printed: each operation's time beside raw DuckDB's
(target: at most 1.5x) and pandas' (target: at least 5x faster on the three pandas is slowest
at), the part of it spent on the worker, and the worker processes' peak resident memory
(target: at most 2 GB). A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pandas as pd
from harness import benchmark_table, server, timed, upload
from reporting import line
from websockets.sync.client import connect

HERE = Path(__file__).resolve().parent
WORK = HERE / ".data"
SQL_SOURCE = "read_parquet('{path}')"


@dataclass(frozen=True)
class Case:
    label: str
    steps: list[tuple[str, dict[str, Any]]]
    duckdb: Callable[[duckdb.DuckDBPyConnection, str, str], None]
    pandas: Callable[[pd.DataFrame], pd.DataFrame]


def copy(con: duckdb.DuckDBPyConnection, select: str, out: str) -> None:
    con.execute(f"COPY ({select}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")


def duck_change_type(con: duckdb.DuckDBPyConnection, src: str, out: str) -> None:
    copy(con, f"SELECT * REPLACE (CAST(id AS VARCHAR) AS id) FROM {src}", out)


def duck_fill_mean(con: duckdb.DuckDBPyConnection, src: str, out: str) -> None:
    mean = con.execute(f"SELECT avg(val) FROM {src}").fetchall()[0][0]
    copy(con, f"SELECT * REPLACE (COALESCE(val, {mean!r}) AS val) FROM {src}", out)


def duck_dedupe(con: duckdb.DuckDBPyConnection, src: str, out: str) -> None:
    numbered = src.replace("')", "', file_row_number = true)")
    copy(
        con,
        f"SELECT * EXCLUDE (file_row_number) FROM {numbered} "
        "QUALIFY row_number() OVER (PARTITION BY cat, val ORDER BY file_row_number) = 1 "
        "ORDER BY file_row_number",
        out,
    )


def duck_replace(con: duckdb.DuckDBPyConnection, src: str, out: str) -> None:
    copy(
        con, f"SELECT * REPLACE (regexp_replace(note, '[0-9]+', '#', 'g') AS note) FROM {src}", out
    )


def duck_outliers(con: duckdb.DuckDBPyConnection, src: str, out: str) -> None:
    mean, std = con.execute(f"SELECT avg(val), stddev_samp(val) FROM {src}").fetchall()[0]
    copy(
        con,
        f"SELECT *, COALESCE(abs(val - {mean!r}) > 3 * {std!r}, false) AS val_outlier FROM {src}",
        out,
    )


def duck_one_hot(con: duckdb.DuckDBPyConnection, src: str, out: str) -> None:
    top = [
        row[0]
        for row in con.execute(
            f"SELECT cat FROM {src} WHERE cat IS NOT NULL GROUP BY cat "
            "ORDER BY count(*) DESC, cat LIMIT 20"
        ).fetchall()
    ]
    dummies = ", ".join(f"COALESCE(cat = '{v}', false) AS \"cat_{v}\"" for v in top)
    copy(con, f"SELECT *, {dummies} FROM {src}", out)


def duck_recipe(con: duckdb.DuckDBPyConnection, src: str, out: str) -> None:
    first, second = out + ".1.parquet", out + ".2.parquet"
    copy(con, f"SELECT * REPLACE (trim(note) AS note) FROM {src}", first)
    copy(con, f"SELECT * REPLACE (upper(cat) AS cat) FROM read_parquet('{first}')", second)
    copy(con, f"SELECT * REPLACE (COALESCE(val, 0) AS val) FROM read_parquet('{second}')", out)
    for path in (first, second):
        Path(path).unlink()


def pd_one_hot(frame: pd.DataFrame) -> pd.DataFrame:
    top = frame["cat"].value_counts().index[:20]
    dummies = {f"cat_{v}": frame["cat"] == v for v in top}
    return pd.concat([frame, pd.DataFrame(dummies)], axis=1)


def pd_outliers(frame: pd.DataFrame) -> pd.DataFrame:
    val = frame["val"]
    return frame.assign(val_outlier=(val - val.mean()).abs() > 3 * val.std())


CASES = [
    Case(
        "change type (int to text)",
        [("change-type", {"column": "id", "to": "text"})],
        duck_change_type,
        lambda f: f.assign(id=f["id"].astype(str)),
    ),
    Case(
        "fill with mean",
        [("fill-statistic", {"column": "val", "statistic": "mean"})],
        duck_fill_mean,
        lambda f: f.assign(val=f["val"].fillna(f["val"].mean())),
    ),
    Case(
        "drop duplicates on two columns",
        [("drop-duplicates", {"columns": ["cat", "val"]})],
        duck_dedupe,
        lambda f: f.drop_duplicates(subset=["cat", "val"]),
    ),
    Case(
        "find and replace (regex)",
        [("find-replace", {"columns": ["note"], "mode": "regex",
                           "replacements": [{"find": "[0-9]+", "replace": "#"}]})],
        duck_replace,
        lambda f: f.assign(note=f["note"].str.replace("[0-9]+", "#", regex=True)),
    ),
    Case(
        "z-score outliers flagged",
        [("treat-outliers", {"column": "val", "method": "zscore", "action": "flag"})],
        duck_outliers,
        pd_outliers,
    ),
    Case(
        "one-hot, top 20 of 1,000 categories",
        [("one-hot", {"column": "cat", "top": 20})],
        duck_one_hot,
        pd_one_hot,
    ),
    Case(
        "3-step recipe replay",
        [
            ("trim-whitespace", {"columns": ["note"]}),
            ("change-case", {"columns": ["cat"], "case": "upper"}),
            ("fill-constant", {"column": "val", "value": 0}),
        ],
        duck_recipe,
        lambda f: f.assign(
            note=f["note"].str.strip(), cat=f["cat"].str.upper(), val=f["val"].fillna(0)
        ),
    ),
]  # fmt: skip


def through_api(client: httpx.Client, dataset: str, case: Case) -> tuple[float, float]:
    """Seconds from the request to the revision event of its last step (heard on the
    WebSocket, so that no polling takes CPU from the worker), and the seconds its steps ran on
    the worker; then the dataset is put back."""
    url = str(client.base_url).replace("http", "ws", 1)
    events = f"{url}/api/v1/events?dataset={dataset}&types=dataset.revision,run.updated"
    headers = {"Authorization": client.headers["Authorization"]}
    with connect(events, additional_headers=headers, max_size=None) as socket:
        socket.recv(timeout=10)  # subscribed
        start = time.perf_counter()
        if len(case.steps) == 1:
            op, params = case.steps[0]
            body: dict[str, Any] = {"op": op, "params": params}
            reply = client.post(f"/api/v1/datasets/{dataset}/operations", json=body)
        else:
            steps = [{"op": op, "params": params} for op, params in case.steps]
            reply = client.post(f"/api/v1/datasets/{dataset}/recipe", json={"steps": steps})
        reply.raise_for_status()
        run_id = reply.json()["run_id"]
        landed = 0
        while landed < len(case.steps):
            event = json.loads(socket.recv(timeout=3600))
            data = event["data"]
            if data.get("run_id") != run_id:
                continue
            if event["type"] == "dataset.revision":
                landed += 1
            elif data["state"] in ("failed", "cancelled"):
                sys.exit(f"{case.label}: the run {data['state']}")
        elapsed = time.perf_counter() - start
    run = client.get(f"/api/v1/runs/{run_id}").json()
    worked = sum(_seconds(s["started_at"], s["finished_at"]) for s in run["steps"])
    for _ in case.steps:
        client.post(f"/api/v1/datasets/{dataset}/undo").raise_for_status()
    return elapsed, worked


def _seconds(started: str, finished: str) -> float:
    begin = datetime.fromisoformat(started.replace("Z", "+00:00"))
    end = datetime.fromisoformat(finished.replace("Z", "+00:00"))
    return (end - begin).total_seconds()


def warm_up(client: httpx.Client, work: Path) -> None:
    """One small operation on each worker at once, so that no figure pays for a first import."""
    tiny = work / "tiny.csv"
    tiny.write_text("a,b\n1,x\n2,y\n")
    ids = [upload(client, tiny)["id"] for _ in range(2)]
    runs = [
        client.post(
            f"/api/v1/datasets/{dataset}/operations",
            json={"op": "fill-statistic", "params": {"column": "a", "statistic": "mean"}},
        ).json()["run_id"]
        for dataset in ids
    ]
    for run_id in runs:
        while client.get(f"/api/v1/runs/{run_id}").json()["state"] in ("queued", "running"):
            time.sleep(0.05)
    tiny.unlink()


def raw_duckdb(case: Case, parquet: Path, work: Path) -> float:
    out = work / "raw.parquet"
    with duckdb.connect() as con:
        elapsed, _ = timed(lambda: case.duckdb(con, SQL_SOURCE.format(path=parquet), str(out)))
    out.unlink()
    return elapsed


def raw_pandas(case: Case, parquet: Path, work: Path) -> float:
    out = work / "pandas.parquet"

    def run() -> None:
        frame = pd.read_parquet(parquet)
        case.pandas(frame).to_parquet(out)

    elapsed, _ = timed(run)
    out.unlink()
    gc.collect()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV for reruns")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas baseline")
    args = parser.parse_args()
    csv = benchmark_table(WORK, args.rows)
    data_dir = WORK / "operations"
    shutil.rmtree(data_dir, ignore_errors=True)
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"DuckDB {duckdb.__version__}, pandas {pd.__version__}"
    )
    print(f"{args.rows:,} rows; each figure beside its baseline, measured in this run\n")
    with server(data_dir, DATAMILL_WORKERS="2") as (handle, watcher):
        url, token = handle.split("|")
        client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600
        )
        warm_up(client, WORK)
        dataset = upload(client, csv)
        head = dataset["head_revision"]
        parquet = data_dir / "revisions" / dataset["id"] / f"{head['id']}.parquet"
        pandas_times: dict[str, float] = {}
        ours_times: dict[str, float] = {}
        overall = 0
        for case in CASES:
            watcher.worker_peak = 0
            ours, worked = through_api(client, dataset["id"], case)
            peak = watcher.worker_peak
            overall = max(overall, peak)
            base = raw_duckdb(case, parquet, WORK)
            ours_times[case.label] = ours
            line(f"{case.label}: vs raw DuckDB", ours, base, "s", "(target <= 1.5x)", width=52)
            if not args.no_pandas:
                pandas_times[case.label] = raw_pandas(case, parquet, WORK)
                line(f"{case.label}: vs pandas", ours, pandas_times[case.label], "s", width=52)
            print(
                f"  {case.label}: {worked:.1f} s of it on the worker; worker peak resident "
                f"memory {peak / 1024**2:,.0f} MB"
            )
        if pandas_times:
            slowest = sorted(pandas_times, key=pandas_times.__getitem__, reverse=True)[:3]
            print("\nThe three operations pandas is slowest at (target: at least 5x faster):")
            for label in slowest:
                speedup = pandas_times[label] / ours_times[label]
                print(f"  {label:<52} {speedup:6.1f}x faster than pandas")
        print(f"\nWorker peak resident memory over the run: {overall / 1024**2:,.0f} MB "
              "(target <= 2048 MB)")  # fmt: skip
    if not args.keep:
        csv.unlink()


if __name__ == "__main__":
    main()
