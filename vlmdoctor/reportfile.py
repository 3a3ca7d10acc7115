"""Reading a saved report (or a bare snapshot) back for `--from-report`."""

from __future__ import annotations

from typing import Any

from vlmdoctor.errors import InputError
from vlmdoctor.jsonfile import read_json_file
from vlmdoctor.record import record
from vlmdoctor.snapshot import Snapshot

MAX_REPORT_BYTES = 256 << 20


@record
class SavedEnvironment:
    snapshot: Snapshot
    redactions: tuple[str, ...]
    target_model: str | None
    target_dtype: str | None
    probe: dict[str, Any] | None = None
    target: dict[str, Any] | None = None  # the whole saved target (source, model facts)
    path: str = ""


def read_saved(path: str) -> SavedEnvironment:
    shown = path
    try:
        data: Any = read_json_file(path, shown, MAX_REPORT_BYTES, "vlmdoctor report")
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file") from None
    if not isinstance(data, dict):
        raise InputError(f"{shown}: expected a JSON object (a vlmdoctor report or snapshot)")
    if "environment" in data:
        if data.get("schema_version", 1) != 1:
            raise InputError(f"{shown}: unsupported report schema_version "
                             f"{data.get('schema_version')!r} (this vlmdoctor reads 1)")
        raw_target = data.get("target")
        target: dict[str, Any] = raw_target if isinstance(raw_target, dict) else {}
        redactions = data.get("redactions") or []
        return SavedEnvironment(
            snapshot=Snapshot.from_dict(data["environment"], source=shown),
            redactions=tuple(str(r) for r in redactions) if isinstance(redactions, list) else (),
            target_model=_opt_str(target.get("model")),
            target_dtype=_opt_str(target.get("dtype")),
            probe=data["probe"] if isinstance(data.get("probe"), dict) else None,
            target=target,
            path=shown,
        )
    if not any(key in data for key in ("host", "packages", "driver", "gpus", "torch")):
        raise InputError(f"{shown}: not a vlmdoctor report or snapshot "
                         "(no 'environment', 'host', 'packages' or 'gpus' key)")
    return SavedEnvironment(Snapshot.from_dict(data, source=shown), (), None, None, path=shown)


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
