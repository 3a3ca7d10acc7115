"""Drift between nodes: pure data in, entries and findings out.

Each node is its saved environment (the snapshot dict of its report). For every key of
the drift table (``rules/data/drift.yaml``) the nodes that know the value are compared
with a reference: the ``--golden`` node's value when given, else the majority. A tie has
no reference and is reported as such. Node order never matters: everything is sorted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from vlmdoctor.knowledge.drift_table import ClockRule, DriftKey, DriftTable

NOT_INSTALLED = "(not installed)"
UNSET = "(unset)"
_UNKNOWN = object()  # the node's section is missing: it takes no part in that comparison


@dataclass(frozen=True)
class NodeView:
    node: str
    environment: Mapping[str, Any]
    ranks: tuple[int, ...] = ()
    local_verdict: str | None = None
    clock_offset: float | None = None


@dataclass(frozen=True)
class DriftEntry:
    key: str
    id: str
    severity: str
    reference: str | None
    basis: str  # "majority" | "golden" | "none" (a tie)
    values: Mapping[str, str] = field(default_factory=dict)
    outliers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "id": self.id, "severity": self.severity,
                "reference": self.reference, "basis": self.basis,
                "values": dict(sorted(self.values.items())), "outliers": list(self.outliers)}


def value_at(environment: Mapping[str, Any], path: str) -> Any:
    """The comparable string at ``path``; ``_UNKNOWN`` when that section is unknown."""
    section, _, name = path.partition(".")
    if section not in environment:
        return _UNKNOWN
    data = environment[section]
    if section == "packages":
        if not isinstance(data, Mapping):
            return _UNKNOWN
        found = data.get(name)
        return str(found) if found is not None else NOT_INSTALLED
    if section == "env":
        if not isinstance(data, Mapping):
            return _UNKNOWN
        found = data.get(name)
        return str(found) if found is not None else UNSET
    if section == "gpus":
        return _gpu_value(data, name)
    if data is None:
        return "(none)"
    if not isinstance(data, Mapping) or data.get(name) is None:
        return _UNKNOWN
    return str(data[name])


def _gpu_value(data: Any, name: str) -> Any:
    if not isinstance(data, list):
        return _UNKNOWN
    gpus = [g for g in data if isinstance(g, Mapping) and not g.get("error")]  # usable ones
    if name == "count":
        return str(len(gpus))
    field_name = "name" if name == "names" else "compute_capability"
    counts = Counter(str(g.get(field_name) or "?") for g in gpus)
    return ", ".join(f"{n}x {v}" for v, n in sorted(counts.items())) or "(no GPU)"


def unusable_gpus(environment: Mapping[str, Any]) -> list[str]:
    """``GPU N`` for each GPU a node's snapshot marks unusable (``gpus[].error``, or an
    older report's ``unavailable["gpus[N]"]``)."""
    gpus, unavailable = environment.get("gpus"), environment.get("unavailable")
    found = {g.get("index") for g in gpus if isinstance(g, Mapping) and g.get("error")} \
        if isinstance(gpus, list) else set()
    if isinstance(unavailable, Mapping):
        found |= {k[5:-1] for k in unavailable if isinstance(k, str)
                  and k.startswith("gpus[") and k.endswith("]")}
    return [f"GPU {i}" for i in sorted(str(i) for i in found)]


def concrete_paths(table: DriftTable, nodes: Iterable[NodeView]) -> list[tuple[str, DriftKey]]:
    """Table keys with ``env.PREFIX*`` expanded to the names any node has."""
    views = list(nodes)
    out: list[tuple[str, DriftKey]] = []
    seen: set[str] = set()
    for key in table.keys:
        if not key.path.endswith("*"):
            paths = [key.path]
        else:
            section, _, prefix = key.path[:-1].partition(".")
            names = {n for v in views for n in _names(v.environment.get(section))
                     if n.startswith(prefix)}
            paths = [f"{section}.{n}" for n in sorted(names)]
        for path in paths:
            if path not in seen:
                seen.add(path)
                out.append((path, key))
    return out


def _names(section: Any) -> list[str]:
    return [str(k) for k in section] if isinstance(section, Mapping) else []


def analyse(nodes: Iterable[NodeView], table: DriftTable, golden: NodeView | None = None,
            model_packages: frozenset[str] = frozenset()) -> tuple[DriftEntry, ...]:
    views = sorted(nodes, key=lambda v: v.node)
    scope = [*views, golden] if golden is not None else views
    entries: list[DriftEntry] = []
    for path, key in concrete_paths(table, scope):
        values = {v.node: value_at(v.environment, path) for v in views}
        known = {n: val for n, val in values.items() if val is not _UNKNOWN}
        reference, basis = _reference(known, golden, path)
        if len(set(known.values()) | ({reference} if reference else set())) <= 1:
            continue
        outliers = tuple(sorted(n for n, val in known.items() if val != reference))
        severity = key.severity
        if key.model_error and path.partition(".")[2] in model_packages:
            severity = "error"
        entries.append(DriftEntry(path, key.id, severity, reference, basis, known, outliers))
    return tuple(entries)


def _reference(known: Mapping[str, str], golden: NodeView | None,
               path: str) -> tuple[str | None, str]:
    if golden is not None:
        value = value_at(golden.environment, path)
        if value is not _UNKNOWN:
            return str(value), "golden"
    counts = Counter(known.values()).most_common()
    if not counts:
        return None, "none"
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None, "none"
    return counts[0][0], "majority"


def clock_entry(nodes: Iterable[NodeView], rule: ClockRule) -> DriftEntry | None:
    offsets = {v.node: v.clock_offset for v in nodes if v.clock_offset is not None}
    late = tuple(sorted(n for n, off in offsets.items() if abs(off) > rule.warn_seconds))
    if not late:
        return None
    shown = {n: f"{off:+.3f} s" for n, off in offsets.items()}
    return DriftEntry("clock.offset", rule.id, "warning", "+0.000 s", "rank 0", shown, late)
