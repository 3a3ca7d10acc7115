"""The cross-node drift table (``rules/data/drift.yaml``), validated as it loads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vlmdoctor.errors import RuleError
from vlmdoctor.knowledge import schema as s
from vlmdoctor.yamlio import load_yaml


@dataclass(frozen=True)
class DriftKey:
    path: str
    id: str
    severity: str
    why: str
    references: tuple[str, ...] = ()
    model_error: bool = False


@dataclass(frozen=True)
class ClockRule:
    id: str
    warn_seconds: float
    why: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class DriftTable:
    keys: tuple[DriftKey, ...]
    clock: ClockRule



_SEVERITY = s.OneOf(("error", "warning", "info"))
_REFS = s.ListOf(s.STR, min_items=1)
_SCHEMA = s.Record({
    "schema_version": s.req(s.OneOf((1,))),
    "keys": s.req(s.ListOf(s.Record({
        "path": s.req(s.STR), "id": s.req(s.STR), "severity": s.req(_SEVERITY),
        "why": s.req(s.STR), "references": s.req(_REFS), "model_error": s.opt(s.BOOL, False),
    }), min_items=1)),
    "clock": s.req(s.Record({
        "id": s.req(s.STR), "warn_seconds": s.req(s.NUMBER), "why": s.req(s.STR),
        "references": s.req(_REFS),
    })),
})
_SECTIONS = ("packages", "env", "gpus", "driver", "torch", "python", "host", "cuda_toolkit")


def load_drift_table(rules_root: Path) -> DriftTable:
    path = rules_root / "data" / "drift.yaml"
    shown = f"rules/data/{path.name}"
    try:
        data = _SCHEMA.check(load_yaml(path, shown), "")
    except s.SchemaError as exc:
        raise RuleError(shown, exc.path, exc.problem) from None
    keys = []
    for index, raw in enumerate(data["keys"]):
        section = raw["path"].partition(".")[0]
        if section not in _SECTIONS or "." not in raw["path"]:
            raise RuleError(shown, f"keys[{index}].path",
                            f"{raw['path']!r} is not SECTION.NAME with a snapshot section")
        if not raw["id"].startswith("cluster-"):
            raise RuleError(shown, f"keys[{index}].id", "drift ids start with 'cluster-'")
        keys.append(DriftKey(raw["path"], raw["id"], raw["severity"], " ".join(raw["why"].split()),
                             tuple(raw["references"]), raw["model_error"]))
    clock = data["clock"]
    return DriftTable(tuple(keys), ClockRule(clock["id"], float(clock["warn_seconds"]),
                                             " ".join(clock["why"].split()),
                                             tuple(clock["references"])))
