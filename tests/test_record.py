"""vlmdoctor.record: the frozen records at the seams behave like frozen dataclasses."""

from __future__ import annotations

from typing import ClassVar

import pytest

from vlmdoctor.record import FrozenRecordError, field, fields, record, replace


@record
class Point:
    x: int
    y: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    KIND: ClassVar[str] = "point"


def test_init_defaults_factory_and_fields() -> None:
    p = Point(1)
    assert (p.x, p.y, p.tags) == (1, 0, {})
    assert Point(1).tags is not p.tags  # a fresh default per instance
    assert Point(1, 2) == Point(x=1, y=2)
    assert fields(p) == fields(Point) == ("x", "y", "tags")
    assert Point.KIND == "point"


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((), {}, "Point() missing required argument 'x'"),
    ((1, 2, {}, 4), {}, "Point() takes 3 arguments, got 4"),
    ((1,), {"x": 2}, "Point() got multiple values for 'x'"),
    ((1,), {"z": 2}, "Point() got unexpected argument(s) z"),
])
def test_bad_arguments_raise_type_error(args: tuple[object, ...], kwargs: dict[str, object],
                                        message: str) -> None:
    with pytest.raises(TypeError) as err:
        Point(*args, **kwargs)  # type: ignore[arg-type]
    assert str(err.value) == message


def test_frozen_eq_hash_repr_replace() -> None:
    p = Point(1, 2)
    with pytest.raises(FrozenRecordError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(FrozenRecordError):
        del p.x
    assert p != Point(1, 3)
    assert p.__eq__((1, 2, {})) is NotImplemented
    assert repr(p) == "Point(x=1, y=2, tags={})"
    assert replace(p, y=5) == Point(1, 5)
    with pytest.raises(TypeError):
        replace(p, z=1)


@record
class Hashable:
    a: int
    b: str = "b"


@record
class Checked:
    n: int

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("negative")


def test_hash_and_post_init() -> None:
    assert hash(Hashable(1)) == hash(Hashable(1, "b"))
    assert {Hashable(1), Hashable(1)} == {Hashable(1)}
    with pytest.raises(ValueError):
        Checked(-1)
