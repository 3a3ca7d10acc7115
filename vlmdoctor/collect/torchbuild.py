"""torch's build facts from the installed torch/version.py, without importing torch."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from vlmdoctor.snapshot import TorchBuild


def find_torch_version_file(paths: tuple[str, ...] | None = None) -> Path | None:
    """torch/version.py as this interpreter would import it, or as the first ``paths``
    entry holding torch would (another interpreter's import path, `--python`)."""
    if paths is not None:
        for entry in paths:
            candidate = Path(entry) / "torch" / "version.py"
            if candidate.is_file():
                return candidate
        return None
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "version.py"
        if candidate.is_file():
            return candidate
    return None


def parse_version_file(text: str) -> TorchBuild:
    values: dict[str, str | None] = {}
    for node in ast.parse(text).body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
                constant = value.value
                values[target.id] = constant if isinstance(constant, str) else None
    return TorchBuild(version=values.get("__version__"), cuda=values.get("cuda"))


def read_torch_build(paths: tuple[str, ...] | None = None,
                     ) -> tuple[TorchBuild | None, str | None]:
    """Returns (build, reason-if-unreadable). ``(None, None)`` means torch is absent."""
    path = find_torch_version_file(paths)
    if path is None:
        return None, None
    try:
        return parse_version_file(path.read_text(encoding="utf-8")), None
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError) as exc:
        return None, f"cannot read {path}: {exc}"
    except (RecursionError, MemoryError):  # a pathological file (deeply nested expression)
        return None, f"cannot read {path}: too deeply nested to parse"
