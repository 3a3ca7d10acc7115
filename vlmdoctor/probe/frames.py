"""Find the last traceback frame in a model's own code (stdlib only; runs in the child).

The model's code is its remote code (the ``*.py`` files next to its ``config.json``, which
transformers runs from a copy under ``HF_MODULES_CACHE/transformers_modules/``) or
transformers' implementation of its architecture (``transformers/models/<type>/``). The
frame is quoted as ``file:line in function: code`` with the file shown relative to the
model directory or to transformers (no home directories, no cache paths) and the code
line stripped of control characters, so it can go into a report as it is.
"""

from __future__ import annotations

import re
import traceback
from types import TracebackType

from vlmdoctor.redact import clip

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_CODE = 200


def _shown(filename: str, code_files: frozenset[str]) -> str | None:
    """How a frame's file is shown, or None when it is not the model's code."""
    parts = filename.replace("\\", "/").split("/")
    if "transformers_modules" in parts and parts[-1] in code_files:
        return parts[-1]
    if "models" in parts and len(parts) > 2:
        at = len(parts) - 1 - parts[::-1].index("models")
        if at >= 1 and parts[at - 1] == "transformers":
            return "/".join(parts[at - 1:])
    return None


def model_frame(tb: TracebackType | None, code_files: frozenset[str]) -> str | None:
    """``modeling_x.py:42 in forward: <code>`` for the innermost frame in the model's code."""
    for frame in reversed(traceback.extract_tb(tb)):
        shown = _shown(frame.filename, code_files)
        if shown is None:
            continue
        code = _CONTROL.sub(" ", (frame.line or "").strip())
        code = clip(code, _MAX_CODE)
        return f"{shown}:{frame.lineno} in {frame.name}: {code}"
    return None
