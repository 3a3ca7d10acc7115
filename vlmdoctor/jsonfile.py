"""The one bounded JSON reader every input goes through: files, headers, reports, payloads.

A JSON input from a user, a model directory or a peer node is untrusted. Each reader
says how large its input may be; this module refuses, with a one-line ``InputError`` that
names the file and the field:
- a path that is not a regular file (a FIFO would block ``open``, ``/dev/zero`` never
  ends, a directory is no JSON), checked on the opened descriptor without blocking;
- more bytes than the reader's limit (read at most limit + 1 bytes, never the whole);
- text that is not UTF-8, ``NaN``/``Infinity`` (not JSON, RFC 8259 section 6), integers
  beyond ``MAX_INT_DIGITS`` digits (Python's int conversion limit is 4300 digits);
- nesting deeper than ``MAX_DEPTH``, a key longer than ``MAX_KEY_BYTES`` bytes, and a
  NUL character or a lone surrogate in any key or string (they break terminals, file
  names and UTF-8 output later).
The checks walk the value once, iteratively: linear in the input, no recursion.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from typing import Any

from vlmdoctor.errors import InputError

MAX_DEPTH = 64
MAX_KEY_BYTES = 255
MAX_INT_DIGITS = 64
MAX_STRING = 1 << 20
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


def read_json_file(path: str | os.PathLike[str], shown: str, max_bytes: int,
                   what: str = "JSON file") -> Any:
    """Parse the file at ``path``; FileNotFoundError passes through (callers decide)."""
    raw = read_bounded(path, shown, max_bytes, what)
    return parse_json(raw, shown, what)


def read_bounded(path: str | os.PathLike[str], shown: str, max_bytes: int,
                 what: str = "file") -> bytes:
    """At most ``max_bytes`` of a regular file, never blocking on a FIFO or device."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise InputError(f"{shown}: is a directory, not a {what}") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
            raise InputError(f"{shown}: is {kind}, not a {what}")
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > max_bytes:
        raise InputError(f"{shown}: larger than {_size(max_bytes)}; not a {what}")
    return raw


def read_gz_json(path: str | os.PathLike[str], max_bytes: int, what: str) -> Any:
    """A generated ``*.json.gz`` data file read through ``read_bounded``; a missing,
    truncated or undecodable file is one InputError naming it."""
    import gzip

    shown = str(path)
    try:
        return json.loads(gzip.decompress(read_bounded(path, shown, max_bytes, what)))
    except (OSError, ValueError, EOFError) as exc:  # FileNotFoundError and bad gzip included
        raise InputError(f"{shown}: cannot read the {what} ({exc})") from None


def parse_json(raw: bytes | str, shown: str, what: str = "JSON") -> Any:
    """Parse and check JSON text; every refusal names ``shown`` and, where one, the field."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise InputError(f"{shown}: not UTF-8 text (byte {exc.start}); expected {what}") from None
    try:
        value = json.loads(text, parse_constant=_constant, parse_int=_integer,
                           parse_float=_float)
    except _Refused as exc:
        raise InputError(f"{shown}: malformed JSON: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{shown}: malformed JSON: line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg}") from None
    except RecursionError:
        raise InputError(f"{shown}: malformed JSON: nested more than {MAX_DEPTH} levels") \
            from None
    except ValueError as exc:
        raise InputError(f"{shown}: malformed JSON: {str(exc)[:200]}") from None
    problem = check_value(value)
    if problem:
        raise InputError(f"{shown}: {problem}")
    return value


def check_value(value: Any) -> str | None:
    """Why an already-parsed JSON value is refused (its field named), or None."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, where, depth = stack.pop()
        if len(where) > 120:
            where = where[:100] + "..."
        if depth > MAX_DEPTH:
            return f"{where or 'the top level'}: nested more than {MAX_DEPTH} levels"
        if isinstance(item, float) and not math.isfinite(item):
            return f"{where or 'the value'}: {item} is not a JSON number"
        if isinstance(item, str):
            if len(item) > MAX_STRING:
                return f"{where or 'the value'}: a string longer than {_size(MAX_STRING)}"
            if _BAD_CHARS.search(item):
                return f"{where or 'the value'}: contains a NUL character or a lone surrogate"
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{where}.{_short(key)}" if where else _short(key)
                if _BAD_CHARS.search(key):
                    return f"{name}: a key with a NUL character or a lone surrogate"
                if len(key.encode("utf-8")) > MAX_KEY_BYTES:
                    return f"{name}: a key longer than {MAX_KEY_BYTES} bytes"
                stack.append((child, name, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))
    return None


class _Refused(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer of {len(text.lstrip('-'))} digits (at most "
                       f"{MAX_INT_DIGITS} are read)")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused(f"the number {text[:20]}{'...' if len(text) > 20 else ''} is out of range")
    return value


def _short(key: str) -> str:
    shown = key[:40].encode("unicode_escape", "backslashreplace").decode("ascii")
    return shown + ("..." if len(key) > 40 else "")


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB" if n >= 1 << 10 else f"{n} bytes"
