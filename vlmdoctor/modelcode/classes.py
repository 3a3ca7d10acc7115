"""The classes in a model's code and what they use of their transformers bases, with ``ast``.

For each top-level class: its bases (a base imported from transformers is named
``transformers:Name``; others keep their local name), every name it defines (methods, class
attributes, attributes assigned on ``self``), every ``self.X`` / ``super().X`` it reads or
calls in its methods, and the parameters of each method it defines (to compare an
override with the base method it replaces). Kept in the report with the imports, so
``--from-report`` checks them again.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vlmdoctor.tfmembers.extract import signature

MAX_USES = 2000  # per class: a generated monster is cut, not followed


@dataclass(frozen=True)
class ClassUse:
    name: str
    file: str
    line: int
    bases: tuple[str, ...]
    defines: tuple[str, ...]
    uses: tuple[tuple[str, int], ...]  # (member, line) of self.X / super().X
    methods: tuple[tuple[str, int, str], ...]  # (name, line, signature)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "line": self.line, "bases": list(self.bases),
                "defines": list(self.defines), "uses": [list(u) for u in self.uses],
                "methods": [list(m) for m in self.methods]}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ClassUse:
        return ClassUse(
            name=str(data["name"]), file=str(data["file"]), line=int(data["line"]),
            bases=tuple(str(b) for b in data["bases"]),
            defines=tuple(str(d) for d in data["defines"]),
            uses=tuple((str(m), int(n)) for m, n in data["uses"]),
            methods=tuple((str(m), int(n), str(s)) for m, n, s in data["methods"]))


def transformers_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> transformers class name, for ``from transformers[.x] import C [as D]``."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "transformers":
            for alias in node.names:
                out[alias.asname or alias.name] = alias.name
    return out


def _base(node: ast.expr, aliases: Mapping[str, str]) -> str:
    if isinstance(node, ast.Name):
        return f"transformers:{aliases[node.id]}" if node.id in aliases else node.id
    if isinstance(node, ast.Attribute):
        root = node.value
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id == "transformers":
            return f"transformers:{node.attr}"
        return node.attr
    return ""


def _is_super_call(node: ast.expr) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "super")


def _class(node: ast.ClassDef, label: str, aliases: Mapping[str, str]) -> ClassUse:
    defines: set[str] = set()
    uses: list[tuple[str, int]] = []
    methods: list[tuple[str, int, str]] = []
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defines.add(item.name)
            methods.append((item.name, item.lineno, signature(item)))
        elif isinstance(item, ast.Assign):
            defines.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            defines.add(item.target.id)
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Attribute):
            continue
        owner = sub.value
        if isinstance(owner, ast.Name) and owner.id == "self":
            if isinstance(sub.ctx, ast.Store):
                defines.add(sub.attr)
            elif len(uses) < MAX_USES:
                uses.append((sub.attr, sub.lineno))
        elif _is_super_call(owner) and len(uses) < MAX_USES:
            uses.append((sub.attr, sub.lineno))
    bases = tuple(b for b in (_base(b, aliases) for b in node.bases) if b)
    return ClassUse(node.name, label, node.lineno, bases, tuple(sorted(defines)),
                    tuple(sorted(set(uses), key=lambda u: (u[1], u[0]))), tuple(methods))


def classes_of(tree: ast.Module, label: str) -> tuple[ClassUse, ...]:
    aliases = transformers_aliases(tree)
    return tuple(_class(node, label, aliases) for node in tree.body
                 if isinstance(node, ast.ClassDef))
