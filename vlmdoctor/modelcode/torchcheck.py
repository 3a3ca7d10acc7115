"""What the torch release index says about a model's code: its unguarded imports from torch.

A pure function of (code scans, the torch version, the index). A version the index cannot
place (newer than its newest release line, older than its first) gives no claim.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vlmdoctor.modelcode.scan import CodeScan, ImportSite
from vlmdoctor.torchindex.index import TorchIndex
from vlmdoctor.torchindex.spans import Span, change_text, covers, positions, window

# Attributes of torch that the import system also serves, though no file defines them.
DYNAMIC_MODULES = ("torch.ops", "torch.classes", "torch._C.")


def needed(site: ImportSite) -> list[tuple[str, str]]:
    """(module, name) pairs an import needs; name "" means the module itself."""
    names = [n for n in site.names if n != "*"]
    return [(site.module, n) for n in names] or [(site.module, "")]


def present_spans(index: TorchIndex, module: str, name: str) -> list[Span] | None:
    """Releases where the import works; None when the index cannot tell."""
    if module.startswith(DYNAMIC_MODULES) or module in DYNAMIC_MODULES:
        return None
    module_spans = index.module_spans(module)
    if not name:
        return module_spans
    if not module_spans:
        return []  # the module itself exists in no indexed release
    if not index.names_indexed(module):
        return None
    spans = index.name_spans(module, name)
    if not spans:
        return None  # never seen: a name made at run time the index cannot see (no claim)
    return [(max(a, ma), min(b, mb)) for a, b in spans for ma, mb in module_spans
            if max(a, ma) <= min(b, mb)]


def torch_import_problems(index: TorchIndex, scans: Iterable[CodeScan],
                          version: str) -> dict[str, Any] | None:
    """The unguarded torch imports ``version`` cannot satisfy, and the window of all of them."""
    pos = index.position(version)
    if pos is None:
        return None
    missing: list[dict[str, Any]] = []
    common = set(range(len(index.releases)))
    for scan in scans:
        for site in scan.imports:
            if site.top != "torch" or site.guard or site.local:
                continue
            if "*" in site.names:
                for record, star in _star_problems(index, scan, site, pos):
                    common &= positions(star)
                    if record is not None:
                        missing.append(record)
            for module, name in needed(site):
                spans = present_spans(index, module, name)
                if spans is None:
                    continue
                common &= positions(spans)
                if covers(spans, pos):
                    continue
                dotted = f"{module}.{name}" if name else module
                module_spans = index.module_spans(module)
                if name and not covers(module_spans, pos):
                    dotted, spans = module, module_spans  # the module is missing: say that
                where = f"{site.file}:{site.line}"
                if any(m["import"] == dotted and m["where"] == where for m in missing):
                    continue
                missing.append({"where": where, "import": dotted,
                                "present": index.span_text(spans),
                                "change": change_text("torch", index.releases, spans, pos)})
    if not missing:
        return None
    spec, releases = window(index.releases, common)
    return {"missing": missing, "spec": spec, "releases": releases}


def _star_problems(index: TorchIndex, scan: CodeScan, site: ImportSite, pos: int
                   ) -> Iterable[tuple[dict[str, Any] | None, list[Span]]]:
    """The names a file reads from ``from torch... import *`` that the star import gives in
    some releases only. A name another star import in the file may give is left alone."""
    others = [s for s in scan.imports if s.file == site.file and "*" in s.names and s != site]
    for name in site.star_uses:
        spans = index.star_spans(site.module, name)
        if not spans:
            continue  # not from this module (or unknown): no claim
        if any(_may_give(index, other, name, pos) for other in others):
            continue
        record = None
        if not covers(spans, pos):
            record = {"where": f"{site.file}:{site.line}",
                      "import": f"{site.module}.{name} (through from {site.module} import *)",
                      "present": index.span_text(spans),
                      "change": change_text("torch", index.releases, spans, pos)}
        yield record, spans


def _may_give(index: TorchIndex, other: ImportSite, name: str, pos: int) -> bool:
    if other.top != "torch":
        return True  # another package's star import: it may give the name
    spans = index.star_spans(other.module, name)
    return spans is None or covers(spans, pos)
