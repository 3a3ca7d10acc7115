"""Facts the release indexes give: the model code's torch imports, explain's answers, and
which needed index could not be read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vlmdoctor.errors import InputError
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.registry import fact

if TYPE_CHECKING:  # the index loads only when the code imports from torch
    from vlmdoctor.torchindex.index import TorchIndex

CODE_SKIPPED = "the model code's torch imports were not checked"


def torch_version(ctx: Context) -> str | None:
    if ctx.snapshot.torch is not None and ctx.snapshot.torch.version:
        return ctx.snapshot.torch.version
    return ctx.snapshot.packages.get("torch")


def imports_torch(ctx: Context) -> bool:
    """Whether the code imports anything from torch beyond a bare ``import torch``."""
    return any(site.top == "torch" and not site.guard and not site.local
               and (site.module != "torch" or site.names)
               for scan in ctx.code for site in scan.imports)


def torch_index() -> tuple[TorchIndex | None, str | None]:
    """The torch index and None, or None and why it cannot be read (one line)."""
    from vlmdoctor.torchindex.index import load_index

    try:
        index = load_index()
        index.names("torch")  # the names file: read now, so a broken one is said here
        return index, None
    except InputError as exc:
        return None, str(exc)


@fact("model.code_torch_imports", "records",
      "Unguarded imports from torch in the model's code that the installed torch lacks")
def _code_torch(ctx: Context, _: str) -> Any:
    if "packages" in ctx.snapshot.unknown and ctx.snapshot.torch is None:
        return UNKNOWN
    version = torch_version(ctx)
    if version is None or not imports_torch(ctx):
        return []
    index, _problem = torch_index()
    if index is None:
        return []  # said once by index-unavailable
    from vlmdoctor.evaluate.torch_window import window_fix
    from vlmdoctor.modelcode.torchcheck import torch_import_problems

    found = torch_import_problems(index, ctx.code, version)
    if found is None:
        return []
    fix = window_fix(ctx.snapshot, ctx.tables, found["spec"], found["releases"])
    window = (f"torch{found['spec']} has every torch name the code imports"
              if found["spec"] else "no indexed torch release has every torch name it imports")
    return [{**m, "package": "torch", "found": version, "spec": found["spec"] or "", "fix": fix,
             "why": f"Across the model's code, {window}."} for m in found["missing"]]


@fact("index.unavailable", "records",
      "Release indexes that were needed but could not be read, and the checks skipped")
def _unavailable(ctx: Context, _: str) -> Any:
    out = []
    if imports_torch(ctx) and torch_version(ctx) is not None:
        problem = torch_index()[1]
        if problem is not None:
            out.append({"package": "torch", "why": problem, "skipped": CODE_SKIPPED})
    if ctx.text:
        from vlmdoctor.evaluate.index_questions import unavailable_for_text

        out += unavailable_for_text(ctx.text)
    return out


@fact("explain.index_answers", "records",
      "Names, modules and model types an error text says are missing, as the indexes know them")
def _index_answers(ctx: Context, _: str) -> Any:
    if not ctx.text:
        return []
    from vlmdoctor.evaluate.index_questions import answers

    return answers(ctx.text, ctx.snapshot, ctx.tables)
