"""Pipeline specifications: inputs with validators, parameters, a graph of steps, outputs.

Parsing checks the shape of a pipeline and everything that can be judged without the registered
tasks (schemas of parameters, validators fit for their input, references well formed, outputs being
references). Whether the steps fit their tasks and the graph has no cycle is
:func:`datamill.pipelines.check.check_pipeline`'s job, which reports every problem at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from datamill.pipelines.documents import load_document
from datamill.pipelines.errors import Error, SpecError, errors_from_validation, fail_with
from datamill.pipelines.names import DataKind, Identifier, Slug
from datamill.pipelines.parameters import schema_errors
from datamill.pipelines.references import reference_errors, single_reference
from datamill.pipelines.validators import APPLIES_TO, Validator
from datamill.problems import field_error


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class PipelineInput(_Spec):
    """What a caller sends under one name: a file, a table or a value, and how it is checked."""

    kind: DataKind
    description: str = ""
    validators: list[Validator] = Field(default_factory=list)


class Step(_Spec):
    """One use of a task: ``with`` gives its inputs and parameters, literals or references.

    Written ``with`` in documents (``with_`` in Python, ``with`` being a keyword); dump with
    ``by_alias=True``.
    """

    task: Slug
    with_: dict[str, JsonValue] = Field(default_factory=dict, alias="with")
    depends_on: list[Slug] = Field(default_factory=list)


def _some_steps(steps: dict[str, Step]) -> dict[str, Step]:
    if not steps:
        raise PydanticCustomError("steps", "a pipeline needs at least one step")
    return steps


class PipelineSpec(_Spec):
    """A graph of steps over registered tasks, published as a web service."""

    name: Slug
    description: str = ""
    inputs: dict[Identifier, PipelineInput] = Field(default_factory=dict)
    params: dict[Identifier, dict[str, JsonValue]] = Field(default_factory=dict)
    steps: Annotated[dict[Slug, Step], AfterValidator(_some_steps)]
    outputs: dict[Identifier, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> PipelineSpec:
        fail_with(pipeline_errors(self))
        return self

    def document(self) -> dict[str, Any]:
        """The pipeline as JSON values, ``with`` spelled as in documents (for storage)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def parse_pipeline(text: str) -> PipelineSpec:
    """The pipeline written in ``text`` (YAML or JSON), or a :class:`SpecError` listing every
    problem found without the tasks (see :func:`~datamill.pipelines.check.check_pipeline`)."""
    return pipeline_from_document(load_document(text, subject="pipeline"))


def pipeline_from_document(document: Mapping[str, Any]) -> PipelineSpec:
    """A pipeline from already parsed JSON values, or a :class:`SpecError`."""
    try:
        return PipelineSpec.model_validate(document)
    except ValidationError as exc:
        raise SpecError(errors_from_validation(exc, document), subject="pipeline") from None


def pipeline_errors(spec: PipelineSpec) -> list[Error]:
    """What is wrong with a pipeline that needs no task to see, beyond each field's type."""
    errors: list[Error] = []
    for name, spec_input in spec.inputs.items():
        for i, validator in enumerate(spec_input.validators):
            if spec_input.kind not in APPLIES_TO[validator.kind]:
                fits = " or ".join(sorted(APPLIES_TO[validator.kind]))
                errors.append(
                    field_error(
                        ["inputs", name, "validators", i, "kind"],
                        f"a {validator.kind} validator checks a {fits} input, "
                        f"not a {spec_input.kind}",
                    )
                )
    for name, schema in spec.params.items():
        errors.extend(schema_errors(schema, ["params", name]))
    for name, step in spec.steps.items():
        errors.extend(reference_errors(step.with_, ["steps", name, "with"]))
    for name, text in spec.outputs.items():
        if single_reference(text) is None:
            errors.append(
                field_error(
                    ["outputs", name],
                    "expected one reference: ${steps.STEP.outputs.NAME}, ${inputs.NAME} "
                    "or ${params.NAME}",
                )
            )
    return errors
