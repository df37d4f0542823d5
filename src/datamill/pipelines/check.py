"""Checking a pipeline against the registered tasks, without running it.

:func:`check_pipeline` returns every problem, each at the path of the field to fix: unknown tasks
(of steps and of validators), cycles, ``depends_on`` naming no step, references to nothing, inputs
and parameters a task does not declare or needs and is not given, literal parameters its schema
refuses, and values of the wrong kind (a table where a file is expected, a table inside a text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from datamill.pipelines.errors import Error, Loc, SpecError
from datamill.pipelines.graph import describe_cycle, find_cycles, step_dependencies
from datamill.pipelines.names import DataKind
from datamill.pipelines.parameters import (
    json_types,
    property_errors,
    property_schemas,
    required_names,
    types_overlap,
)
from datamill.pipelines.pipeline import PipelineSpec, Step, parse_pipeline
from datamill.pipelines.references import Reference, find_references, is_literal, single_reference
from datamill.pipelines.tasks import TaskSpec
from datamill.pipelines.validators import TaskValidator
from datamill.problems import field_error

Tasks = Mapping[str, TaskSpec]
"""Registered tasks by name; only ``get`` is used, so a lazy mapping over the database will do."""


def check_pipeline(spec: PipelineSpec, tasks: Tasks) -> list[Error]:
    """Every problem of ``spec`` given the registered ``tasks`` (an empty list: it can run)."""
    errors = _validator_errors(spec, tasks)
    for name, step in spec.steps.items():
        errors.extend(_step_errors(spec, tasks, name, step))
    for cycle in find_cycles(step_dependencies(spec)):
        errors.append(
            field_error(
                ["steps", cycle[0], "depends_on"],
                f"the steps depend on each other in a cycle: {describe_cycle(cycle)} "
                "(through depends_on or references; each needs the next)",
            )
        )
    for name, text in spec.outputs.items():
        reference = single_reference(text)
        if reference is not None:
            found = _source(spec, tasks, reference)
            if isinstance(found, str):
                errors.append(field_error(["outputs", name], found))
    return errors


def check_pipeline_text(text: str, tasks: Tasks) -> list[Error]:
    """Every problem of a pipeline written as YAML or JSON: those of its shape when it cannot be
    read as a pipeline, else those :func:`check_pipeline` finds."""
    try:
        spec = parse_pipeline(text)
    except SpecError as exc:
        return exc.items
    return check_pipeline(spec, tasks)


@dataclass(frozen=True)
class _Source:
    """What a reference stands for, as far as the spec says."""

    kind: DataKind | None  # None when the producing step's task is unknown
    schema: Mapping[str, Any] | None = None  # a pipeline parameter's schema


def _source(spec: PipelineSpec, tasks: Tasks, reference: Reference) -> _Source | str:
    """What ``reference`` stands for, or why it stands for nothing."""
    name = reference.name
    if reference.source == "inputs":
        spec_input = spec.inputs.get(name)
        return _Source(spec_input.kind) if spec_input else f"unknown pipeline input '{name}'"
    if reference.source == "params":
        schema = spec.params.get(name)
        return _Source("value", schema) if schema is not None else f"unknown parameter '{name}'"
    step = spec.steps.get(reference.step or "")
    if step is None:
        return f"unknown step '{reference.step}'"
    task = tasks.get(step.task)
    if task is None:
        return _Source(None)  # the unknown task is reported at that step
    port = task.outputs.get(name)
    if port is None:
        declared = ", ".join(task.outputs) or "none"
        return (
            f"step '{reference.step}' has no output '{name}' (task '{task.name}' has: {declared})"
        )
    return _Source(port.kind)


def _validator_errors(spec: PipelineSpec, tasks: Tasks) -> list[Error]:
    errors: list[Error] = []
    for name, spec_input in spec.inputs.items():
        for i, validator in enumerate(spec_input.validators):
            if isinstance(validator, TaskValidator):
                task = tasks.get(validator.task)
                problem = (
                    f"unknown task '{validator.task}'"
                    if task is None
                    else _validator_fit_problem(task, spec_input.kind)
                )
                if problem is not None:
                    loc: list[str | int] = ["inputs", name, "validators", i, "task"]
                    errors.append(field_error(loc, problem))
    return errors


def _validator_fit_problem(task: TaskSpec, kind: DataKind) -> str | None:
    """A validator task receives the input as its only input, and no parameters."""
    if len(task.inputs) != 1:
        return (
            f"a validator task takes exactly one input; task '{task.name}' has {len(task.inputs)}"
        )
    (port,) = task.inputs.values()
    if port.kind != kind:
        return f"task '{task.name}' takes a {port.kind}, but this input is a {kind}"
    needed = required_names(task.params)
    if needed:
        return f"task '{task.name}' needs parameters a validator cannot give: {', '.join(needed)}"
    return None


def _step_errors(spec: PipelineSpec, tasks: Tasks, name: str, step: Step) -> list[Error]:
    loc: list[str | int] = ["steps", name]
    errors: list[Error] = []
    task = tasks.get(step.task)
    if task is None:
        errors.append(field_error([*loc, "task"], f"unknown task '{step.task}'"))
    errors.extend(
        field_error([*loc, "depends_on", i], f"unknown step '{dep}'")
        for i, dep in enumerate(step.depends_on)
        if dep not in spec.steps
    )
    for key, value in step.with_.items():
        errors.extend(_with_errors(spec, tasks, task, [*loc, "with", key], key, value))
    if task is not None:
        errors.extend(
            field_error([*loc, "with", port], f"missing input '{port}' of task '{task.name}'")
            for port in task.inputs
            if port not in step.with_
        )
        errors.extend(
            field_error([*loc, "with", param], f"missing parameter '{param}' of task '{task.name}'")
            for param in required_names(task.params)
            if param not in step.with_
        )
    return errors


def _with_errors(
    spec: PipelineSpec, tasks: Tasks, task: TaskSpec | None, loc: Loc, key: str, value: Any
) -> list[Error]:
    """The problems of one entry of a step's ``with``: its references, then its fit to the task."""
    errors: list[Error] = []
    exact = single_reference(value)
    sources: dict[Reference, _Source] = {}
    for where, reference in find_references(value, loc):
        found = _source(spec, tasks, reference)
        if isinstance(found, str):
            errors.append(field_error(where, found))
            continue
        sources[reference] = found
        if exact is None and found.kind in ("file", "table"):
            errors.append(
                field_error(
                    where,
                    f"{reference} is a {found.kind}: it can only be the whole value "
                    "of a task input, not part of a larger value",
                )
            )
    if task is None or errors:
        return errors
    source = sources.get(exact) if exact is not None else None
    if key in task.inputs:
        return _input_errors(task.inputs[key].kind, loc, exact, source)
    if key in property_schemas(task.params):
        return _param_errors(task, loc, key, value, exact, source)
    if task.params.get("additionalProperties", False) is not False:
        return []
    return [field_error(loc, f"task '{task.name}' has no input or parameter '{key}'")]


