"""Task specifications: what an admin registers, and the argv a command task runs.

A task is code (only admins register one). Its ``command`` is an argv template, never a shell
string: ``{params.x}``, ``{inputs.x}`` and ``{outputs.x}`` placeholders are filled in *inside* the
item that holds them, so a parameter value is always exactly one argument, whatever it contains.
Other braces (``awk '{print $1}'``) are plain text.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from datamill.pipelines.documents import load_document
from datamill.pipelines.errors import Error, SpecError, errors_from_validation, fail_with
from datamill.pipelines.names import IDENTIFIER, DataKind, EnvName, Identifier, Slug
from datamill.pipelines.parameters import (
    property_schemas,
    schema_errors,
    value_errors,
    with_defaults,
)
from datamill.pipelines.references import interpolated
from datamill.problems import field_error

TaskKind = Literal["command", "python", "operation"]
BUILTIN_PREFIX = "op-"
"""Names of the built-in operation tasks (``op-fill-statistic``): no registered task takes it."""

PLACEHOLDER = re.compile(r"\{(params|inputs|outputs)\.([^{}]*)\}")
FUNCTION = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")
OUTPUTS_DIR = "outputs"
EMPTY_PARAMS: dict[str, JsonValue] = {"type": "object", "properties": {}}

_KIND_FIELD: dict[TaskKind, str] = {
    "command": "command",
    "python": "function",
    "operation": "operation",
}


def _argv(value: Any) -> Any:
    if isinstance(value, str):
        raise PydanticCustomError(
            "argv",
            'expected an argv list such as [sort, -o, outputs/sorted.txt, "{inputs.text}"], '
            "not a command line: Datamill never runs a shell, each item is one argument",
        )
    return _numbers_as_text(value)


def _numbers_as_text(value: Any) -> Any:
    """YAML reads ``[head, -n, 5]`` and ``{THREADS: 4}`` with numbers; argv and env are text."""
    if isinstance(value, list):
        return [_number_text(item) for item in value]
    if isinstance(value, dict):
        return {key: _number_text(item) for key, item in value.items()}
    return value


def _number_text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TaskPort(_Spec):
    """One input or output of a task.

    ``path`` is relative to the task's working directory: where a command task finds an input
    (the executor stages it there) or leaves an output (which must be under ``outputs/``).
    """

    kind: DataKind
    path: str | None = None
    description: str = ""


class TaskSpec(_Spec):
    """A reusable unit of work: a command, a Python function or a built-in operation."""

    name: Slug
    description: str = ""
    kind: TaskKind
    command: Annotated[list[str] | None, BeforeValidator(_argv), Field(min_length=1)] = None
    function: str | None = None
    operation: Slug | None = None
    inputs: dict[Identifier, TaskPort] = Field(default_factory=dict)
    outputs: dict[Identifier, TaskPort] = Field(default_factory=dict)
    params: dict[str, JsonValue] = Field(default_factory=lambda: copy.deepcopy(EMPTY_PARAMS))
    queue: Slug = "default"
    env: Annotated[dict[EnvName, str], BeforeValidator(_numbers_as_text)] = Field(
        default_factory=dict
    )
    timeout: int = Field(default=3600, ge=1, le=86400, description="Seconds per attempt.")
    retries: int = Field(default=0, ge=0, le=10, description="Attempts after the first.")

    @model_validator(mode="after")
    def _consistent(self) -> TaskSpec:
        fail_with(task_errors(self))
        return self

    def document(self) -> dict[str, Any]:
        """The task as JSON values (for storage; :func:`task_from_document` reads it back)."""
        return self.model_dump(mode="json", exclude_none=True)

    def param_schemas(self) -> dict[str, Mapping[str, Any]]:
        """The JSON Schema of each parameter, by name."""
        return property_schemas(self.params)


def parse_task(text: str) -> TaskSpec:
    """The task written in ``text`` (YAML or JSON), or a :class:`SpecError` listing its problems."""
    return task_from_document(load_document(text, subject="task"))


def task_from_document(document: Mapping[str, Any]) -> TaskSpec:
    """A task from already parsed JSON, or a :class:`SpecError` listing every problem."""
    try:
        return TaskSpec.model_validate(document)
    except ValidationError as exc:
        raise SpecError(errors_from_validation(exc, document), subject="task") from None


def task_errors(task: TaskSpec) -> list[Error]:
    """What makes a task inconsistent, beyond each field's own type."""
    errors = _kind_errors(task)
    errors.extend(_params_errors(task))
    errors.extend(_port_errors(task))
    if task.kind == "command":
        errors.extend(_command_errors(task))
    errors.extend(
        field_error(["env", name], "contains a NUL character")
        for name, value in task.env.items()
        if "\0" in value
    )
    return errors


