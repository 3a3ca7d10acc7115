"""A changed transformers must still carry what the model needs: the names its code imports
and the model_types it registers, per the committed release index (tfindex)."""

from __future__ import annotations

from packaging.specifiers import SpecifierSet

from vlmdoctor.evaluate.context import Context
from vlmdoctor.fixplan.model import IndexProblem, Requirement


def index_problems(ctx: Context, requirements: tuple[Requirement, ...]) -> tuple[IndexProblem, ...]:
    req = next((r for r in requirements if r.package == "transformers"), None)
    if req is None or not req.spec:
        return ()
    from vlmdoctor.evaluate.facts.code import index_or_none, model_types

    types = model_types(ctx)
    if not types and not ctx.code:
        return ()  # nothing the index could speak to: do not load it
    index = index_or_none()
    if index is None:
        return ()
    spec = SpecifierSet(req.spec)
    matching = [v for v in index.releases if spec.contains(v)]
    if not matching:
        return (IndexProblem("transformers", None,
                             f"no release in vlmdoctor's transformers index "
                             f"({index.releases[0]} to {index.newest}) matches {req.spec}"),)
    chosen = matching[-1]  # what pip would pick
    pos = index.position(chosen)
    out: list[IndexProblem] = []
    for model_type in types:
        spans = index.model_type_spans(model_type)
        if spans and pos is not None and not any(a <= pos <= b for a, b in spans):
            out.append(IndexProblem(
                "transformers", chosen,
                f"transformers {chosen} (the newest release matching {req.spec}) does not "
                f"register model_type {model_type!r} (in transformers {index.span_text(spans)})"))
    if ctx.code:
        from vlmdoctor.modelcode.tfcheck import code_name_problems

        found = code_name_problems(index, ctx.code, chosen)
        if found is not None:
            out.append(IndexProblem("transformers", chosen,
                                    f"under the plan's transformers{req.spec}: {found['why']}"))
    return tuple(out)
