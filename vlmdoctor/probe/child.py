"""The probe's child process: ``python -m vlmdoctor.probe.child [options]``.

Runs the ladder in the interpreter being diagnosed and writes protocol events to
stdout (see ``protocol``). It imports only the standard library and vlmdoctor's probe
modules at start; torch and transformers are imported by the first rung.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
import warnings
from typing import Any, Callable

from vlmdoctor.probe import consent, generate, ladder, local
from vlmdoctor.probe import protocol as p
from vlmdoctor.probe.context import CheckFailed, Context
from vlmdoctor.probe.frames import PROBE, classify_file, failure_frame
from vlmdoctor.procgroup import watch_parent
from vlmdoctor.redact import clip

_MAX_TEXT = 4000
_PROTOCOL: list[Any] = [sys.stdout]  # the channel to the parent; see _own_stdout


def _own_stdout() -> None:
    """Keep fd 1 for the protocol and send everything else written to stdout (Python
    prints, C libraries) to stderr, where the parent keeps its tail for diagnosis."""
    sys.stdout.flush()
    _PROTOCOL[0] = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def _emit(event: dict[str, Any]) -> None:
    _PROTOCOL[0].write(p.encode(event) + "\n")
    _PROTOCOL[0].flush()


def _inject(step: str) -> None:
    """Test-only failures, chosen by the VLMDOCTOR_PROBE_INJECT environment variable."""
    spec = os.environ.get(p.INJECT_ENV, "")
    where, _, message = spec.partition(":")
    mode, _, at = where.partition("@")
    if not spec or (at or p.STEP_IMPORT) != step:
        return
    if mode == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif mode == "hang":
        time.sleep(3600)
    elif mode == "garbage":
        _PROTOCOL[0].write("this is not a probe result\n{\"status\": \"passed\"\n")
        _PROTOCOL[0].flush()
        os._exit(0)
    elif mode == "exit3":
        sys.stderr.write("child: giving up with status 3\n")
        sys.stderr.flush()
        os._exit(3)
    elif mode == "raise":
        raise RuntimeError(message)


def _text(value: object) -> str:
    return clip(str(value), _MAX_TEXT)


def _code_files(ctx: Context) -> frozenset[str]:
    where = ctx.model_path or ctx.weights
    return local.code_files(where) if where else frozenset()


def _blame(exc: BaseException, ctx: Context) -> tuple[str, str] | None:
    """Who raised ``exc`` (see ``frames``). The probe is to blame only for an exception its
    own code raised itself: not a check that did not hold (``CheckFailed``: the check's
    message is the cause), not what torch raised when a rung called it, not a test's
    injected failure."""
    found = failure_frame(exc.__traceback__, _code_files(ctx))
    if found is None or found[0] != PROBE:
        return found
    last = traceback.extract_tb(exc.__traceback__)[-1]
    raised_here = classify_file(last.filename, frozenset()) is not None
    if isinstance(exc, CheckFailed) or not raised_here or last.name == "_inject":
        return None
    return found


def _cause(exc: BaseException, frame: tuple[str, str] | None) -> str:
    """``Type: message``; an exception without a message is named with where it was raised
    (the traceback's last frame), so no failure goes without a cause."""
    text = str(exc).strip()
    if text:
        return f"{type(exc).__name__}: {text}"
    last = traceback.extract_tb(exc.__traceback__)[-1:] or None
    where = frame[1] if frame else (f"{os.path.basename(last[0].filename)}:{last[0].lineno} "
                                    f"in {last[0].name}" if last else "an unknown place")
    return f"{type(exc).__name__} (no message) raised at {where}"


def _run(name: str, rung: Callable[[Context], str], ctx: Context) -> dict[str, Any] | None:
    """Run one rung; returns the error (as protocol data) when it failed."""
    _emit({"event": "step-start", "name": name})
    started = time.perf_counter()
    error: dict[str, Any] | None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _inject(name)
            status, detail, error = "passed", rung(ctx), None
        except ladder.Skip as skip:
            status, detail, error = "skipped", str(skip), None
        except Exception as exc:  # every failure is data for the parent
            found = _blame(exc, ctx)
            status, detail = "failed", _cause(exc, found)
            error = {"type": type(exc).__name__, "message": _text(detail),
                     "traceback": _text("".join(traceback.format_exc(limit=8)))}
            if found is not None:
                error["frame_owner"], error["frame"] = found[0], _text(found[1])
    notes = sorted({str(w.message).splitlines()[0] for w in caught
                    if issubclass(w.category, UserWarning)})
    if error is not None:
        error["warnings"] = [_text(n) for n in notes]
    if notes:
        detail = f"{detail} [warning: {' | '.join(notes)}]"
    _emit({"event": "step-end", "name": name, "status": status,
           "seconds": round(time.perf_counter() - started, 3), "detail": _text(detail)})
    if name == p.STEP_CUDA:
        _emit({"event": "device", "device": ctx.device, "reason": ctx.device_reason})
    return error


def _torch_build(ctx: Context) -> dict[str, Any] | None:
    """What the imported torch says it is (compared with vlmdoctor's wheel table)."""
    if ctx.torch is None:
        return None
    try:
        return {"cuda": ctx.torch.version.cuda,
                "arch_list": [str(a) for a in ctx.torch.cuda.get_arch_list()]}
    except Exception:  # a broken CUDA setup must not cost the result line
        return None


def _importer(trusted: bool) -> Callable[[Context], str]:
    """The import rung; without the user's consent it also disarms transformers'
    dynamic-module loaders before any rung can reach a model directory."""

    def rung(ctx: Context) -> str:
        detail = ladder.import_libraries(ctx)
        if not trusted:
            consent.guard()
        return detail

    return rung


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vlmdoctor.probe.child")
    parser.add_argument("--device", choices=p.DEVICES, default="auto")
    parser.add_argument("--dtype", choices=p.DTYPES)
    parser.add_argument("--family")
    parser.add_argument("--hf-model-type")
    parser.add_argument("--weights")
    parser.add_argument("--model-path", help="a local model directory (Hugging Face layout)")
    parser.add_argument("--max-new-tokens", type=int, default=8)
    parser.add_argument("--device-map", help="JSON object: module name -> GPU index or 'cpu'")
    parser.add_argument("--workdir", default=".")
    parser.add_argument("--trust-remote-code", action="store_true")
    args = parser.parse_args(argv)
    watch_parent()  # vlmdoctor killed: remove the run's temp dir, end this group
    _own_stdout()
    ctx = Context(device=args.device, dtype=args.dtype, family=args.family,
                  hf_model_type=args.hf_model_type, weights=args.weights,
                  max_new_tokens=args.max_new_tokens, workdir=args.workdir,
                  device_map=json.loads(args.device_map) if args.device_map else None,
                  trust_remote_code=args.trust_remote_code, model_path=args.model_path)
    last = ((p.STEP_WEIGHTS, generate.real_weights) if args.weights else
            (p.STEP_LOCAL, local.local_model) if args.model_path else
            (p.STEP_TINY, generate.tiny_vlm))
    rungs = [(p.STEP_IMPORT, _importer(args.trust_remote_code)), (p.STEP_CUDA, ladder.cuda_init),
             (p.STEP_MATMUL, ladder.matmul), (p.STEP_ATTENTION, ladder.attention),
             (p.STEP_P2P, ladder.peer_copy), last]
    error = None
    for name, rung in rungs:
        error = _run(name, rung, ctx)
        if error is not None:
            error["step"] = name
            break
    _emit({"event": "result", "device": ctx.device, "device_reason": ctx.device_reason,
           "dtype": ctx.dtype, "generated_tokens": ctx.generated_tokens,
           "tokens_per_second": ctx.tokens_per_second,
           "peak_memory_bytes": {str(k): v for k, v in ctx.peak_memory.items()},
           "error": error, "torch_build": _torch_build(ctx)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
