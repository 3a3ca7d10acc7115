"""The one YAML loader: safe, C-accelerated when available, errors on one line.

Parsed data is cached as JSON beside the user's other caches, keyed by the file's path,
size and mtime, so the pre-job gate does not re-parse the rule base on every run
(``VLMDOCTOR_NO_CACHE=1`` turns it off; an unwritable cache directory is ignored).

A cache can never break a run: a cache entry is read only from a regular file (opened
non-blocking, so a FIFO cannot hang us), only when it names the file, size and mtime it
was made from, and anything else falls back to parsing. Directories are created only
under a parent that already exists (a nonexistent HOME is never created).
"""

from __future__ import annotations

import json
import os
import stat
import zlib
from pathlib import Path
from typing import Any

from vlmdoctor import __version__
from vlmdoctor.errors import InputError

MAX_CACHE_BYTES = 64 << 20


def cache_dir() -> Path | None:
    """Where parsed YAML is cached; None when off, or when the base's parent is missing."""
    if os.environ.get("VLMDOCTOR_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base) or not os.path.isdir(os.path.dirname(base.rstrip(os.sep))):
        return None
    return Path(base) / "vlmdoctor" / __version__


def _cache_file(path: Path) -> Path | None:
    root = cache_dir()
    if root is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    # abspath, not resolve(): no syscall per path component (a symlinked path gets its
    # own entry, which is harmless); crc32, not hashlib: hashlib costs the gate 4 ms.
    where = zlib.crc32(os.path.abspath(path).encode())
    return root / f"{path.stem}-{where:08x}-{st.st_size}-{st.st_mtime_ns}.json"


def load_yaml(path: Path, display: str | None = None) -> Any:
    cached = _cache_file(path)
    if cached is not None:
        entry = _read_entry(cached)
        if isinstance(entry, dict) and entry.get("source") == cached.name and "data" in entry:
            return entry["data"]
    data = parse_yaml(path, display)
    if cached is not None:
        _store(cached, {"source": cached.name, "data": data})
    return data


def _identity(path: Path) -> str:
    st = path.stat()
    return f"{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}"


def load_derived(paths: list[Path], tag: str, build: Any) -> Any:
    """``build()`` (JSON data derived from the files ``paths``), cached like parsed YAML:
    keyed by every file's path, size and mtime, so any change to any file rebuilds it."""
    root = cache_dir()
    if root is None:
        return build()
    try:
        key = "\0".join(_identity(p) for p in paths)
    except OSError:
        return build()
    cached = root / f"{tag}-{zlib.crc32(key.encode()):08x}-{len(paths)}.json"
    entry = _read_entry(cached)
    if isinstance(entry, dict) and entry.get("source") == key and "data" in entry:
        return entry["data"]
    data = build()
    _store(cached, {"source": key, "data": data})
    return data


def _read_entry(cached: Path) -> Any:
    """The cache entry, or None for anything but a readable regular file holding JSON."""
    try:
        fd = os.open(cached, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CACHE_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return json.loads(handle.read(MAX_CACHE_BYTES))
    except (OSError, ValueError, RecursionError):
        return None
    finally:
        os.close(fd)


def _store(target: Path, entry: dict[str, Any]) -> None:
    try:
        text = json.dumps(entry)
    except (TypeError, ValueError):
        return  # e.g. a YAML timestamp: fine, just not cached
    root = target.parent
    try:
        root.parent.parent.mkdir(exist_ok=True)  # the base; cache_dir() checked its parent
        root.mkdir(parents=True, exist_ok=True)
        temp = target.with_suffix(f".{os.getpid()}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(temp, flags, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
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
