"""Facts from the model's classes vs the members of transformers' base classes, per release:
``self.X`` / ``super().X`` the target release lacks, and overrides that cannot take a
parameter the base method gained (the members index, built from the release wheels)."""

from __future__ import annotations

from typing import Any

from vlmdoctor.errors import InputError
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.registry import fact
from vlmdoctor.shell import arg

_LAST: list[Any] = []  # (code, version) -> result of the last check: two facts share one pass


def _checked(ctx: Context) -> Any:
    found = ctx.snapshot.packages.get("transformers")
    if ctx.section_unknown("packages"):
        return UNKNOWN
    if not found or not any(scan.classes for scan in ctx.code):
        return None
    key = (ctx.code, str(found))
    if _LAST and _LAST[0] == key:
        return _LAST[1]
    from vlmdoctor.modelcode.membercheck import member_problems
    from vlmdoctor.tfmembers.index import load_members

    try:
        index = load_members()
    except InputError:
        return UNKNOWN
    result = (index, *member_problems(index, ctx.code, str(found)))
    _LAST[:] = [key, result]
    return result


def _window(index: Any, positions: set[int]) -> str | None:
    """``>=A,<B`` for the newest contiguous run of releases in ``positions``."""
    if not positions:
        return None
    last = first = max(positions)
    while first - 1 in positions:
        first -= 1
    spec = f">={index.releases[first]}"
    return spec + (f",<{index.releases[last + 1]}" if last + 1 < len(index.releases) else "")


@fact("model.code_members_missing", "records",
      "Members of transformers base classes the model's code uses that the installed release lacks")
def _members(ctx: Context, _: str) -> Any:
    checked = _checked(ctx)
    if checked is None or checked is UNKNOWN:
        return [] if checked is None else UNKNOWN
    index, missing, _overrides = checked
    if not missing:
        return []
    found = str(ctx.snapshot.packages.get("transformers"))
    common = set.intersection(*(set(m["positions"]) for m in missing))
    spec = _window(index, common)
    listed = "; ".join(f"{m['where']} {m['class']} uses {m['name']} (in transformers "
                       f"{m['present']})" for m in missing[:6])
    more = f"; +{len(missing) - 6} more" if len(missing) > 6 else ""
    return [{"package": "transformers", "found": found, "spec": spec or "",
             "where": listed + more, "severity": "error",
             "why": ("AttributeError (or a TypeError from super()) when that code runs."
                     + ("" if spec else " No indexed release has all of them.")),
             "fix": [f"pip install {arg('transformers' + spec)}   # the releases whose base "
                     "classes have every member it uses"] if spec else []}]


@fact("model.code_override_mismatch", "records",
      "Methods the model's code overrides without a parameter the base method gained")
def _overrides(ctx: Context, _: str) -> Any:
    checked = _checked(ctx)
    if checked is None or checked is UNKNOWN:
        return [] if checked is None else UNKNOWN
    _index, _missing, overrides = checked
    found = str(ctx.snapshot.packages.get("transformers"))
    return [{"package": "transformers", "found": found, "where": o["where"],
             "requirer": f"{o['class']}.{o['method']}", "spec": f"<{o['added']}",
             "severity": "warning", "import": o["param"],
             "why": (f"{o['class']}.{o['method']} overrides the transformers method of that "
                     f"name without **kwargs and without its parameter '{o['param']}', which "
                     f"the base method has from transformers {o['added']}; transformers "
                     f"{found} passes it, so the call fails with \"{o['method']}() got an "
                     f"unexpected keyword argument '{o['param']}'\" when it does."),
             "fix": [f"pip install {arg('transformers<' + o['added'])}   # before the base "
                     f"method gained '{o['param']}'",
                     f"# or add '{o['param']}=None' (or **kwargs) to {o['method']} in "
                     f"{o['where'].split(':')[0]}"]}
            for o in overrides]
