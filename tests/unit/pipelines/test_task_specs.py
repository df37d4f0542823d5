"""Task specifications: parsing, every rule with its path, and the argv of a command task."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datamill.pipelines.errors import SpecError
from datamill.pipelines.tasks import (
    TaskSpec,
    parse_task,
    render_argv,
    task_from_document,
    validate_task_params,
)

SORT_LINES = """
name: sort-lines
kind: command                      # command | python | operation
command: [sort, -o, outputs/sorted.txt, "{inputs.text}"]  # argv, never a shell
inputs:  {text: {kind: file}}      # file | table | value
outputs: {sorted: {kind: file, path: outputs/sorted.txt}}
params:  {type: object, properties: {}}   # JSON Schema
queue: default
env: {LC_ALL: C}
timeout: 60                         # seconds
retries: 2
"""

ECHO_ARGV = f"""
name: echo-argv
kind: command
command:
  - {json.dumps(sys.executable)}
  - -c
  - "import json, sys; print(json.dumps(sys.argv[1:]))"
  - "{{params.text}}"
  - "--label={{params.label}}"
  - "{{inputs.data}}"
inputs: {{data: {{kind: file}}}}
params:
  type: object
  properties:
    text: {{type: string}}
    label: {{type: string, default: "a label"}}
  required: [text]
"""


def errors_of(text: str) -> list[dict[str, object]]:
    with pytest.raises(SpecError) as caught:
        parse_task(text)
    return caught.value.items


def test_the_design_example_task_parses_with_its_defaults() -> None:
    task = parse_task(SORT_LINES)
    assert task.command == ["sort", "-o", "outputs/sorted.txt", "{inputs.text}"]
    assert task.env == {"LC_ALL": "C"}
    assert (task.queue, task.timeout, task.retries) == ("default", 60, 2)
    minimal = parse_task("name: noop\nkind: python\nfunction: pkg.mod:run\n")
    assert (minimal.queue, minimal.timeout, minimal.retries) == ("default", 3600, 0)
    assert minimal.params == {"type": "object", "properties": {}}


def test_yaml_and_json_tasks_parse_identically() -> None:
    as_json = json.dumps(parse_task(SORT_LINES).model_dump(mode="json"))
    assert parse_task(as_json) == parse_task(SORT_LINES)


def test_a_shell_string_command_is_refused_with_an_explanation_of_argv() -> None:
    errors = errors_of("name: bad\nkind: command\ncommand: sort -o out.txt in.txt\n")
    assert [e["loc"] for e in errors] == [["command"]]
    assert "argv list" in str(errors[0]["msg"])
    assert "never runs a shell" in str(errors[0]["msg"])


def test_numbers_in_argv_and_env_are_read_as_text() -> None:
    task = parse_task("name: n\nkind: command\ncommand: [head, -n, 5]\nenv: {THREADS: 4}\n")
    assert task.command == ["head", "-n", "5"]
    assert task.env == {"THREADS": "4"}


@pytest.mark.parametrize(
    ("text", "loc", "msg"),
    [
        ("name: x\nkind: command\n", ["command"], "field required for a command task"),
        ("name: x\nkind: python\n", ["function"], "field required for a python task"),
        ("name: x\nkind: operation\n", ["operation"], "field required for an operation task"),
        (
            "name: x\nkind: python\nfunction: a.b:c\ncommand: [ls]\n",
            ["command"],
            "only a command task has a command",
        ),
        (
            "name: x\nkind: python\nfunction: os.system\n",
            ["function"],
            "expected package.module:function",
        ),
        ("name: X\nkind: python\nfunction: a:b\n", ["name"], None),
        ("name: x\nkind: shell\n", ["kind"], None),
        ("name: x\nkind: python\nfunction: a:b\nqueue: GPU\n", ["queue"], None),
        ("name: x\nkind: python\nfunction: a:b\ntimeout: 0\n", ["timeout"], None),
        ("name: x\nkind: python\nfunction: a:b\ntimeout: 86401\n", ["timeout"], None),
        ("name: x\nkind: python\nfunction: a:b\nretries: 11\n", ["retries"], None),
        ("name: x\nkind: python\nfunction: a:b\nenv: {lc_all: C}\n", ["env", "lc_all"], None),
        ("name: x\nkind: python\nfunction: a:b\nshell: true\n", ["shell"], "unknown field"),
        (
            "name: x\nkind: python\nfunction: a:b\ninputs: {t: {kind: frame}}\n",
            ["inputs", "t", "kind"],
            None,
        ),
    ],
)
def test_each_bad_field_is_reported_at_its_path(
    text: str, loc: list[str | int], msg: str | None
) -> None:
    errors = errors_of(text)
    assert [e["loc"] for e in errors] == [loc]
    if msg is not None:
        assert errors[0]["msg"] == msg


@pytest.mark.parametrize(
    ("path", "msg"),
    [
        ("/etc/passwd", "must be relative to the task's working directory, not absolute"),
        (
            "outputs/../../etc/passwd",
            "must be a plain relative path, without '.', '..' or empty parts",
        ),
        ("../outputs/x", "must be a plain relative path, without '.', '..' or empty parts"),
        ("result.txt", "must be under outputs/"),
        ("outputs", "must be under outputs/"),
        ("outputs\\\\x", "expected a relative path with '/' separators"),
    ],
)
def test_a_command_tasks_output_must_stay_under_outputs(path: str, msg: str) -> None:
    text = (
        f'name: x\nkind: command\ncommand: [ls]\noutputs: {{o: {{kind: file, path: "{path}"}}}}\n'
    )
    assert errors_of(text) == [{"loc": ["outputs", "o", "path"], "msg": msg}]


def test_a_command_tasks_output_needs_a_path() -> None:
    text = "name: x\nkind: command\ncommand: [ls]\noutputs: {o: {kind: value}}\n"
    assert errors_of(text) == [
        {
            "loc": ["outputs", "o", "path"],
            "msg": "a command task's output needs a path under outputs/",
        }
    ]


def test_unknown_placeholders_are_reported_with_the_index_of_their_item() -> None:
    text = """
