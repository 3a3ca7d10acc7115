"""The model's code to scan: its remote-code files, or a report's saved scans (replay)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlmdoctor.errors import InputError

if TYPE_CHECKING:  # the scanner (ast and friends) loads only when there is code to scan
    from vlmdoctor.modelcode.scan import CodeScan


def remote_code(root: Path | None, files: Sequence[str]) -> tuple[CodeScan, ...]:
    """Scan the remote-code ``*.py`` files (relative to the model directory ``root``)."""
    if root is None or not files:
        return ()
    from vlmdoctor.modelcode.scan import REMOTE_CODE, scan_files

    return (scan_files(root, [root / f for f in files], REMOTE_CODE),)


def saved_code(raw: Any, source: str) -> tuple[CodeScan, ...]:
    """``target.code`` of a saved report: a list of scans; absent means none was made."""
    if raw is None:
        return ()
    from vlmdoctor.modelcode.scan import CodeScan

    try:
        if not isinstance(raw, list):
            raise TypeError("expected a list")
        return tuple(CodeScan.from_dict(item) for item in raw)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise InputError(f"{source}: target.code is malformed ({exc})") from None


def package_code(names: Sequence[str]) -> tuple[CodeScan, ...]:
    """Scan the installed model packages ``names`` (import names) that are present here."""
    from vlmdoctor.modelcode.locate import find_package

    scans = []
    for name in names:
        root = find_package(name)
        if root is not None:
            from vlmdoctor.modelcode.scan import scan_dir

            scans.append(scan_dir(root, origin=f"package {name}", package=name))
    return tuple(scans)
