"""Cleaning a dataset from the command line: apply an operation, read the history, undo, redo.

The same API calls as the browser; the run of an operation is watched like any run
(:mod:`datamill.run_client`), and its failure reason printed as the server gave it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

from datamill.run_client import Api, RunFailed, dataset_id, param_value

MAX_RECIPE_BYTES = 1024 * 1024
"""The API takes request bodies up to 1 MB."""


def apply_operation(
    api: Api, dataset: str, op: str, params: Mapping[str, str], base_revision: str | None
) -> tuple[str, dict[str, Any]]:
    """Queue ``op`` on the dataset named by ``dataset`` (id or name): its id and the reply."""
    found = dataset_id(api, dataset)
    body: dict[str, Any] = {"op": op, "params": {k: param_value(v) for k, v in params.items()}}
    if base_revision is not None:
        body["base_revision"] = base_revision
    reply: dict[str, Any] = api.request(
        "POST", f"/api/v1/datasets/{found}/operations", 202, json=body
    )
    return found, reply


def landed(api: Api, dataset: str, run: Mapping[str, Any]) -> str:
    """One line saying what the operation's run made."""
    if run["state"] != "succeeded":
        reasons = [s["error"] for s in run.get("steps", []) if s.get("error")]
        raise RunFailed(f"the operation {run['state']}: {reasons[0] if reasons else run['error']}")
    head = api.request("GET", f"/api/v1/datasets/{dataset}")["head_revision"]
    steps = api.request("GET", f"/api/v1/datasets/{dataset}/history")["steps"]
    changes = steps[-1]["changes"] if steps else {}
    said = changed(changes)
    return (
        f"revision {head['number']}: {head['row_count']:,} rows, {len(head['columns'])} columns"
        + (f" ({said})" if said else "")
    )


def changed(changes: Mapping[str, Any]) -> str:
    """What an operation changed, in words: columns added, removed, retyped, and its counts."""
    parts: list[str] = []
    if changes.get("columns_added"):
        parts.append("added " + ", ".join(changes["columns_added"]))
    if changes.get("columns_removed"):
        parts.append("removed " + ", ".join(changes["columns_removed"]))
    parts.extend(
        f"{item['column']} {item['from']} → {item['to']}"
        for item in changes.get("columns_retyped", [])
    )
    before, after = changes.get("rows_before"), changes.get("rows_after")
    if before is not None and after is not None and before != after:
        parts.append(f"{before - after:,} rows dropped" if after < before else "")
    shown = {"columns_added", "columns_removed", "columns_retyped", "rows_before", "rows_after"}
    parts.extend(
        f"{key.replace('_', ' ')} {_short(value)}"
        for key, value in changes.items()
        if key not in shown and value not in ([], None, {})
    )
    return ", ".join(part for part in parts if part)


def history_table(history: Mapping[str, Any]) -> Table:
    table = Table()
    for name in ("", "#", "operation"):
        table.add_column(name, no_wrap=True)
    table.add_column("parameters", ratio=1)
    for name in ("rows", "author", "when"):
        table.add_column(name, no_wrap=True)
    for step in history["steps"]:
        marker = "→" if step["position"] == history["head"] else ""
        if step["stale"]:
            marker += " stale"
        params = ", ".join(f"{k}={_short(v)}" for k, v in step["params"].items())
        table.add_row(
            marker,
            str(step["position"]),
            step["operation"] or "(upload)",
            params,
            f"{step['changes'].get('rows_after', '')}",
            step["author"] or "",
            step["created_at"][:16].replace("T", " "),
        )
    return table


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def move(api: Api, dataset: str, direction: str) -> dict[str, Any]:
    """Undo or redo; the new head revision."""
    found = dataset_id(api, dataset)
    reply: dict[str, Any] = api.request("POST", f"/api/v1/datasets/{found}/{direction}")
    return reply


def operations_table(operations: Sequence[Mapping[str, Any]]) -> Table:
    table = Table("operation", "family", "parameters", "what it does")
    for op in operations:
        required = set(op["params"].get("required", []))
        names = [n + ("" if n in required else "?") for n in op["params"].get("properties", {})]
        table.add_row(op["name"], op["family"], " ".join(names), op["description"])
    return table
