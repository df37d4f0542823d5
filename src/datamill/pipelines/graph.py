"""The step graph: what each step waits for, in what order steps can run, and which may run now.

A graph maps each step to the steps it depends on (``{"flag": ["dedupe"], "dedupe": []}``). A
step's dependencies are its ``depends_on`` and every step its ``with`` references. Names that are
not steps of the graph are ignored here; :func:`~datamill.pipelines.check.check_pipeline` reports
them. Orders are stable: among steps free to go in any order, the one declared first comes first.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from datamill.pipelines.pipeline import PipelineSpec
from datamill.pipelines.references import find_references

StepState = Literal[
    "queued", "running", "succeeded", "failed", "cancelled", "upstream_failed", "waiting"
]
FAILED_STATES: frozenset[StepState] = frozenset({"failed", "cancelled", "upstream_failed"})
"""States after which a step's dependents can never run."""

Graph = Mapping[str, Collection[str]]


class CycleError(ValueError):
    """The steps depend on each other in a circle, so no order runs them all."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__(f"dependency cycle: {describe_cycle(cycle)}")
        self.cycle = cycle


def step_dependencies(spec: PipelineSpec) -> dict[str, tuple[str, ...]]:
    """Each step's dependencies: its ``depends_on`` and the steps its ``with`` references."""
    graph: dict[str, tuple[str, ...]] = {}
    for name, step in spec.steps.items():
        referenced = (ref.step for _, ref in find_references(step.with_) if ref.step is not None)
        wanted = dict.fromkeys([*step.depends_on, *referenced])
        graph[name] = tuple(dep for dep in wanted if dep in spec.steps)
    return graph


def topological_order(graph: Graph) -> list[str]:
    """Every step after all of its dependencies; raises :class:`CycleError` when impossible."""
    rank = {step: i for i, step in enumerate(graph)}
    waiting = {step: len(_known(graph, step)) for step in graph}
    dependents = _dependents(graph)
    ready = [rank[step] for step, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    steps = list(graph)
    order: list[str] = []
    while ready:
        step = steps[heapq.heappop(ready)]
        order.append(step)
        for dependent in dependents[step]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, rank[dependent])
    if len(order) < len(graph):
        cycle = find_cycle(graph)
        assert cycle is not None  # steps left over always wait on a cycle
        raise CycleError(cycle)
    return order


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle, as the steps along it (each depends on the next, the last on the first)."""
    cycles = find_cycles(graph)
    return cycles[0] if cycles else None


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle through each group of steps that depend on each other, in declaration order.

    Each cycle starts at its earliest declared step; ``[a]`` is a step that depends on itself.
    """
    rank = {step: i for i, step in enumerate(graph)}
    cycles: list[list[str]] = []
    for component in _strong_components(graph):
        first = min(component, key=rank.__getitem__)
        if len(component) > 1 or first in _known(graph, first):
            cycles.append(_cycle_through(graph, first, component))
    cycles.sort(key=lambda cycle: rank[cycle[0]])
    return cycles


def describe_cycle(cycle: list[str]) -> str:
    """``a -> b -> a``: each step needs the next."""
    return " -> ".join([*cycle, cycle[0]])


@dataclass(frozen=True)
class Readiness:
    """What to do with the queued steps of a run, given the state of every step."""

    dispatch: tuple[str, ...]
    """Queued steps whose dependencies have all succeeded: they may start now."""
    upstream_failed: tuple[str, ...]
    """Queued steps that can never run: a dependency, or one of its own, failed or was cancelled."""


def ready_steps(graph: Graph, states: Mapping[str, StepState]) -> Readiness:
    """Which queued steps may be dispatched now, and which become ``upstream_failed``.

    Failure travels all the way down in one call: when ``a`` failed, both ``b`` (needing ``a``)
    and ``c`` (needing ``b``) are in ``upstream_failed``. A step missing from ``states`` counts as
    queued. Only queued steps ever appear in the answer.
    """
    state = {step: states.get(step, "queued") for step in graph}
    dependents = _dependents(graph)
    doomed: set[str] = set()
    frontier = [step for step, current in state.items() if current in FAILED_STATES]
    while frontier:
        for dependent in dependents[frontier.pop()]:
            if state[dependent] == "queued" and dependent not in doomed:
                doomed.add(dependent)
                frontier.append(dependent)
    dispatch = (
        step
        for step, current in state.items()
        if current == "queued"
        and step not in doomed
        and all(state[dep] == "succeeded" for dep in _known(graph, step))
    )
    return Readiness(tuple(dispatch), tuple(step for step in graph if step in doomed))


def _known(graph: Graph, step: str) -> list[str]:
    return list(dict.fromkeys(dep for dep in graph[step] if dep in graph))


def _dependents(graph: Graph) -> dict[str, list[str]]:
    dependents: dict[str, list[str]] = {step: [] for step in graph}
    for step in graph:
        for dep in _known(graph, step):
            dependents[dep].append(step)
    return dependents


def _strong_components(graph: Graph) -> Iterable[list[str]]:
    """Tarjan's algorithm without recursion (a long chain of steps must not hit Python's limit)."""
    edges = {step: _known(graph, step) for step in graph}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            step, position = work.pop()
            if position == 0:
                index[step] = low[step] = len(index)
                stack.append(step)
                on_stack.add(step)
            deps = edges[step]
            if position < len(deps):
                work.append((step, position + 1))
                dep = deps[position]
                if dep not in index:
                    work.append((dep, 0))
                elif dep in on_stack:
                    low[step] = min(low[step], index[dep])
                continue
            if low[step] == index[step]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == step:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[step])
    return components


def _cycle_through(graph: Graph, first: str, component: Collection[str]) -> list[str]:
    """The shortest way from ``first`` back to itself, along dependencies inside ``component``."""
    members = set(component)
    came_from: dict[str, str] = {}
    queue = [first]
    for step in queue:
        for dep in _known(graph, step):
            if dep == first:
                path = [step]
                while path[-1] != first:
                    path.append(came_from[path[-1]])
                return list(reversed(path))
            if dep in members and dep not in came_from:
                came_from[dep] = step
                queue.append(dep)
    raise AssertionError("a strong component always holds a cycle through each of its steps")
