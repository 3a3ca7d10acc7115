"""What to do instead when the plan breaks an installed package: change that package too
(pip's resolver says to which release; vlmdoctor knows only the installed one's metadata),
or give the model an environment of its own, with the commands."""

from __future__ import annotations

import re
import shlex
from typing import Iterable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from vlmdoctor.evaluate.context import Context
from vlmdoctor.evaluate.requirements import merged
from vlmdoctor.fixplan.model import Alternative, Breakage, Requirement, install_line, quoted
from vlmdoctor.fixplan.versions import possible

PYTHONS = ("3.12", "3.11", "3.10", "3.9", "3.8")  # newest first: what a new venv should use
TORCH_BUILD = ("torch", "torchvision", "torchaudio")
_CUDA_TAG = re.compile(r"cu[0-9]{2,4}")


def alternatives(ctx: Context, breaks: Iterable[Breakage], requirements: tuple[Requirement, ...],
                 index_url: str | None, extra: bool) -> tuple[Alternative, ...]:
    breaks = tuple(breaks)
    if not breaks:
        return ()
    out: list[Alternative] = []
    wanted = {r.package: r.text for r in requirements}
    for requirer in dict.fromkeys(b.requirer for b in breaks):
        mine = [b for b in breaks if b.requirer == requirer]
        pins = list(dict.fromkeys(wanted.get(b.package, b.package) for b in mine
                                  if b.change != "removed"))
        what = ", ".join(f"{b.package} removed" if b.change == "removed"
                         else f"{b.package}{b.change}" for b in mine)
        version = mine[0].version
        summary = (f"change {requirer} too, to a release whose requirements allow {what}: "
                   f"vlmdoctor knows only the installed {requirer} {version}'s requirements, so "
                   "ask pip's resolver which release that is (--dry-run installs nothing), "
                   "or run check --resolve")
        command = " ".join(["pip install --dry-run", *(quoted(p) for p in pins),
                            shlex.quote(requirer)])
        out.append(Alternative("change-too", summary, (command,)))
    model = ctx.card.id if ctx.card is not None else "model"
    out.append(Alternative(
        "separate-environment",
        f"keep {', '.join(dict.fromkeys(b.requirer for b in breaks))} here and run {model} "
        "in an environment of its own",
        separate_environment(ctx, requirements, index_url, extra)))
    return tuple(out)


def separate_environment(ctx: Context, requirements: tuple[Requirement, ...],
                         index_url: str | None, extra: bool) -> tuple[str, ...]:
    """A fresh venv with the plan's requirements, the model's own error-level pins, and the
    installed torch build (kept unless the plan changes it)."""
    snapshot, card = ctx.snapshot, ctx.card
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", card.id if card is not None else "").strip("-.")
    name = name or "vlm"
    pins: dict[str, str] = {r.package: r.spec for r in requirements}
    for req in card.requirements.packages if card is not None else ():
        if req.severity != "error":
            continue
        spec = merged([pins.get(req.package, ""), req.spec])
        if req.package not in pins or possible(spec):
            pins[req.package] = str(spec)
    if not any(p in pins for p in TORCH_BUILD):
        for package in TORCH_BUILD:
            version = _public(snapshot.packages.get(package))
            if version is not None:
                base, _, local = version.partition("+")
                pins[package] = f"=={base}"
                if _CUDA_TAG.fullmatch(local) and index_url is None:
                    from vlmdoctor.evaluate.derive import INDEX_URL

                    index_url, extra = INDEX_URL.format(tag=local), True
    if index_url and any(p not in TORCH_BUILD for p in pins):
        extra = True
    path = f"~/.venvs/{name}"
    commands = [f"{_python(ctx)} -m venv {path}", f". {path}/bin/activate",
                install_line([f"{p}{s}" for p, s in pins.items()], index_url, extra)]
    if card is not None and card.requirements.needs_repo_install:
        commands.append(card.requirements.needs_repo_install)
    return tuple(commands)


def _public(version: str | None) -> str | None:
    """The version as packaging normalises it (a report's text is untrusted), or None."""
    try:
        return str(Version(version)) if version else None
    except InvalidVersion:
        return None


def _python(ctx: Context) -> str:
    """The diagnosed Python's X.Y when the model allows it, else the newest it allows."""
    spec_text = ctx.card.requirements.python.spec if (
        ctx.card is not None and ctx.card.requirements.python is not None) else ""
    try:
        spec = SpecifierSet(spec_text)
    except InvalidSpecifier:
        spec = SpecifierSet()
    python = ctx.snapshot.python.version if ctx.snapshot.python else None
    here = ".".join((python or "").split(".")[:2])
    if re.fullmatch(r"[0-9]+\.[0-9]+", here) and spec.contains(f"{here}.0", prereleases=True):
        return f"python{here}"
    return next((f"python{v}" for v in PYTHONS if spec.contains(f"{v}.0")), "python3")
