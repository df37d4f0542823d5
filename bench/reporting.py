"""How the benches print a figure: beside its baseline, with their ratio."""

from __future__ import annotations


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(
    label: str,
    ours: float,
    base: float,
    unit: str = "ms",
    target: str = "",
    *,
    width: int = 44,
) -> None:
    """One row: ``ours`` and ``base`` (seconds, shown in ms, unless ``unit`` says otherwise)."""
    ratio = ours / base if base else float("nan")
    scale = 1000 if unit == "ms" else 1
    shown = f"{ours * scale:9.1f} {unit:<6} baseline {base * scale:9.1f} {unit:<6}"
    print(f"  {label:<{width}} {shown}   ratio {ratio:6.2f}x  {target}")
