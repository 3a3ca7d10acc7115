"""AST readers for transformers' own source: module-level names, ``__all__``, lazy
``_import_structure`` declarations and the ``CONFIG_MAPPING_NAMES`` registry."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator


def parse(text: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError:  # a file newer Python syntax cannot parse here: index what we can
        return ast.Module(body=[], type_ignores=[])


def _top_statements(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, looking inside if/try/with blocks but not functions/classes."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _top_statements(node.body)
            yield from _top_statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _top_statements(block)
        elif isinstance(node, ast.With):
            yield from _top_statements(node.body)


def top_level_names(tree: ast.Module) -> Iterator[str]:
    for node in _top_statements(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                yield from _target_names(target)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            yield from _target_names(node.target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.asname or alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    yield alias.asname or alias.name


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _target_names(element)


def _strings(node: ast.AST) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


def dunder_all(tree: ast.Module) -> list[str]:
    found: list[str] = []
    for node in _top_statements(tree.body):
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            value = getattr(node, "value", None)
            if value is not None:
                found.extend(_strings(value))
    return found


def import_structure(tree: ast.Module) -> set[str]:
    """Object names a lazy ``import_structure`` declares (dict literal, item sets, extend/append)."""
    names: set[str] = set()
    for node in _top_statements(tree.body):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if _is_structure(target):
                    names |= _structure_values(node.value, is_dict=isinstance(target, ast.Name))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if (isinstance(func, ast.Attribute) and func.attr in ("extend", "append")
                    and _is_structure(func.value)):
                for arg in node.value.args:
                    names |= set(_strings(arg))
    return {n for n in names if n.isidentifier()}


def _is_structure(node: ast.expr) -> bool:
    if isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "_import_structure"


def _structure_values(value: ast.expr, *, is_dict: bool) -> set[str]:
    if is_dict and isinstance(value, ast.Dict):
        return {s for v in value.values if v is not None for s in _strings(v)}
    return set(_strings(value)) if not is_dict else set()


def uses_define_import_structure(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "define_import_structure" for n in ast.walk(tree))


def config_mapping_keys(tree: ast.Module) -> set[str]:
    """Model types in ``CONFIG_MAPPING_NAMES``: tuple pairs (4.x), dict keys (5.x), ``.update``."""
    types: set[str] = set()
    for node in _top_statements(tree.body):
        if (_assigns_mapping(node) or _updates_mapping(node)) and isinstance(
                node, (ast.Assign, ast.Expr)):
            types |= _pair_keys(node.value)
    return types


def _assigns_mapping(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "CONFIG_MAPPING_NAMES" for t in node.targets)


def _updates_mapping(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and isinstance(node.value.func.value, ast.Name)
            and node.value.func.value.id == "CONFIG_MAPPING_NAMES")


def _pair_keys(value: ast.AST) -> set[str]:
    keys: set[str] = set()
    for sub in ast.walk(value):
        if isinstance(sub, ast.Tuple) and len(sub.elts) == 2 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in sub.elts):
            first = sub.elts[0]
            assert isinstance(first, ast.Constant)
            keys.add(str(first.value))
        elif isinstance(sub, ast.Dict):
            keys |= {k.value for k in sub.keys if isinstance(k, ast.Constant)
                     and isinstance(k.value, str)}
    return keys
