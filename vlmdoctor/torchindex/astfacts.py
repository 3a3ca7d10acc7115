"""What one torch source file gives, read with ``ast``: its own names at run time (not
``if TYPE_CHECKING:`` imports, not what a ``del`` removes, not a stub's typing helpers), its
``__all__`` (with ``extend``/``append``), and its star imports."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Union

from vlmdoctor.tfindex.astnames import dunder_all, parse, top_level_names

# What one file gives: its own names, its __all__ (or None), its star imports (level, module).
FileFacts = tuple[frozenset[str], Union[tuple[str, ...], None], tuple[tuple[int, str], ...]]


def file_facts(data: bytes, *, stub: bool = False) -> FileFacts:
    tree = _runtime_only(parse(data.decode("utf-8", "replace")))
    listed = tuple(dunder_all(tree)) + _all_extended(tree) if _defines_all(tree) else None
    names = set(top_level_names(tree)) | set(listed or ()) | _getattr_names(tree)
    if stub:  # a stub re-exports an import only as ``import X as X`` / ``from m import X as X``
        names -= {a.asname or a.name.split(".")[0] for node in tree.body
                  if isinstance(node, (ast.Import, ast.ImportFrom)) for a in node.names
                  if a.asname != a.name}
        names -= _type_variables(tree)
    names -= _deleted(tree)
    stars = tuple((node.level, node.module or "") for node in _imports(tree)
                  if any(a.name == "*" for a in node.names))
    return frozenset(names), listed, stars


class _StripTypeChecking(ast.NodeTransformer):
    """``if TYPE_CHECKING:`` bodies never run: keep only their ``else``."""

    def visit_If(self, node: ast.If) -> ast.AST | list[ast.stmt]:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else (
            test.attr if isinstance(test, ast.Attribute) else "")
        if name == "TYPE_CHECKING":
            return [self.visit(n) for n in node.orelse]
        self.generic_visit(node)
        return node


def _runtime_only(tree: ast.Module) -> ast.Module:
    stripped = _StripTypeChecking().visit(tree)
    assert isinstance(stripped, ast.Module)
    return stripped


def _deleted(tree: ast.Module) -> set[str]:
    """Names a module-level ``del`` removes (also inside if/try blocks), unless defined
    again afterwards at the top."""
    gone: set[str] = set()
    for node in tree.body:
        dels = {t.id for sub in ast.walk(node) if isinstance(sub, ast.Delete)
                for t in sub.targets if isinstance(t, ast.Name)} if not isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else set()
        if dels:
            gone |= dels
        elif gone:
            gone -= set(top_level_names(ast.Module(body=[node], type_ignores=[])))
    return gone


def _all_extended(tree: ast.Module) -> tuple[str, ...]:
    """String names ``__all__.extend([...])`` / ``__all__.append("x")`` add (anywhere)."""
    return tuple(sorted({v for node in ast.walk(tree) if isinstance(node, ast.Call)
                         and isinstance(node.func, ast.Attribute)
                         and node.func.attr in ("extend", "append")
                         and isinstance(node.func.value, ast.Name)
                         and node.func.value.id == "__all__"
                         for arg in node.args for v in _strings(arg)}))


def _type_variables(tree: ast.Module) -> set[str]:
    """``T = TypeVar("T")`` in a stub: typing helpers, not attributes of the module."""
    return {t.id for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
            and node.value.func.id in ("TypeVar", "ParamSpec", "TypeVarTuple", "NewType")
            for t in node.targets if isinstance(t, ast.Name)}


def private_ops(tree: ast.Module) -> set[str]:
    """``PRIVATE_OPS = (...)``: the functions ``torch`` does not copy from ``_VariableFunctions``
    (their names are in the file only as strings; removing them here is exact)."""
    return {v for node in tree.body if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "PRIVATE_OPS" for t in node.targets)
            for v in _strings(node.value)} - {"PRIVATE_OPS"}


def _defines_all(tree: ast.Module) -> bool:
    return any(isinstance(t, ast.Name) and t.id == "__all__"
               for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AnnAssign))
               for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))


def _imports(tree: ast.Module) -> Iterator[ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node


def _getattr_names(tree: ast.Module) -> set[str]:
    """Identifier strings a module-level ``__getattr__`` can answer: the string constants in
    its body and in the module-level values it reads (``_lazy_modules = {...}``)."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            read = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            found |= _strings(node)
            for other in tree.body:
                if isinstance(other, (ast.Assign, ast.AnnAssign)) and other.value is not None:
                    targets = other.targets if isinstance(other, ast.Assign) else [other.target]
                    if any(isinstance(t, ast.Name) and t.id in read for t in targets):
                        found |= _strings(other.value)
    return {s for s in found if s.isidentifier()}


def _strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)}
