"""Clustering: rewrite the chosen clusters of similar text values to one value each.

The clusters are found (read-only) by :mod:`datamill.operations.keyers` for the preview; this
operation only applies the choices a person made there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from datamill.datasets.types import Column
from datamill.operations.base import (
    Operation,
    Params,
    Plan,
    Table,
    TextCol,
    ident,
    select_replacing,
)
from datamill.problems import field_error

MAX_CLUSTERS = 10_000


class Cluster(Params):
    values: list[str] = Field(min_length=1, max_length=10_000)
    to: str = Field(max_length=10_000, description="The value every one of them becomes.")


class MergeClusters(Params):
    column: TextCol
    clusters: list[Cluster] = Field(min_length=1, max_length=MAX_CLUSTERS)

    def check(self, columns: Sequence[Column], rows: int) -> list[dict[str, Any]]:
        seen: dict[str, int] = {}
        errors = []
        for index, cluster in enumerate(self.clusters):
            for value in cluster.values:
                if value in seen and seen[value] != index:
                    message = f"{value[:80]!r} is also in cluster {seen[value]}"
                    errors.append(field_error(["clusters", index, "values"], message))
                seen[value] = index
        return errors[:10]


def merge_clusters(params: MergeClusters, table: Table) -> Plan:
    column = ident(params.column)
    cases = " ".join("WHEN list_contains(?, " + column + ") THEN ?" for _ in params.clusters)
    values: list[Any] = []
    for cluster in params.clusters:
        values.extend([cluster.values, cluster.to])
    replaced = f"CASE {cases} ELSE {column} END"
    select = select_replacing(table, {params.column: replaced})
    return Plan(f"SELECT {select} FROM {table.source}", values)


OPERATIONS: list[Operation[Any]] = [
    Operation(
        "merge-clusters",
        "clustering",
        "Rewrite each chosen cluster of similar values to one value (from the cluster preview).",
        MergeClusters,
        merge_clusters,
        {"column": "city", "clusters": [{"values": ["new york", "New York "], "to": "New York"}]},
    )
]
