"""The demo account and its datasets: small, realistic, and messy on purpose.

They exist to be cleaned: missing values, duplicate rows, inconsistent spelling and case, numbers
stored as text, dates in several formats, an outlier or two.
"""

from __future__ import annotations

import csv
import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from datamill.auth.users import create_user, get_by_username
from datamill.config import Settings
from datamill.datasets.engine import Engine
from datamill.datasets.ingest import IngestOptions
from datamill.datasets.revisions import commit_new_dataset
from datamill.db.models import Dataset, User
from datamill.pipelines import store
from datamill.storage.files import remove_quietly, temp_path

DEMO_USER = "demo"

DEMO_TASKS = [
    """
name: drop-duplicate-rows
description: Keep one of each group of identical rows; tells how many went.
kind: python
function: datamill.demo_tasks:drop_duplicate_rows
inputs: {table: {kind: table}}
outputs: {table: {kind: table}, removed: {kind: value}}
timeout: 300
""",
    """
name: count-values
description: The most frequent values of a column, with their counts.
kind: python
function: datamill.demo_tasks:count_values
inputs: {table: {kind: table}}
outputs: {counts: {kind: table}}
params:
  type: object
  properties:
    column: {type: string, minLength: 1}
    top: {type: integer, minimum: 1, maximum: 100, default: 5}
  required: [column]
timeout: 300
""",
    """
name: export-csv
description: A table as a CSV file to download (a command task; any program would do).
kind: command
command: [cp, "{inputs.table}", outputs/table.csv]
inputs: {table: {kind: table, path: inputs/table.csv}}
outputs: {csv: {kind: file, path: outputs/table.csv}}
timeout: 60
""",
]

DEMO_PIPELINE = """
name: coffee-report
description: >-
  Best-selling products of a sales table: duplicates dropped, values counted, a CSV to download.
  Run it on the demo dataset "Coffee shop sales".
inputs:
  sales:
    kind: table
    validators:
      - {kind: columns, required: {product: text}}
      - {kind: rows, min: 1}
params:
  top: {type: integer, default: 3, minimum: 1, maximum: 20}
steps:
  dedupe:
    task: drop-duplicate-rows
    with: {table: "${inputs.sales}"}
  best-sellers:
    task: count-values
    with: {table: "${steps.dedupe.outputs.table}", column: product, top: "${params.top}"}
  export:
    task: export-csv
    with: {table: "${steps.best-sellers.outputs.counts}"}
outputs:
  duplicates_removed: "${steps.dedupe.outputs.removed}"
  best_sellers: "${steps.best-sellers.outputs.counts}"
  csv: "${steps.export.outputs.csv}"
"""


@dataclass
class DemoReport:
    password: str | None = None
    created: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    pipelines: list[str] = field(default_factory=list)


def _coffee_sales(path: Path, rng: random.Random) -> None:
    cities = ["Oslo", "oslo", " Oslo", "Bergen", "BERGEN", "Trondheim", "Tromsø", "Tromso"]
    products = ["Espresso", "Latte", "Cappuccino", "Filter coffee", "Croissant", "Cinnamon bun"]
    prices = {
        "Espresso": 32.0,
        "Latte": 45.0,
        "Cappuccino": 44.0,
        "Filter coffee": 29.0,
        "Croissant": 35.0,
        "Cinnamon bun": 38.5,
    }
    rows = []
    start = date(2024, 3, 1)
    for order in range(1, 481):
        product = rng.choice(products)
        day = start + timedelta(days=rng.randrange(90))
        quantity: str = str(rng.choice([1, 1, 1, 2, 2, 3, 12]))
        if rng.random() < 0.05:
            quantity = ""
        price = f"{prices[product]:.2f}" if rng.random() > 0.04 else rng.choice(["", "n/a"])
        rows.append(
            [
                order,
                day.isoformat(),
                rng.choice(cities),
                product,
                quantity,
                price,
                rng.choice(["card", "card", "cash", "Card", "mobile", ""]),
            ]
        )
    rows += [rows[i] for i in rng.sample(range(len(rows)), 12)]  # duplicated orders
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["order_id", "date", "city", "product", "quantity", "unit_price", "payment"]
        )
        writer.writerows(rows)


