"""A small declarative validator for the YAML knowledge files.

Each schema node checks one value and returns it normalised; errors carry the
key path (``when.all[1].version.spec``) so the one-line message points at the spot.
"""

from __future__ import annotations

from typing import Any, Callable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version


class SchemaError(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def did_you_mean(word: str, options: list[str] | tuple[str, ...] | set[str]) -> str:
    # An option that the word extends ('driver.cuda' for 'driver.cuda_version') is the
    # likeliest intent; otherwise the closest spelling.
    prefixes = [o for o in options if len(o) > 2 and word.startswith(o) and word != o]
    if prefixes:
        return f" (did you mean {max(prefixes, key=len)!r}?)"
    import difflib  # only when there is an error to explain

    close = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Node:
    """A schema node. Plain classes, not dataclasses: the gate imports this on every run."""

    __slots__ = ()

    def check(self, value: Any, path: str) -> Any:
        raise NotImplementedError


class Scalar(Node):
    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:  # "str" | "int" | "number" | "bool"
        self.kind = kind

    def check(self, value: Any, path: str) -> Any:
        kind = self.kind  # plain branches: this runs thousands of times per load
        if kind == "str":
            ok = isinstance(value, str)
        elif kind == "bool":
            ok = isinstance(value, bool)
        elif isinstance(value, bool):
            ok = False
        else:
            ok = isinstance(value, int) if kind == "int" else isinstance(value, (int, float))
        if not ok:
            names = {"str": "a string", "int": "an integer", "number": "a number",
                     "bool": "true or false"}
            raise SchemaError(path, f"expected {names[self.kind]}, got {_show(value)}")
        return value


STR = Scalar("str")
INT = Scalar("int")
NUMBER = Scalar("number")
BOOL = Scalar("bool")


class AnyNode(Node):
    def check(self, value: Any, path: str) -> Any:
        return value


ANY = AnyNode()


class VersionStr(Node):
    def check(self, value: Any, path: str) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise SchemaError(path, f"expected a version string, got {_show(value)}")
        try:
            Version(value)
        except InvalidVersion:
            raise SchemaError(path, f"unparsable version {value!r}") from None
        return value


class SpecStr(Node):
    def check(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise SchemaError(path, f"expected a version specifier string, got {_show(value)}")
        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            raise SchemaError(path, f"unparsable version specifier {value!r}") from None
        return value


VERSION = VersionStr()
SPEC = SpecStr()


class OneOf(Node):
    __slots__ = ("values",)

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values

    def check(self, value: Any, path: str) -> Any:
        if value not in self.values:
            allowed = ", ".join(self.values)
            hint = did_you_mean(value, self.values) if isinstance(value, str) else ""
            raise SchemaError(path, f"expected one of {allowed}; got {_show(value)}{hint}")
        return value


class Nullable(Node):
    __slots__ = ("inner",)

    def __init__(self, inner: Node) -> None:
        self.inner = inner

    def check(self, value: Any, path: str) -> Any:
        return None if value is None else self.inner.check(value, path)


class ListOf(Node):
    __slots__ = ("item", "min_items")

    def __init__(self, item: Node, min_items: int = 0) -> None:
        self.item = item
        self.min_items = min_items

    def check(self, value: Any, path: str) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise SchemaError(path, f"expected a list, got {_show(value)}")
        if len(value) < self.min_items:
            raise SchemaError(path, f"expected at least {self.min_items} item(s)")
        return tuple(self.item.check(v, join(path, i)) for i, v in enumerate(value))


class OneOrMany(Node):
    """One item or a list of items; always returns a tuple."""

    __slots__ = ("item",)

    def __init__(self, item: Node) -> None:
        self.item = item

    def check(self, value: Any, path: str) -> tuple[Any, ...]:
        if isinstance(value, list):
            return ListOf(self.item, min_items=1).check(value, path)
        return (self.item.check(value, path),)


class MapOf(Node):
    __slots__ = ("key_check", "value")

    def __init__(self, value: Node, key_check: Callable[[str], str | None] | None = None) -> None:
        self.value = value
        self.key_check = key_check

    def check(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise SchemaError(path, f"expected a mapping, got {_show(value)}")
        out = {}
        for k, v in value.items():
            key = str(k)
            if self.key_check is not None:
                problem = self.key_check(key)
                if problem:
                    raise SchemaError(join(path, key), problem)
            out[key] = self.value.check(v, join(path, key))
        return out


class Field:
    __slots__ = ("default", "node", "required")

    def __init__(self, node: Node, required: bool = False, default: Any = None) -> None:
        self.node = node
        self.required = required
        self.default = default


class Record(Node):
    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, Field]) -> None:
        self.fields = fields

    def check(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise SchemaError(path, f"expected a mapping, got {_show(value)}")
        for key in value:
            if key not in self.fields:
                raise SchemaError(
                    join(path, str(key)),
                    f"unknown key {str(key)!r}{did_you_mean(str(key), tuple(self.fields))}",
                )
        out: dict[str, Any] = {}
        for name, spec in self.fields.items():
            if name in value:
                out[name] = spec.node.check(value[name], join(path, name))
            elif spec.required:
                raise SchemaError(path or "(top)", f"missing required key {name!r}")
            else:
                out[name] = spec.default
        return out


def req(node: Node) -> Field:
    return Field(node, required=True)


def opt(node: Node, default: Any = None) -> Field:
    return Field(node, default=default)


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)
