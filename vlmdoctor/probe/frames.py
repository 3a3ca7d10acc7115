"""Which code raised a failure: the model's own file, transformers, or the probe (stdlib only;
runs in the child).

A traceback is walked from the innermost frame out, and the first frame in one of three
places names who raised it (frames in torch, the standard library or other packages are
passed over: they were called by one of these):

- ``model``: the model's own code, its remote-code ``*.py`` (transformers imports a copy
  under ``HF_MODULES_CACHE/transformers_modules/``), shown by its file name;
- ``transformers``: any file of transformers itself, its implementation of an architecture
  (``transformers/models/<type>/``) and its loading code (``transformers/models/auto/``,
  ``modeling_utils.py`` …) alike, shown from ``transformers/``;
- ``probe``: vlmdoctor's own probe code, shown from ``vlmdoctor/probe/``.

The frame is quoted as ``file:line in function: code`` with no home directories or cache
paths and the code line stripped of control characters, so it can go into a report as it is.
"""

from __future__ import annotations

import re
import traceback
from types import TracebackType

from vlmdoctor.probe.protocol import IN_MODEL_CODE, IN_PROBE, IN_TRANSFORMERS
from vlmdoctor.redact import clip

MODEL, TRANSFORMERS, PROBE = "model", "transformers", "probe"
PREFIXES = {MODEL: IN_MODEL_CODE, TRANSFORMERS: IN_TRANSFORMERS, PROBE: IN_PROBE}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_CODE = 200


def classify_file(filename: str, code_files: frozenset[str]) -> tuple[str, str] | None:
    """(whose, how the file is shown) for a frame's file, or None for anyone else's code."""
    parts = filename.replace("\\", "/").split("/")
    if "transformers_modules" in parts:
        return (MODEL, parts[-1]) if parts[-1] in code_files or not code_files else None
    for at in range(len(parts) - 2, -1, -1):
        if parts[at] == "vlmdoctor" and parts[at + 1] == "probe":
            return PROBE, "/".join(parts[at:])
        if parts[at] == "transformers" and at + 1 < len(parts):
            return TRANSFORMERS, "/".join(parts[at:])
    return None


def _quote(frame: traceback.FrameSummary, shown: str) -> str:
    code = _CONTROL.sub(" ", (frame.line or "").strip())
    code = clip(code, _MAX_CODE)
    return f"{shown}:{frame.lineno} in {frame.name}: {code}"


def failure_frame(tb: TracebackType | None, code_files: frozenset[str],
                  owners: tuple[str, ...] = (MODEL, TRANSFORMERS, PROBE)
                  ) -> tuple[str, str] | None:
    """(whose, ``file:42 in forward: <code>``) for the innermost frame whose owner is one
    of ``owners`` (the model's own code, transformers, the probe)."""
    for frame in reversed(traceback.extract_tb(tb)):
        found = classify_file(frame.filename, code_files)
        if found is not None and found[0] in owners:
            return found[0], _quote(frame, found[1])
    return None


def model_frame(tb: TracebackType | None, code_files: frozenset[str]) -> str | None:
    """The innermost frame in the model's own code or in transformers (not the probe)."""
    found = failure_frame(tb, code_files, (MODEL, TRANSFORMERS))
    return None if found is None else found[1]
