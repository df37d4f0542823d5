"""Hypothesis strategies shared by tests of different packages."""

from __future__ import annotations

from hypothesis import strategies as st


@st.composite
def dags(draw: st.DrawFn, min_size: int = 1, max_size: int = 12) -> dict[str, list[str]]:
    """A random acyclic graph declared in a random order: step i may only depend on steps < i."""
    size = draw(st.integers(min_value=min_size, max_value=max_size))
    names = [f"s{i}" for i in range(size)]
    graph = {
        names[i]: draw(st.lists(st.sampled_from(names[:i]), unique=True)) if i else []
        for i in range(size)
    }
    order = draw(st.permutations(names))
    return {name: graph[name] for name in order}
