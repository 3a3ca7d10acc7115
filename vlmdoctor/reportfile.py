"""Reading a saved report (or a bare snapshot) back for `--from-report`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlmdoctor.errors import InputError
from vlmdoctor.record import record
from vlmdoctor.snapshot import Snapshot


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
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{shown}: is a directory, not a report file") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{shown}: not UTF-8 text (expected a vlmdoctor JSON report)") from None
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{shown}: malformed JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise InputError(f"{shown}: malformed JSON: nested too deeply "
                         "(a vlmdoctor report is a few levels deep)") from None
    except ValueError as exc:  # e.g. an integer with more than 4300 digits
        raise InputError(f"{shown}: malformed JSON: {exc}") from None
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
