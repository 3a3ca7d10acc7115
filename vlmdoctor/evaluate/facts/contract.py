"""transformers 5's contract for the model class from_pretrained builds: its __init__ must
reach PreTrainedModel.post_init(). From transformers 5.0 post_init() builds the model's
tied-weight table (``all_tied_weights_keys``) and loading reads it, so model code written
for transformers 4 that never calls post_init() stops with "object has no attribute
'all_tied_weights_keys'" (checked in the 4.57.6 and 5.0.0-5.25.0 wheels: 5.0.0 is the first
release that reads it).

Read from the remote code scan (``--model DIR`` or a cached repo): the classes config.json's
auto_map loads for ``AutoModel*``, and their base classes in the same code. A class whose
transformers base is a concrete model class (``LlamaForCausalLM``) gets post_init() from
that class's __init__; one built on ``PreTrainedModel`` itself (or a ``*PreTrainedModel``
base) must call it in its own code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts.registry import fact
from vlmdoctor.shell import arg

if TYPE_CHECKING:  # not imported on the gate's path (it pulls in ast)
    from vlmdoctor.modelcode.classes import ClassUse

FIRST = Version("5.0.0rc0")
_MAX_DEPTH = 16


def _chain(cls: ClassUse, by_name: dict[str, ClassUse]) -> list[ClassUse]:
    """``cls`` and its base classes defined in the same code (breadth first, each once)."""
    out: list[ClassUse] = []
    queue, seen = [cls], {cls.name}
    while queue and len(out) < _MAX_DEPTH:
        current = queue.pop(0)
        out.append(current)
        for base in current.bases:
            local = by_name.get(base)
            if local is not None and local.name not in seen:
                seen.add(local.name)
                queue.append(local)
    return out


def misses_post_init(cls: ClassUse, by_name: dict[str, ClassUse]) -> bool:
    """True when nothing in the class's own code reaches post_init(): it and its local bases
    never call it, and its transformers bases are PreTrainedModel (or *PreTrainedModel)."""
    chain = _chain(cls, by_name)
    bases = {b.split(":", 1)[1] for c in chain for b in c.bases if b.startswith("transformers:")}
    if not bases or not all(b.endswith("PreTrainedModel") for b in bases):
        return False
    return not any(use == "post_init" for c in chain for use, _ in c.uses)


def _targets(auto_map: Any) -> list[tuple[str, str]]:
    """(file, class) of every AutoModel* class config.json's auto_map loads from the code."""
    out = []
    for key, value in sorted(dict(auto_map or {}).items()):
        if key.startswith("AutoModel") and isinstance(value, str) and "." in value \
                and "--" not in value:  # "repo--module.Class" lives in another repo
            module, _, name = value.rpartition(".")
            out.append((module.replace(".", "/") + ".py", name))
    return out


@fact("model.code_post_init_missing", "records",
      "Model classes from_pretrained builds whose code never calls post_init(), under transformers 5")
def _post_init(ctx: Context, _: str) -> Any:
    facts = ctx.model.facts if ctx.model is not None else None
    scans = [s for s in ctx.code if s.classes]
    if facts is None or not facts.auto_map or not scans:
        return None
    if ctx.section_unknown("packages"):
        return UNKNOWN
    found = ctx.snapshot.packages.get("transformers")
    try:
        if found is None or Version(str(found)) < FIRST:
            return []
    except InvalidVersion:
        return UNKNOWN
    out = []
    for scan in scans:
        by_name = {c.name: c for c in scan.classes}
        for file, name in _targets(facts.auto_map):
            cls = next((c for c in scan.classes if c.name == name and c.file == file), None)
            if cls is None or not misses_post_init(cls, by_name):
                continue
            out.append({"package": "transformers", "found": str(found), "severity": "error",
                        "where": f"{cls.file}:{cls.line} {cls.name}",
                        "fix": [f"pip install {arg('transformers<5')}   # the model's code "
                                "predates transformers 5's post_init() contract",
                                f"# or end {cls.name}.__init__ in {cls.file} with "
                                "self.post_init()"]})
    return out