name: x
kind: command
command:
  [tool, "{params.depth}", "--in={inputs.source}", "{outputs.report}", "{params.}", "{print $1}"]
inputs: {text: {kind: file}}
params: {type: object, properties: {k: {type: integer}}}
"""
    assert errors_of(text) == [
        {
            "loc": ["command", 1],
            "msg": "{params.depth} names no declared param: "
            "declare 'depth' under params.properties",
        },
        {
            "loc": ["command", 2],
            "msg": "{inputs.source} names no declared input: declare 'source' under inputs",
        },
        {
            "loc": ["command", 3],
            "msg": "{outputs.report} names no declared output: declare 'report' under outputs",
        },
        {"loc": ["command", 4], "msg": "malformed placeholder {params.}"},
    ]


def test_the_program_itself_cannot_be_a_placeholder() -> None:
    text = """
name: x
kind: command
command: ["{params.program}", "--version"]
params: {type: object, properties: {program: {type: string}}}
"""
    assert errors_of(text) == [
        {"loc": ["command", 0], "msg": "the program must be a fixed, non-empty name or path"}
    ]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ("{type: array}", ["params", "type"]),
        ("{type: objekt}", ["params", "type"]),
        (
            "{type: object, properties: {k: {type: integer, minimum: one}}}",
            ["params", "properties", "k", "minimum"],
        ),
        (
            "{type: object, properties: {k: {type: string, pattern: '('}}}",
            ["params", "properties", "k", "pattern"],
        ),
        (
            "{type: object, properties: {k: {type: integer, default: x}}}",
            ["params", "properties", "k", "default"],
        ),
        (
            "{type: object, properties: {k: {enum: [a, b], default: c}}}",
            ["params", "properties", "k", "default"],
        ),
        (
            "{type: object, properties: {k: {$ref: 'https://example.com/s.json'}}}",
            ["params", "properties", "k", "$ref"],
        ),
        ("{type: object, properties: {}, required: [k]}", ["params", "required", 0]),
        (
            "{type: object, properties: {bad-name: {type: string}}}",
            ["params", "properties", "bad-name"],
        ),
        ("{type: object, properties: {data: {type: string}}}", ["params", "properties", "data"]),
    ],
)
def test_the_parameters_must_be_a_valid_object_schema(params: str, loc: list[str | int]) -> None:
    text = "name: x\nkind: python\nfunction: a:b\ninputs: {data: {kind: file}}\n"
    text += f"params: {params}\n"
    assert [e["loc"] for e in errors_of(text)] == [loc]


def test_a_schema_with_defaults_enums_and_ranges_is_accepted() -> None:
    task = parse_task(
        """
name: x
kind: python
function: a:b
params:
  type: object
  $defs: {positive: {type: integer, minimum: 1}}
  properties:
    k: {type: number, minimum: 0, maximum: 10, default: 3}
    mode: {enum: [fast, exact], default: fast}
    n: {$ref: "#/$defs/positive", default: 2}
  required: [k]
