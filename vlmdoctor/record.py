"""Frozen records for the seams on the gate's path: dataclass semantics, a fraction of the cost.

``@dataclass(frozen=True)`` generates and compiles five methods per class at import time
(about 0.5-1 ms each class; the gate imports ~30 such classes on every run). ``@record``
gives the same behaviour that the code relies on — keyword/positional ``__init__`` with
defaults and ``field(default_factory=...)``, immutability, equality, hashing, repr,
``replace`` and ``fields`` — with shared generic methods, so defining a class costs
microseconds. mypy reads it as a frozen dataclass (PEP 681 ``dataclass_transform``).

Standard library only; Python 3.9 compatible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar

T = TypeVar("T")
_MISSING: Any = object()

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_: Any) -> Callable[[T], T]:
        return lambda fn: fn


class FrozenRecordError(AttributeError):
    """Raised on assignment to a field of a record (like dataclasses.FrozenInstanceError)."""


class _FieldSpec:
    __slots__ = ("default", "default_factory")

    def __init__(self, default: Any, default_factory: Any) -> None:
        self.default = default
        self.default_factory = default_factory


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING) -> Any:
    """Like ``dataclasses.field`` for the two options records use."""
    return _FieldSpec(default, default_factory)


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    spec = type(self).__record_spec__
    if not args and len(kwargs) == len(spec):  # the common case: every field by keyword
        try:
            for name, _, _ in spec:
                object.__setattr__(self, name, kwargs[name])
        except KeyError:
            pass
        else:
            post = getattr(self, "__post_init__", None)
            if post is not None:
                post()
            return
    if len(args) > len(spec):
        raise TypeError(f"{type(self).__name__}() takes {len(spec)} arguments, got {len(args)}")
    for position, (name, default, factory) in enumerate(spec):
        if position < len(args):
            if name in kwargs:
                raise TypeError(f"{type(self).__name__}() got multiple values for {name!r}")
            value = args[position]
        elif name in kwargs:
            value = kwargs.pop(name)
        elif default is not _MISSING:
            value = default
        elif factory is not _MISSING:
            value = factory()
        else:
            raise TypeError(f"{type(self).__name__}() missing required argument {name!r}")
        object.__setattr__(self, name, value)
    if kwargs:
        raise TypeError(f"{type(self).__name__}() got unexpected argument(s) "
                        f"{', '.join(sorted(kwargs))}")
    post = getattr(self, "__post_init__", None)
    if post is not None:
        post()


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in type(self).__record_fields__)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in type(self).__record_fields__)
    return f"{type(self).__qualname__}({inner})"


def _setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r}")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen record of its annotated fields (in definition order)."""
    spec = []
    # Own annotations only (3.9 would return a base class's through getattr); 3.14's lazy
    # annotations are reached through getattr.
    own = cls.__dict__.get("__annotations__") or getattr(cls, "__annotations__", {})  # noqa: RUF063
    for name, annotation in own.items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        default = cls.__dict__.get(name, _MISSING)
        factory = _MISSING
        if isinstance(default, _FieldSpec):
            default, factory = default.default, default.default_factory
            if default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, default)
        spec.append((name, default, factory))
    cls.__record_spec__ = tuple(spec)  # type: ignore[attr-defined]
    cls.__record_fields__ = tuple(name for name, _, _ in spec)  # type: ignore[attr-defined]
    for attr, fn in (("__init__", _init), ("__eq__", _eq), ("__hash__", _hash),
                     ("__repr__", _repr), ("__setattr__", _setattr),
                     ("__delattr__", _delattr)):
        if attr not in cls.__dict__ or attr in ("__init__", "__setattr__", "__delattr__"):
            setattr(cls, attr, fn)
    return cls


def fields(obj: Any) -> tuple[str, ...]:
    """The field names of a record (class or instance), in order."""
    names: tuple[str, ...] = obj.__record_fields__
    return names


def replace(obj: T, **changes: Any) -> T:
    """A copy of the record ``obj`` with some fields changed (``dataclasses.replace``)."""
    values = {name: getattr(obj, name) for name in fields(obj)}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field(s) {', '.join(sorted(unknown))}")
    values.update(changes)
    return type(obj)(**values)


__all__ = ["FrozenRecordError", "field", "fields", "record", "replace"]
