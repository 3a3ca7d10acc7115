"""The one YAML loader: safe, C-accelerated when available, errors on one line.

Parsed data is cached as JSON beside the user's other caches, keyed by the file's path,
size and mtime, so the pre-job gate does not re-parse the rule base on every run
(``VLMDOCTOR_NO_CACHE=1`` turns it off; an unwritable cache directory is ignored).
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

from vlmdoctor import __version__
from vlmdoctor.errors import InputError


def cache_dir() -> Path | None:
    if os.environ.get("VLMDOCTOR_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vlmdoctor" / __version__


def _cache_file(path: Path) -> Path | None:
    root = cache_dir()
    if root is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    where = zlib.crc32(str(path.resolve()).encode())  # cheap: hashlib costs the gate 4 ms
    return root / f"{path.stem}-{where:08x}-{st.st_size}-{st.st_mtime_ns}.json"


def load_yaml(path: Path, display: str | None = None) -> Any:
    cached = _cache_file(path)
    if cached is not None:
        try:
            return json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    data = parse_yaml(path, display)
    if cached is not None:
        _store(cached, data)
    return data


def _store(target: Path, data: Any) -> None:
    try:
        text = json.dumps(data)
    except (TypeError, ValueError):
        return  # e.g. a YAML timestamp: fine, just not cached
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, target)
    except OSError:
        pass


def parse_yaml(path: Path, display: str | None = None) -> Any:
    import yaml  # only when the cache misses

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InputError(f"{name}: malformed YAML: {where}{problem}") from None
