"""Facts about what the installed distributions declare (stack.*): pip check, offline."""

from __future__ import annotations

from typing import Any

from vlmdoctor.evaluate import requirements as rq
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.registry import fact
from vlmdoctor.shell import arg, word

# What every transformers-based VLM imports; with a model, its card's packages join.
# torchvision and torchaudio pin torch exactly and move with it: their pin is not a
# constraint on a torch fix; they join the command instead (pip picks the matching build).
FOLLOWERS = {"torch": ("torchvision", "torchaudio")}
CORE = frozenset({"torch", "torchvision", "transformers", "tokenizers", "safetensors",
                  "huggingface-hub", "accelerate", "numpy", "pillow"})


def _runtime_library(name: str) -> bool:
    """NVIDIA's CUDA library wheels: torch pins them exactly, but a newer build of the same
    major usually loads (pip check still flags it), so a mismatch is a warning."""
    return name.startswith("nvidia-")


def _core(ctx: Context) -> frozenset[str]:
    card = ctx.card.requirements.packages if ctx.card else ()
    return CORE | {req.package for req in card}


# Rules ask for these facts several times per evaluation; parse the snapshot once.
_LAST: list[Any] = [None, None]


def _state(ctx: Context) -> tuple[list[rq.Declared], list[rq.Unmet]] | None:
    if ctx.snapshot.requirements is None or ctx.section_unknown("packages"):
        return None
    if _LAST[0] is ctx.snapshot:
        return _LAST[1]  # type: ignore[no-any-return]
    declared = rq.applicable(ctx.snapshot)
    _LAST[:] = [ctx.snapshot, (declared, rq.unmet(ctx.snapshot, declared))]
    return _LAST[1]  # type: ignore[no-any-return]


def _card_constraints(ctx: Context) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    if ctx.card is None:
        return out
    for req in ctx.card.requirements.packages:
        if req.severity == "error":
            out.setdefault(req.package, []).append((f"{ctx.card.name} (model card)", req.spec))
    return out


def _plan(ctx: Context) -> tuple[str | None, list[dict[str, Any]]] | None:
    """One pip command for every unmet package, and the packages no version can satisfy."""
    state = _state(ctx)
    if state is None:
        return None
    declared, missed = state
    names = {u.declared.package for u in missed}
    by_name = rq.constraints(declared, names, _card_constraints(ctx))
    pins: list[str] = []
    impossible: list[dict[str, Any]] = []
    for name, pairs in by_name.items():
        followers = [f for f in FOLLOWERS.get(name, ()) if f in ctx.snapshot.packages]
        pairs = [(who, s) for who, s in pairs if who.split(" ")[0] not in followers]
        spec = rq.merged(s for _, s in pairs)
        if rq.satisfiable(spec):
            pins.append(arg(f"{name}{spec}") if str(spec) else word(name))
            pins.extend(f for f in followers if f not in names)
            continue
        core = _core(ctx)
        impossible.append({
            "package": name, "found": ctx.snapshot.packages.get(name),
            "requirers": "; ".join(f"{who} needs {name}{s or ' (any)'}" for who, s in pairs),
            "severity": "error" if any(w.split(" ")[0] in core for w, _ in pairs) else "warning",
        })
    return (f"pip install {' '.join(pins)}{_index(ctx, pins)}" if pins else None), impossible


def _index(ctx: Context, pins: list[str]) -> str:
    """Keep the CUDA build of torch when the fix moves torch."""
    torch = ctx.snapshot.torch
    local = (torch.version or "").partition("+")[2] if torch else ""
    if not local.startswith("cu") or not any(p.strip("'").startswith("torch") for p in pins):
        return ""
    return f" --extra-index-url https://download.pytorch.org/whl/{local}"


def _records(ctx: Context, missing: bool) -> Any:
    state, plan = _state(ctx), _plan(ctx)
    if state is None or plan is None:
        return UNKNOWN
    command, impossible = plan
    blocked = {i["package"] for i in impossible}
    core = _core(ctx)
    out = []
    for item in state[1]:
        if (item.found is None) != missing:
            continue
        d = item.declared
        severity = "error" if d.requirer in core and not _runtime_library(d.package) \
            else "warning"
        fix = command or "# no single set of versions satisfies these requirements"
        if d.package in blocked:
            fix = f"# no single {d.package} version satisfies every installed package: see " \
                  "package-requirements-incompatible"
        out.append({"package": d.package, "requirer": d.requirer,
                    "requirer_version": d.requirer_version, "spec": d.spec,
                    "requirement": d.text, "found": item.found, "severity": severity,
                    "fix": fix})
    return out


@fact("stack.requirements_unmet", "records",
      "Installed packages outside a range that another installed package declares (pip check)")
def _unmet(ctx: Context, _: str) -> Any:
    return _records(ctx, missing=False)


@fact("stack.requirements_missing", "records",
      "Packages that an installed package requires and that are not installed (pip check)")
def _missing(ctx: Context, _: str) -> Any:
    return _records(ctx, missing=True)


@fact("stack.requirements_incompatible", "records",
      "Packages for which no single version satisfies every installed package that needs them")
def _incompatible(ctx: Context, _: str) -> Any:
    plan = _plan(ctx)
    return UNKNOWN if plan is None else plan[1]
