"""Serving engines vs the model: does the installed vLLM, SGLang or LMDeploy serve the
model's architecture? Answered from the engine index (which release registers each
architecture, read from the engines' own release artefacts), for any model whose
architectures are known: from its ``config.json``, else from its card.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from vlmdoctor.errors import InputError
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.registry import fact
from vlmdoctor.shell import arg

if TYPE_CHECKING:
    from vlmdoctor.engines.index import EngineIndex, EngineReleases

ENGINES = {"vllm": "vLLM", "sglang": "SGLang", "lmdeploy": "LMDeploy"}
REFERENCES = {
    "vllm": ["https://docs.vllm.ai/en/latest/models/supported_models.html",
             "https://github.com/vllm-project/vllm/blob/main/vllm/model_executor/models/registry.py"],
    "sglang": ["https://docs.sglang.ai/supported_models/generative_models.html",
               "https://github.com/sgl-project/sglang/tree/main/python/sglang/srt/models"],
    "lmdeploy": ["https://lmdeploy.readthedocs.io/en/latest/supported_models/supported_models.html",
                 "https://github.com/InternLM/lmdeploy/blob/main/lmdeploy/pytorch/models/module_map.py"],
}


def model_architectures(ctx: Context) -> list[str]:
    """The architectures the model's checkpoint declares (config.json), else its card's."""
    facts = ctx.model.facts if ctx.model is not None else None
    if facts is not None and facts.architectures:
        return list(facts.architectures)
    return list(ctx.card.hf_architectures) if ctx.card is not None else []


def _index() -> EngineIndex | None:
    from vlmdoctor.engines.index import load_engine_index

    try:
        return load_engine_index()
    except InputError:
        return None


def _pins(rel: EngineReleases, version: str) -> str:
    pins = rel.pins.get(version) or {}
    shown = [f"{name}{spec}" for name, spec in sorted(pins.items()) if spec]
    return f" ({ENGINES[rel.engine]} {version} pins {' and '.join(shown)})" if shown else ""


def _record(rel: EngineReleases, found: str, archs: list[str], pos: int) -> dict[str, Any] | None:
    if any(rel.serves(a, pos) for a in archs):
        return None
    name, shown = ENGINES[rel.engine], " / ".join(archs)
    usable = [p for a in archs for s in rel.spans(a) for p in range(s[0], s[1] + 1)
              if rel.releases[p] not in rel.yanked]
    assumed = (f" The index knows {name} releases up to {rel.releases[-1]}; {found} was "
               f"checked as that release." if rel.newer_than_index(found) else "")
    later, earlier = [p for p in usable if p > pos], [p for p in usable if 0 <= p < pos]
    record: dict[str, Any] = {"package": rel.engine, "found": found, "architecture": shown,
                              "references": REFERENCES[rel.engine], "severity": "warning"}
    if later:
        first = rel.releases[min(later)]
        record.update(spec=f">={first}", why=(
            f"{name} registers {shown} (the model's architecture, from its config.json) "
            f"from release {first} on; {found} does not, so loading it fails with an "
            f"error like \"Model architectures ['{archs[0]}'] are not supported\"."
            f"{assumed}"),
            fix=[f"pip install {arg(f'{rel.engine}>={first}')}   # the first release that "
                 f"serves it{_pins(rel, first)}"])
    elif earlier:
        last = rel.releases[max(earlier)]
        gone = rel.releases[max(earlier) + 1]
        record.update(spec=f"<={last}", why=(
            f"{name} served {shown} up to release {last} and no longer registers it from "
            f"{gone} on, so {found} cannot load this model.{assumed}"),
            fix=[f"pip install {arg(f'{rel.engine}=={last}')}   # the last release that "
                 f"serves it{_pins(rel, last)}"])
    else:
        record.update(severity="info", spec="", why=(
            f"No {name} release up to {rel.releases[-1]} registers {shown}, so {name} "
            f"{found} cannot serve this model natively (vLLM's Transformers backend, "
            f"--model-impl transformers, covers some models it does not register).{assumed}"),
            fix=[f"# serve {shown} with transformers, or with an engine that registers it"])
    return record


@fact("engines.model_unserved", "records",
      "Installed serving engines (vLLM, SGLang, LMDeploy) whose release does not register the model's architecture")
def _unserved(ctx: Context, _: str) -> Any:
    if ctx.section_unknown("packages"):
        return UNKNOWN
    installed = {e: ctx.snapshot.packages[e] for e in ENGINES if ctx.snapshot.packages.get(e)}
    archs = model_architectures(ctx)
    if not installed or not archs:
        return []
    index = _index()
    if index is None:
        return UNKNOWN
    out = []
    for engine, found in sorted(installed.items()):
        rel = index.engines.get(engine)
        pos = rel.position(str(found)) if rel is not None else None
        record = None if rel is None or pos is None else _record(rel, str(found), archs, pos)
        if record is not None:
            out.append(record)
    return out


# vLLM's refusal (ModelRegistry): "Model architectures ['X'] are not supported for now."
_REFUSED = re.compile(r"Model architectures \[([^\]\n]{1,2000})\] are not supported")
_QUOTED = re.compile(r"'([A-Za-z][A-Za-z0-9_]{0,100})'")


@fact("explain.engine_unserved", "records",
      "vLLM's 'Model architectures [...] are not supported' in the explained text, answered from the engine index")
def _explained(ctx: Context, _: str) -> Any:
    match = _REFUSED.search(ctx.text or "")
    if match is None:
        return []
    archs = _QUOTED.findall(match.group(1))
    index = _index() if archs else None
    rel = index.engines.get("vllm") if index is not None else None
    if rel is None:
        return []
    found = str(ctx.snapshot.packages.get("vllm") or "") if not ctx.section_unknown("packages") else ""
    pos = rel.position(found) if found else None
    if pos is not None:
        record = _record(rel, found, archs, pos)
        return [dict(record, severity="error")] if record is not None else []
    # vLLM is not in this environment (or older than the index): the releases that serve it.
    record = _record(rel, found or "(not installed here)", archs, -1)
    return [dict(record, severity="error")] if record is not None else []
