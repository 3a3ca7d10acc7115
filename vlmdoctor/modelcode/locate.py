"""Find an installed model package's source directory without importing it.

Looks on ``sys.path`` for ``NAME/`` (regular and old-style editable installs, whose ``.pth``
puts the checkout on the path), then through ``*.dist-info``: ``top_level.txt`` or the
``RECORD`` naming the package, and for editable installs ``direct_url.json`` (the checkout)
or the setuptools ``__editable___*_finder.py`` ``MAPPING``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse


def find_package(name: str, paths: Iterable[str] | None = None) -> Path | None:
    entries = [Path(p or ".") for p in (sys.path if paths is None else paths)]
    for entry in entries:
        candidate = entry / name
        if _is_package(candidate):
            return candidate
    for entry in entries:
        for info in _install_records(entry):
            found = _from_finder(info, name) if info.suffix == ".py" else _from_dist_info(info, name)
            if found is not None:
                return found
    return None


def _install_records(entry: Path) -> list[Path]:
    """The ``*.dist-info`` directories, then the setuptools ``__editable___*finder.py``
    files, in ``entry`` (sorted; one directory listing, not two globs: this runs on the
    gate's path for every sys.path entry)."""
    try:
        with os.scandir(entry) as listing:
            names = [e.name for e in listing]
    except OSError:
        return []
    infos = sorted(n for n in names if n.endswith(".dist-info"))
    finders = sorted(n for n in names
                     if n.startswith("__editable___") and n.endswith("finder.py"))
    return [entry / n for n in (*infos, *finders)]


def _is_package(path: Path) -> bool:
    try:
        return path.is_dir() and (path / "__init__.py").is_file()
    except OSError:
        return False


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.stat().st_size < 4_000_000 else ""
    except OSError:
        return ""


def _from_dist_info(info: Path, name: str) -> Path | None:
    # A distribution installed from a wheel puts the package beside its dist-info, on
    # sys.path, where the first loop already looked; only an install that points elsewhere
    # (direct_url.json: an editable or local checkout) can add a place. Reading RECORD of
    # every distribution would cost the gate ~20 ms for nothing.
    if not (info / "direct_url.json").is_file():
        return None
    tops = _read(info / "top_level.txt").split()
    record = _read(info / "RECORD")
    if name not in tops and f"\n{name}/__init__.py," not in f"\n{record}":
        return None
    direct = _read(info / "direct_url.json")
    try:
        url = json.loads(direct).get("url", "") if direct else ""
    except ValueError:
        url = ""
    if url.startswith("file://"):
        checkout = Path(unquote(urlparse(url).path))
        if _is_package(checkout / name):
            return checkout / name
    return info.parent / name if _is_package(info.parent / name) else None


def _from_finder(finder: Path, name: str) -> Path | None:
    import ast  # only for a setuptools editable finder

    try:
        tree = ast.parse(_read(finder))
    except SyntaxError:
        return None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "MAPPING"
                                                 for t in node.targets)):
            try:
                mapping = ast.literal_eval(node.value)
            except ValueError:
                return None
            target = mapping.get(name) if isinstance(mapping, dict) else None
            if isinstance(target, str) and _is_package(Path(target)):
                return Path(target)
    return None