"""
    )
    assert set(task.param_schemas()) == {"k", "mode", "n"}


def test_several_problems_are_reported_together() -> None:
    text = "name: Bad\nkind: command\ncommand: [ls, '{params.x}']\ntimeout: 0\nenv: {a: b}\n"
    assert [e["loc"] for e in errors_of(text)] == [["name"], ["env", "a"], ["timeout"]]


def test_render_argv_fills_placeholders_and_defaults() -> None:
    task = parse_task(ECHO_ARGV)
    assert task.command is not None
    argv = render_argv(task, {"text": "hello"}, {"data": Path("inputs/data.bin")})
    assert argv == [*task.command[:3], "hello", "--label=a label", "inputs/data.bin"]


def test_render_argv_writes_non_text_values_as_json() -> None:
    task = parse_task(
        """
name: x
kind: command
command: [tool, "{params.flag}", "{params.n}", "{params.items}", "{outputs.out}"]
params: {type: object, properties: {flag: {type: boolean}, n: {type: number}, items: {type: array}}}
outputs: {out: {kind: file, path: outputs/out.txt}}
"""
    )
    argv = render_argv(task, {"flag": True, "n": 2.5, "items": ["a b", 1]}, {})
    assert argv == ["tool", "true", "2.5", '["a b",1]', "outputs/out.txt"]


def test_render_argv_refuses_a_placeholder_without_a_value() -> None:
    task = parse_task(ECHO_ARGV)
    with pytest.raises(ValueError, match=r"\{params.text\}"):
        render_argv(task, {}, {"data": "x"})
    with pytest.raises(ValueError, match=r"\{inputs.data\}"):
        render_argv(task, {"text": "t"}, {})


HOSTILE = [
    "two words",
    'it\'s "quoted"',
    "x; rm -rf /",
    "$(touch pwned)",
    "`touch pwned`",
    "a | cat /etc/passwd",
    "> /dev/null",
    "--flag=1 --other=2",
    "line\nbreak",
    "*",
    "~root",
    "${HOME}",
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_parameter_stays_one_literal_argv_item(value: str) -> None:
    task = parse_task(ECHO_ARGV)
    argv = render_argv(task, {"text": value, "label": value}, {"data": "in.bin"})
    assert len(argv) == len(task.command or [])
    assert argv[3] == value
    assert argv[4] == f"--label={value}"


def test_a_hostile_parameter_reaches_the_program_intact_and_runs_nothing(tmp_path: Path) -> None:
    task = parse_task(ECHO_ARGV)
    values = ["x; touch pwned", "$(touch pwned)", "`touch pwned`", "a b 'c' \"d\""]
    for value in values:
        argv = render_argv(task, {"text": value, "label": value}, {"data": "in.bin"})
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=True)
        assert json.loads(done.stdout) == [value, f"--label={value}", "in.bin"]
    assert list(tmp_path.iterdir()) == []


@given(st.text().filter(lambda text: "\0" not in text))
def test_any_text_parameter_is_exactly_one_argv_item(value: str) -> None:
    task = parse_task(ECHO_ARGV)
    argv = render_argv(task, {"text": value}, {"data": "in.bin"})
    assert len(argv) == 6
    assert argv[3] == value


def test_a_nul_character_is_refused_rather_than_truncated() -> None:
    task = parse_task(ECHO_ARGV)
    with pytest.raises(ValueError, match="NUL"):
        render_argv(task, {"text": "a\0b"}, {"data": "in.bin"})


def test_render_argv_needs_a_command_task() -> None:
    task = parse_task("name: p\nkind: python\nfunction: pkg.mod:run\n")
    with pytest.raises(ValueError, match="not a command"):
        render_argv(task, {}, {})


def test_a_task_survives_a_round_trip_through_its_document() -> None:
    task = parse_task(ECHO_ARGV)
    assert task_from_document(task.document()) == task
    assert TaskSpec.model_validate_json(json.dumps(task.document())) == task


def test_validate_task_params_applies_defaults_and_checks_the_whole_schema() -> None:
    task = parse_task(ECHO_ARGV)
    assert validate_task_params(task, {"text": "t"}) == ({"text": "t", "label": "a label"}, [])
    _, errors = validate_task_params(task, {"label": 3})
    assert errors == [
        {"loc": ["params", "text"], "msg": "field required"},
        {"loc": ["params", "label"], "msg": "3 is not of type 'string'"},
    ]