def _input_errors(
    target: DataKind, loc: Loc, exact: Reference | None, source: _Source | None
) -> list[Error]:
    if exact is None:
        if target == "value":
            return []
        return [
            field_error(
                loc,
                f"a {target} input takes a reference to a pipeline input or a step output, "
                "such as ${inputs.NAME} or ${steps.STEP.outputs.NAME}",
            )
        ]
    if source is not None and source.kind is not None and source.kind != target:
        return [field_error(loc, f"expected a {target}, but {exact} is a {source.kind}")]
    return []


def _param_errors(
    task: TaskSpec,
    loc: Loc,
    key: str,
    value: Any,
    exact: Reference | None,
    source: _Source | None,
) -> list[Error]:
    schema = property_schemas(task.params)[key]
    if is_literal(value):
        return property_errors(task.params, key, value, loc)
    if exact is None:
        expected = json_types(schema)
        if isinstance(value, str) and expected is not None and "string" not in expected:
            wanted = " or ".join(sorted(expected))
            return [field_error(loc, f"references inside text make a string, not {wanted}")]
        return []
    if source is None or source.kind is None:
        return []
    if source.kind != "value":
        return [field_error(loc, f"a parameter takes a value, but {exact} is a {source.kind}")]
    return _compatible_param(task, loc, key, exact, source.schema)


def _compatible_param(
    task: TaskSpec, loc: Loc, key: str, exact: Reference, given: Mapping[str, Any] | None
) -> list[Error]:
    """A pipeline parameter passed on as a task parameter: types that meet, a default that fits."""
    if given is None:
        return []
    expected = json_types(property_schemas(task.params)[key])
    offered = json_types(given)
    if expected is not None and offered is not None and not types_overlap(offered, expected):
        return [
            field_error(
                loc,
                f"{exact} is {' or '.join(sorted(offered))}, "
                f"but the parameter expects {' or '.join(sorted(expected))}",
            )
        ]
    if "default" in given:
        problems = property_errors(task.params, key, given["default"], [])
        if problems:
            return [
                field_error(loc, f"the default of {exact} does not fit here: {problems[0]['msg']}")
            ]
    return []
