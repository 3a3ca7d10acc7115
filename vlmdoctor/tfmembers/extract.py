"""Read the members of transformers' base classes from one release's source, with ``ast``.

For every top-level class of the files model code subclasses or calls into
(``modeling_utils``, ``generation/utils``, ``configuration_utils``, the tokenizer, processor
and image-processor bases, ``cache_utils``, the hub and PEFT mixins), its base names and
its members: methods with their parameters, properties and class attributes, and the
attributes its methods assign on ``self``. A method's parameters are kept as a compact
signature: ``a,b=,*,c=,**`` (``=``: has a default; ``*``: ``*args``; ``**``: ``**kwargs``).
"""

from __future__ import annotations

import ast
from typing import Any

FILES = (
    "transformers/modeling_utils.py", "transformers/generation/utils.py",
    "transformers/configuration_utils.py", "transformers/tokenization_utils_base.py",
    "transformers/tokenization_utils.py", "transformers/tokenization_utils_fast.py",
    "transformers/tokenization_python.py", "transformers/tokenization_utils_tokenizers.py",
    "transformers/processing_utils.py", "transformers/image_processing_utils.py",
    "transformers/image_processing_base.py", "transformers/cache_utils.py",
    "transformers/utils/hub.py", "transformers/integrations/peft.py",
)
ATTRIBUTE = ""  # the signature of a member that is not a method


def signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    defaults = len(a.defaults)
    parts = [p.arg + ("=" if i >= len(positional) - defaults else "")
             for i, p in enumerate(positional)]
    if parts and parts[0] in ("self", "cls"):
        parts = parts[1:]
    if a.vararg is not None:
        parts.append("*")
    elif a.kwonlyargs:
        parts.append("|")  # keyword-only parameters follow
    parts += [k.arg + ("=" if d is not None else "") for k, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg is not None:
        parts.append("**")
    return ",".join(parts)


def _is_property(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any((isinstance(d, ast.Name) and d.id in ("property", "cached_property"))
               or (isinstance(d, ast.Attribute) and d.attr in ("setter", "getter"))
               for d in node.decorator_list)


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):  # Generic[T]
        return _base_name(node.value)
    return ""


def class_members(node: ast.ClassDef) -> dict[str, str]:
    members: dict[str, str] = {}
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            members[item.name] = ATTRIBUTE if _is_property(item) else signature(item)
            for sub in ast.walk(item):
                if (isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store)
                        and isinstance(sub.value, ast.Name) and sub.value.id == "self"):
                    members.setdefault(sub.attr, ATTRIBUTE)
        elif isinstance(item, ast.Assign):
            for target in item.targets:
                if isinstance(target, ast.Name):
                    members.setdefault(target.id, ATTRIBUTE)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            members.setdefault(item.target.id, ATTRIBUTE)
    return members


def classes_in(source: bytes, name: str) -> dict[str, dict[str, Any]]:
    """``{class: {"bases": [...], "members": {member: signature}}}`` of one file."""
    try:
        tree = ast.parse(source, name)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    return {node.name: {"bases": [b for b in map(_base_name, node.bases) if b],
                        "members": class_members(node)}
            for node in tree.body if isinstance(node, ast.ClassDef)}
