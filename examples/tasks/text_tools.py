"""An example ``python`` task: ``function: text_tools:normalise`` (with ``examples/tasks`` on the
worker's import path).

Called with its parameters and inputs as keyword arguments (a file input as a path) and the
attempt's working directory; returns its outputs, a file output as a path inside that directory.
"""

from __future__ import annotations

from pathlib import Path


def normalise(text: Path, case: str, workdir: Path) -> dict[str, object]:
    """``text`` with surrounding blanks and empty lines removed, in upper or lower case."""
    lines = [line.strip() for line in text.read_text(encoding="utf-8").splitlines()]
    kept = [line.upper() if case == "upper" else line.lower() for line in lines if line]
    target = workdir / "outputs" / "normalised.txt"
    target.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    return {"text": target, "lines": len(kept)}
