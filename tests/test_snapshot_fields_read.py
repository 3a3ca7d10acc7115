"""Nothing collected is unused: every snapshot field is read by a fact or a renderer.

A field that no consumer reads is evidence collected for nothing (as the flash-attn wheel
name once was). The consumers are the evaluation (facts and their helpers), the planner,
the cluster gate and the renderers; a field counts as read where one of them names it as
an attribute (``gpu.error``) or as a key (``entry.get("wheel")``, ``_attr("host", "os")``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT
from vlmdoctor.record import fields
from vlmdoctor.snapshot import (
    CudaToolkit,
    Driver,
    Gpu,
    Host,
    NcclFile,
    PythonInfo,
    Snapshot,
    TorchBuild,
)

CONSUMERS = ("evaluate", "render", "plan", "cluster", "stages.py")
# Fields kept for the reader of the JSON and for provenance, read by no rule on purpose.
NOT_EVALUATED = {
    "Snapshot.unknown": "Context.section_unknown reads it under the name of each section",
    "Snapshot.collected_at": "when the snapshot was taken: the report header's business",
}


def _names(paths: list[Path]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                found.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def _consumer_files() -> list[Path]:
    out: list[Path] = []
    for name in CONSUMERS:
        path = ROOT / "vlmdoctor" / name
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


def _extension_keys() -> set[str]:
    """The keys collect/extensions.py writes into ``extensions.<package>``."""
    tree = ast.parse((ROOT / "vlmdoctor" / "collect" / "extensions.py").read_text())
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys |= {k.value for k in node.keys if isinstance(k, ast.Constant)
                     and isinstance(k.value, str)}
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) \
                and isinstance(node.slice, ast.Constant):
            keys.add(str(node.slice.value))
    return keys


def test_every_snapshot_field_is_read_by_a_fact_or_a_renderer() -> None:
    read = _names(_consumer_files())
    unread = []
    for kind in (Snapshot, Host, PythonInfo, Driver, Gpu, TorchBuild, CudaToolkit, NcclFile):
        for name in fields(kind):
            if name not in read and f"{kind.__name__}.{name}" not in NOT_EVALUATED:
                unread.append(f"{kind.__name__}.{name}")
    unread += [f"extensions.*.{key}" for key in sorted(_extension_keys()) if key not in read]
    assert unread == [], "collected but read by no fact or renderer"


def test_the_meta_test_sees_an_unread_field() -> None:
    assert "wheel" in _extension_keys() and "cxx11_abi" in _extension_keys()
    assert "wheel" not in _names([ROOT / "vlmdoctor" / "render" / "summary.py"])
