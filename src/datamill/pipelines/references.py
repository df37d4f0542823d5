"""References inside a pipeline: ``${inputs.x}``, ``${params.y}`` and ``${steps.a.outputs.z}``.

A string that is exactly one reference stands for the referenced value itself, whatever its type:
a number stays a number, a table handle stays a table handle. References inside a longer string
are interpolated as text (text as it is, any other value as compact JSON). ``$${`` writes a
literal ``${``; any other ``$`` is plain text. Only values are scanned, never mapping keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from datamill.pipelines.errors import Error, Loc
from datamill.pipelines.names import IDENTIFIER, SLUG
from datamill.problems import field_error

Source = Literal["inputs", "params", "steps"]
Path = list[str | int]

_TOKEN = re.compile(r"\$\$\{|\$\{([^{}]*)\}|\$\{")
_ID = IDENTIFIER.pattern
_FORMS = (
    re.compile(rf"(?P<source>inputs|params)\.(?P<name>{_ID})"),
    re.compile(rf"(?P<source>steps)\.(?P<step>{SLUG.pattern})\.outputs\.(?P<name>{_ID})"),
)
EXPECTED = "expected ${inputs.NAME}, ${params.NAME} or ${steps.STEP.outputs.NAME}"


@dataclass(frozen=True)
class Reference:
    """One ``${...}``: a pipeline input, a pipeline parameter, or an output of a step."""

    source: Source
    name: str
    step: str | None = None

    def __str__(self) -> str:
        if self.source == "steps":
            return f"${{steps.{self.step}.outputs.{self.name}}}"
        return f"${{{self.source}.{self.name}}}"


class ReferenceSyntaxError(ValueError):
    """A ``${`` that does not open a well-formed reference."""


class UnresolvedReference(LookupError):
    """A reference whose value is not known (yet): the loc says where it was used."""

    def __init__(self, reference: Reference, loc: Path) -> None:
        super().__init__(f"no value for {reference}")
        self.reference = reference
        self.loc = loc


def parse_template(text: str) -> list[str | Reference]:
    """``text`` as its literal parts and references, in order (adjacent text is merged)."""
    parts: list[str | Reference] = []
    end = 0
    for match in _TOKEN.finditer(text):
        _append_text(parts, text[end : match.start()])
        end = match.end()
        if match.group(0) == "$${":
            _append_text(parts, "${")
        elif match.group(1) is None:
            raise ReferenceSyntaxError(f"'${{' without its closing '}}': {EXPECTED}")
        else:
            parts.append(_reference(match.group(1)))
    _append_text(parts, text[end:])
    return parts


def _append_text(parts: list[str | Reference], text: str) -> None:
    if not text:
        return
    if parts and isinstance(parts[-1], str):
        parts[-1] += text
    else:
        parts.append(text)


def _reference(inner: str) -> Reference:
    for form in _FORMS:
        match = form.fullmatch(inner)
        if match is not None:
            source: Source = match.group("source")  # type: ignore[assignment]
            step = match.group("step") if source == "steps" else None
            return Reference(source, match.group("name"), step)
    raise ReferenceSyntaxError(f"malformed reference ${{{inner}}}: {EXPECTED}")


def single_reference(value: Any) -> Reference | None:
    """The reference that ``value`` is exactly (``"${params.k}"``), or None."""
    if not isinstance(value, str) or "${" not in value:
        return None
    try:
        parts = parse_template(value)
    except ReferenceSyntaxError:
        return None
    if len(parts) == 1 and isinstance(parts[0], Reference):
        return parts[0]
    return None


def strings(value: Any, loc: Loc = ()) -> Iterator[tuple[Path, str]]:
    """Every string among the values of a nested structure, with its path."""
    stack: list[tuple[Path, Any]] = [(list(loc), value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, str):
            yield where, node
        elif isinstance(node, Mapping):
            items = [([*where, key], item) for key, item in node.items()]
            stack.extend(reversed(items))
        elif isinstance(node, list):
            stack.extend(reversed([([*where, i], item) for i, item in enumerate(node)]))


def find_references(value: Any, loc: Loc = ()) -> list[tuple[Path, Reference]]:
    """Every reference in a nested structure (a step's ``with``), with the path of its string.

    Raises :class:`ReferenceSyntaxError` on a malformed one (see :func:`reference_errors`).
    """
    found: list[tuple[Path, Reference]] = []
    for where, text in strings(value, loc):
        if "${" in text:
            found.extend(
                (where, part) for part in parse_template(text) if isinstance(part, Reference)
            )
    return found


def reference_errors(value: Any, loc: Loc = ()) -> list[Error]:
    """Every malformed reference in a nested structure, at the path of its string."""
    errors: list[Error] = []
    for where, text in strings(value, loc):
        if "${" in text:
            try:
                parse_template(text)
            except ReferenceSyntaxError as exc:
                errors.append(field_error(where, str(exc)))
    return errors


def escaped(value: Any) -> Any:
    """``value`` with every ``${`` in its strings written ``$${``: it resolves to itself."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, list):
        return [escaped(item) for item in value]
    if isinstance(value, dict):
        return {key: escaped(item) for key, item in value.items()}
    return value


def is_literal(value: Any) -> bool:
    """Whether a nested structure holds no reference at all (``$${`` escapes aside)."""
    return not any(
        isinstance(part, Reference)
        for _, text in strings(value)
        if "${" in text
        for part in parse_template(text)
    )


def resolve(
    value: Any,
    *,
    inputs: Mapping[str, Any],
    params: Mapping[str, Any],
    steps: Mapping[str, Mapping[str, Any]],
    loc: Loc = (),
) -> Any:
    """``value`` with every reference replaced (a new structure; ``value`` is left alone).

    ``steps`` holds each finished step's outputs by name. Raises :class:`UnresolvedReference`
    for a reference without a value.
    """

    def lookup(reference: Reference, where: Path) -> Any:
        if reference.source == "steps":
            scope = steps.get(reference.step or "", {})
        else:
            scope = inputs if reference.source == "inputs" else params
        if reference.name not in scope:
            raise UnresolvedReference(reference, where)
        return scope[reference.name]

    def walk(node: Any, where: Path) -> Any:
        if isinstance(node, str):
            return _resolve_text(node, where, lookup)
        if isinstance(node, Mapping):
            return {key: walk(item, [*where, key]) for key, item in node.items()}
        if isinstance(node, list):
            return [walk(item, [*where, i]) for i, item in enumerate(node)]
        return node

    return walk(value, list(loc))


def _resolve_text(text: str, where: Path, lookup: Callable[[Reference, Path], Any]) -> Any:
    if "${" not in text:
        return text
    parts = parse_template(text)
    if len(parts) == 1 and isinstance(parts[0], Reference):
        return lookup(parts[0], where)
    return "".join(
        part if isinstance(part, str) else interpolated(lookup(part, where)) for part in parts
    )


def interpolated(value: Any) -> str:
    """How a value reads inside a longer string: text as it is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