def _weather(path: Path, rng: random.Random) -> None:
    stations = ["Blindern", "Flesland", "Værnes", "Langnes"]
    start = datetime(2024, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            ["station", "observed_at", "temperature_c", "humidity_pct", "wind_ms", "checked"]
        )
        for hour in range(0, 24 * 30, 3):
            for station in stations:
                temp = round(rng.gauss(-2 + stations.index(station), 4), 1)
                if rng.random() < 0.01:
                    temp = 999.9  # a sensor fault, to be found as an outlier
                reading = "" if rng.random() < 0.06 else f"{temp}"
                humidity = "" if rng.random() < 0.03 else str(rng.randint(55, 100))
                when = (start + timedelta(hours=hour)).strftime("%Y-%m-%d %H:%M:%S")
                writer.writerow(
                    [
                        station,
                        when,
                        reading,
                        humidity,
                        round(abs(rng.gauss(4, 3)), 1),
                        rng.choice(["true", "false"]),
                    ]
                )


def _lab_samples(path: Path, rng: random.Random) -> None:
    species = ["Daphnia magna", "daphnia magna", "Gammarus pulex", "Asellus aquaticus", None]
    records = []
    for number in range(1, 151):
        collected = date(2024, 5, 1) + timedelta(days=rng.randrange(60))
        styles = [
            collected.isoformat(),
            collected.strftime("%d/%m/%Y"),
            collected.strftime("%d %b %Y"),
        ]
        records.append(
            {
                "sample_id": f"S-{number:04d}",
                "collected": rng.choice(styles) if rng.random() < 0.3 else styles[0],
                "site": rng.choice(["Lake Årungen", "River Akerselva", "Pond 3", "pond 3"]),
                "species": rng.choice(species),
                "count": rng.choice([rng.randint(0, 250), None])
                if rng.random() < 0.1
                else rng.randint(0, 250),
                "mass_mg": round(rng.uniform(0.2, 9.5), 3) if rng.random() > 0.07 else None,
                "notes": rng.choice(["", "sediment in vial", "Ré-mesuré", "  duplicate?  ", None]),
            }
        )
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")


DEMO_DATASETS: list[tuple[str, str, Callable[[Path, random.Random], None]]] = [
    ("Coffee shop sales", "sales.csv", _coffee_sales),
    ("Weather observations", "weather.csv", _weather),
    ("Lab samples", "samples.json", _lab_samples),
]


def ensure_demo(db: Session, settings: Settings) -> DemoReport:
    """Create the ``demo`` user and each demo dataset that is missing; returns what was made."""
    report = DemoReport()
    owner = get_by_username(db, DEMO_USER)
    if owner is None:
        report.password = secrets.token_urlsafe(9)
        owner = create_user(db, DEMO_USER, report.password, "admin")
        db.commit()
    existing = set(db.scalars(select(Dataset.name).where(Dataset.owner_id == owner.id)).all())
    engine = Engine(
        settings.duckdb_memory_limit, settings.tmp_dir / "duckdb", allowed_dirs=[settings.data_dir]
    )
    try:
        for index, (name, filename, write) in enumerate(DEMO_DATASETS):
            if name in existing:
                continue
            raw = temp_path(settings.tmp_dir, Path(filename).suffix)
            try:
                write(raw, random.Random(index))  # noqa: S311 - demo data, not secrets
                commit_new_dataset(
                    db, settings, engine, owner, raw, filename, name, IngestOptions()
                )
            finally:
                remove_quietly(raw)
            report.created.append(name)
    finally:
        engine.close()
    _ensure_demo_pipeline(db, owner, report)
    return report


def _ensure_demo_pipeline(db: Session, owner: User, report: DemoReport) -> None:
    """Register the demo tasks and save the ``coffee-report`` pipeline when they are absent."""
    for text in DEMO_TASKS:
        task = store.read_task(text)
        if store.find_task(db, task.name) is None:
            store.create_task(db, text, owner)
            report.tasks.append(task.name)
    pipeline = store.read_pipeline(DEMO_PIPELINE)
    if store.find_pipeline(db, pipeline.name) is None:
        store.save_pipeline(db, pipeline, DEMO_PIPELINE, owner)
        report.pipelines.append(pipeline.name)
    db.commit()