def _kind_errors(task: TaskSpec) -> list[Error]:
    errors: list[Error] = []
    for kind, field in _KIND_FIELD.items():
        given = getattr(task, field) is not None
        if kind == task.kind and not given:
            errors.append(field_error([field], f"field required for {_a(kind)} task"))
        elif kind != task.kind and given:
            errors.append(field_error([field], f"only {_a(kind)} task has a {field}"))
    if task.function is not None and not FUNCTION.fullmatch(task.function):
        errors.append(field_error(["function"], "expected package.module:function"))
    return errors


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _params_errors(task: TaskSpec) -> list[Error]:
    schema = task.params
    errors = schema_errors(schema, ["params"])
    if schema.get("type") != "object" and not any(e["loc"] == ["params", "type"] for e in errors):
        errors.append(
            field_error(["params", "type"], "the parameters' schema must be type: object")
        )
    for name in property_schemas(schema):
        if not IDENTIFIER.fullmatch(name):
            errors.append(
                field_error(
                    ["params", "properties", name],
                    "a parameter's name is letters, digits and '_', not starting with a digit",
                )
            )
        if name in task.inputs:
            errors.append(
                field_error(["params", "properties", name], f"'{name}' is also an input's name")
            )
    required = schema.get("required")
    if isinstance(required, list):
        declared = property_schemas(schema)
        errors.extend(
            field_error(["params", "required", i], f"'{name}' is not under properties")
            for i, name in enumerate(required)
            if isinstance(name, str) and name not in declared
        )
    return errors


def _port_errors(task: TaskSpec) -> list[Error]:
    errors: list[Error] = []
    for group, ports in (("inputs", task.inputs), ("outputs", task.outputs)):
        used: dict[str, str] = {}
        for name, port in ports.items():
            loc: list[str | int] = [group, name, "path"]
            if port.path is None:
                if task.kind == "command" and group == "outputs":
                    msg = f"a command task's output needs a path under {OUTPUTS_DIR}/"
                    errors.append(field_error(loc, msg))
                continue
            problem = _path_problem(port.path)
            outside = task.kind == "command" and not port.path.startswith(f"{OUTPUTS_DIR}/")
            if problem is None and group == "outputs" and outside:
                problem = f"must be under {OUTPUTS_DIR}/"
            if problem is None and port.path in used:
                problem = f"the same path as {group[:-1]} '{used[port.path]}'"
            if problem is not None:
                errors.append(field_error(loc, problem))
            used.setdefault(port.path, name)
    return errors


def _path_problem(path: str) -> str | None:
    if not path or "\0" in path or "\\" in path:
        return "expected a relative path with '/' separators"
    if PurePosixPath(path).is_absolute():
        return "must be relative to the task's working directory, not absolute"
    if any(part in {"", ".", ".."} for part in path.split("/")):
        return "must be a plain relative path, without '.', '..' or empty parts"
    return None


def _command_errors(task: TaskSpec) -> list[Error]:
    errors: list[Error] = []
    declared = {
        "params": set(property_schemas(task.params)),
        "inputs": set(task.inputs),
        "outputs": set(task.outputs),
    }
    for i, item in enumerate(task.command or []):
        loc: list[str | int] = ["command", i]
        if "\0" in item:
            errors.append(field_error(loc, "contains a NUL character"))
        if i == 0 and (item == "" or PLACEHOLDER.search(item)):
            errors.append(field_error(loc, "the program must be a fixed, non-empty name or path"))
            continue
        for match in PLACEHOLDER.finditer(item):
            group, name = match.group(1), match.group(2)
            if not IDENTIFIER.fullmatch(name):
                errors.append(field_error(loc, f"malformed placeholder {match.group(0)}"))
            elif name not in declared[group]:
                errors.append(field_error(loc, _unknown_placeholder(group, name)))
    return errors


def _unknown_placeholder(group: str, name: str) -> str:
    where = {"params": "params.properties", "inputs": "inputs", "outputs": "outputs"}[group]
    return f"{{{group}.{name}}} names no declared {group[:-1]}: declare '{name}' under {where}"


def validate_task_params(
    task: TaskSpec, params: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Error]]:
    """A step's resolved parameters with the task's defaults applied, and every error against the
    task's whole schema (``["params", name, ...]``): what an executor checks before it starts."""
    values = with_defaults(task.params, params)
    return values, value_errors(task.params, values, ["params"])


def render_argv(
    task: TaskSpec,
    params: Mapping[str, Any],
    input_paths: Mapping[str, str | os.PathLike[str]],
) -> list[str]:
    """The argv of a command task, each placeholder filled in inside its own item.

    ``params`` are the step's validated parameters (defaults from the task's schema fill any that
    are missing), written as text when they are text and as compact JSON otherwise (``true``,
    ``3``, ``["a","b"]``); ``input_paths`` holds where each input was staged. No item is ever
    split or handed to a shell: a value with spaces, quotes, ``;`` or ``$(...)`` stays one
    literal argument.
    Raises ``ValueError`` when a placeholder has no value or a value holds a NUL character.
    """
    if task.command is None:
        raise ValueError(f"task '{task.name}' is a {task.kind} task, not a command")
    values = {
        "params": {k: interpolated(v) for k, v in with_defaults(task.params, params).items()},
        "inputs": {k: os.fspath(v) for k, v in input_paths.items()},
        "outputs": {k: port.path for k, port in task.outputs.items() if port.path is not None},
    }

    def fill(match: re.Match[str]) -> str:
        group, name = match.group(1), match.group(2)
        if name not in values[group]:
            raise ValueError(f"no value for {match.group(0)}")
        text = values[group][name]
        if "\0" in text:
            raise ValueError(f"the value for {match.group(0)} contains a NUL character")
        return text

    return [PLACEHOLDER.sub(fill, item) for item in task.command]
