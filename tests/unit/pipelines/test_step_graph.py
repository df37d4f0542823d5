"""The step graph: dependencies, topological order, cycles and which steps may run now."""

from __future__ import annotations

import itertools
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datamill.pipelines.graph import (
    FAILED_STATES,
    CycleError,
    Graph,
    StepState,
    find_cycle,
    find_cycles,
    ready_steps,
    step_dependencies,
    topological_order,
)
from tests.strategies import dags
from tests.unit.pipelines.specimens import example_document, pipeline

STATES: tuple[StepState, ...] = get_args(StepState)


@st.composite
def cyclic_graphs(draw: st.DrawFn) -> dict[str, list[str]]:
    """A random DAG plus a chain of dependencies closed by one back edge."""
    graph = draw(dags())
    ranked = sorted(graph, key=lambda name: int(name[1:]))
    chain = draw(st.lists(st.sampled_from(ranked), min_size=1, unique=True))
    chain.sort(key=ranked.index)
    for lower, higher in itertools.pairwise(chain):
        if lower not in graph[higher]:
            graph[higher].append(lower)
    graph[chain[0]].append(chain[-1])  # the back edge: the lowest now needs the highest
    return graph


def assert_is_a_cycle(graph: Graph, cycle: list[str]) -> None:
    assert len(set(cycle)) == len(cycle)
    for step, needed in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
        assert needed in graph[step]


def test_dependencies_are_depends_on_and_referenced_steps() -> None:
    document = example_document()
    del document["steps"]["flag"]["depends_on"]
    document["steps"]["report"] = {
        "task": "save-file",
        "depends_on": ["dedupe", "ghost"],
        "with": {"source": "${steps.flag.outputs.count}", "note": "${inputs.table}"},
    }
    assert step_dependencies(pipeline(document)) == {
        "dedupe": (),
        "flag": ("dedupe",),
        "report": ("dedupe", "flag"),
    }


def test_topological_order_keeps_declaration_order_where_free() -> None:
    graph = {"c": [], "a": ["b"], "b": [], "d": ["a", "c"]}
    assert topological_order(graph) == ["c", "b", "a", "d"]


def test_topological_order_of_a_cycle_raises_naming_it() -> None:
    with pytest.raises(CycleError, match="a -> b -> a") as caught:
        topological_order({"a": ["b"], "b": ["a"], "c": []})
    assert caught.value.cycle == ["a", "b"]


def test_a_long_chain_needs_no_deep_recursion() -> None:
    graph = {f"s{i}": [f"s{i - 1}"] if i else [] for i in range(5000)}
    assert topological_order(graph)[-1] == "s4999"
    graph["s0"] = ["s4999"]
    cycle = find_cycle(graph)
    assert cycle is not None
    assert len(cycle) == 5000


@given(dags())
def test_topological_order_respects_every_edge(graph: dict[str, list[str]]) -> None:
    order = topological_order(graph)
    assert sorted(order) == sorted(graph)
    position = {step: i for i, step in enumerate(order)}
    for step, deps in graph.items():
        for dep in deps:
            assert position[dep] < position[step]
    assert find_cycle(graph) is None


@given(cyclic_graphs())
def test_a_back_edge_makes_a_cycle_that_is_found_and_reported(graph: dict[str, list[str]]) -> None:
    cycle = find_cycle(graph)
    assert cycle is not None
    assert_is_a_cycle(graph, cycle)
    for each in find_cycles(graph):
        assert_is_a_cycle(graph, each)
    with pytest.raises(CycleError) as caught:
        topological_order(graph)
    assert_is_a_cycle(graph, caught.value.cycle)


@given(dags(), st.data())
def test_ready_steps_never_dispatches_a_step_whose_dependency_has_not_succeeded(
    graph: dict[str, list[str]], data: st.DataObject
) -> None:
    states = {step: data.draw(st.sampled_from(STATES)) for step in graph}
    readiness = ready_steps(graph, states)
    for step in readiness.dispatch:
        assert states[step] == "queued"
        assert all(states[dep] == "succeeded" for dep in graph[step])
    doomed = set(readiness.upstream_failed)
    assert not doomed & set(readiness.dispatch)
    for step in doomed:
        assert states[step] == "queued"
        assert any(states[dep] in FAILED_STATES or dep in doomed for dep in graph[step])
    for step, deps in graph.items():
        if states[step] == "queued" and all(states[dep] == "succeeded" for dep in deps):
            assert step in readiness.dispatch
        if states[step] == "queued" and any(states[dep] in FAILED_STATES for dep in deps):
            assert step in doomed


@given(dags(), st.data())
def test_a_simulated_run_ends_with_every_step_finished_in_order(
    graph: dict[str, list[str]], data: st.DataObject
) -> None:
    outcome = {step: data.draw(st.sampled_from(["succeeded", "failed"])) for step in graph}
    states: dict[str, StepState] = dict.fromkeys(graph, "queued")
    for _ in range(len(graph) + 1):
        readiness = ready_steps(graph, states)
        if not readiness.dispatch and not readiness.upstream_failed:
            break
        states.update(dict.fromkeys(readiness.upstream_failed, "upstream_failed"))
        for step in readiness.dispatch:
            assert all(states[dep] == "succeeded" for dep in graph[step])
            states[step] = "succeeded" if outcome[step] == "succeeded" else "failed"
    assert "queued" not in states.values()
    for step, state in states.items():
        if state == "succeeded":
            assert all(states[dep] == "succeeded" for dep in graph[step])


def test_failure_travels_down_every_level_in_one_call() -> None:
    graph = {"a": [], "b": ["a"], "c": ["b"], "d": []}
    readiness = ready_steps(graph, {"a": "failed", "b": "queued", "c": "queued", "d": "queued"})
    assert readiness.upstream_failed == ("b", "c")
    assert readiness.dispatch == ("d",)


def test_a_waiting_or_running_dependency_holds_its_dependents() -> None:
    graph = {"a": [], "b": ["a"], "c": []}
    assert ready_steps(graph, {"a": "waiting", "b": "queued", "c": "running"}).dispatch == ()
