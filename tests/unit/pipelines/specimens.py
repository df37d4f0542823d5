"""Specifications shared by the pipeline tests: the DESIGN.md example and the tasks it uses."""

from __future__ import annotations

import copy
from typing import Any

from datamill.pipelines.pipeline import PipelineSpec, pipeline_from_document
from datamill.pipelines.tasks import TaskSpec, parse_task

DROP_DUPLICATES = """
name: drop-duplicates
description: Keep one row of each group of identical rows.
kind: python
function: datamill_examples.tables:drop_duplicates
inputs: {table: {kind: table}}
outputs: {table: {kind: table}}
params:
  type: object
  properties:
    columns: {type: array, items: {type: string}, minItems: 1}
    keep: {enum: [first, last], default: first}
"""

FLAG_OUTLIERS = """
name: flag-outliers
kind: python
function: datamill_examples.tables:flag_outliers
inputs: {table: {kind: table}}
outputs: {table: {kind: table}, count: {kind: value}}
params:
  type: object
  properties:
    k: {type: number, minimum: 0}
    column: {type: string, default: price}
  required: [k, column]
"""

CHECK_PRICES = """
name: check-prices
kind: command
command: [python3, check.py, "{inputs.table}"]
inputs: {table: {kind: table, path: inputs/table.csv}}
"""

SAVE_FILE = """
name: save-file
kind: command
command: [cp, "{inputs.source}", outputs/copy]
inputs: {source: {kind: file}}
outputs: {copy: {kind: file, path: outputs/copy}}
"""

# Exactly the pipeline of DESIGN.md ("Task and pipeline specs").
CLEAN_AND_FLAG_YAML = """
name: clean-and-flag
inputs:
  table:
    kind: table
    validators:
      - {kind: columns, required: {price: float, city: text}}
      - {kind: rows, min: 1}
params:
  k: {type: number, default: 3, minimum: 0}
steps:
  dedupe:
    task: drop-duplicates
    with: {table: "${inputs.table}", columns: [city]}
  flag:
    task: flag-outliers
    depends_on: [dedupe]            # also implied by the reference below
    with: {table: "${steps.dedupe.outputs.table}", k: "${params.k}"}
outputs:
  result: "${steps.flag.outputs.table}"
"""

CLEAN_AND_FLAG_JSON = """{
  "name": "clean-and-flag",
  "inputs": {
    "table": {
      "kind": "table",
      "validators": [
        {"kind": "columns", "required": {"price": "float", "city": "text"}},
        {"kind": "rows", "min": 1}
      ]
    }
  },
  "params": {"k": {"type": "number", "default": 3, "minimum": 0}},
  "steps": {
    "dedupe": {
      "task": "drop-duplicates",
      "with": {"table": "${inputs.table}", "columns": ["city"]}
    },
    "flag": {
      "task": "flag-outliers",
      "depends_on": ["dedupe"],
      "with": {"table": "${steps.dedupe.outputs.table}", "k": "${params.k}"}
    }
  },
  "outputs": {"result": "${steps.flag.outputs.table}"}
}"""


def tasks() -> dict[str, TaskSpec]:
    """The registered tasks, by name."""
    specs = [parse_task(text) for text in (DROP_DUPLICATES, FLAG_OUTLIERS, CHECK_PRICES, SAVE_FILE)]
    return {task.name: task for task in specs}


def example_document() -> dict[str, Any]:
    """The DESIGN.md pipeline as JSON values, a fresh copy to change in a test."""
    return copy.deepcopy(_EXAMPLE)


def pipeline(document: dict[str, Any]) -> PipelineSpec:
    return pipeline_from_document(document)


_EXAMPLE: dict[str, Any] = {
    "name": "clean-and-flag",
    "inputs": {
        "table": {
            "kind": "table",
            "validators": [
                {"kind": "columns", "required": {"price": "float", "city": "text"}},
                {"kind": "rows", "min": 1},
            ],
        }
    },
    "params": {"k": {"type": "number", "default": 3, "minimum": 0}},
    "steps": {
        "dedupe": {
            "task": "drop-duplicates",
            "with": {"table": "${inputs.table}", "columns": ["city"]},
        },
        "flag": {
            "task": "flag-outliers",
            "depends_on": ["dedupe"],
            "with": {"table": "${steps.dedupe.outputs.table}", "k": "${params.k}"},
        },
    },
    "outputs": {"result": "${steps.flag.outputs.table}"},
}
