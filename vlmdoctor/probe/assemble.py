"""Turn what the child said (or did not say) into a ``ProbeResult``.

Nothing from the child is trusted: events are validated field by field, and a missing
or malformed result becomes a ``bad-output``/``crashed``/``timeout`` result whose
evidence names the step that was running.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vlmdoctor.exitstatus import signal_name
from vlmdoctor.probe.frames import MODEL, PREFIXES, PROBE, TRANSFORMERS
from vlmdoctor.probe.model import STEP_STATUSES, ProbeError, ProbeResult, ProbeStep
from vlmdoctor.probe.signatures import classify

if TYPE_CHECKING:
    from vlmdoctor.probe.model import ProbeRequest

_TAIL_LINES = 20
# An error no signature knows, by who raised it (see ``frames``).
_UNCLASSIFIED = {MODEL: "model-code", TRANSFORMERS: "transformers-code", PROBE: "probe-fault"}


def _step_failure(steps: list[ProbeStep]) -> ProbeError:
    """A step failed but the result carries no error: the step's own detail is the cause."""
    bad = next((s for s in reversed(steps) if s.status not in ("passed", "skipped")), None)
    if bad is None:
        return ProbeError("failed", "a step failed without saying why")
    return ProbeError("failed", f"step '{bad.name}' {bad.status}: {bad.detail or 'no detail'}")


@dataclass(frozen=True)
class ChildOutcome:
    events: tuple[dict[str, Any], ...] = ()
    started: Mapping[str, float] = field(default_factory=dict)
    stray_lines: tuple[str, ...] = ()
    stray_count: int = 0
    overflow: bool = False
    stderr_tail: str = ""
    returncode: int | None = None
    timed_out: bool = False
    launch_error: str | None = None
    elapsed: float = 0.0


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _steps(events: tuple[dict[str, Any], ...]) -> list[ProbeStep]:
    out = []
    for e in events:
        if (e["event"] == "step-end" and isinstance(e.get("name"), str)
                and e.get("status") in STEP_STATUSES and _number(e.get("seconds"))
                and isinstance(e.get("detail"), str)):
            out.append(ProbeStep(e["name"], e["status"], round(float(e["seconds"]), 3),
                                 e["detail"]))
    return out


def _result(events: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any] | None, str]:
    """The last result event if well-formed, else (None, what was wrong)."""
    found = [e for e in events if e["event"] == "result"]
    if not found:
        return None, ""
    r = found[-1]
    peaks = r.get("peak_memory_bytes")
    err = r.get("error")
    problems = [
        ("device", r.get("device") in ("cpu", "cuda")),
        ("generated_tokens", isinstance(r.get("generated_tokens"), int)
         and not isinstance(r.get("generated_tokens"), bool) and r["generated_tokens"] >= 0),
        ("tokens_per_second", r.get("tokens_per_second") is None or _number(r["tokens_per_second"])),
        ("peak_memory_bytes", isinstance(peaks, dict) and all(
            str(k).isdigit() and isinstance(v, int) for k, v in peaks.items())),
        ("error", err is None or (isinstance(err, dict) and isinstance(err.get("message"), str))),
    ]
    bad = [name for name, ok in problems if not ok]
    return (None, f"malformed result ({', '.join(bad)})") if bad else (r, "")


def _ended_by(returncode: int | None) -> str:
    name = signal_name(returncode)
    return f"died with signal {name.removeprefix('signal ')}" if name else \
        f"exited with status {returncode}"


def assemble(outcome: ChildOutcome, request: ProbeRequest) -> ProbeResult:
    steps = _steps(outcome.events)
    done = {s.name for s in steps}
    running = [n for n in outcome.started if n not in done]
    inflight = running[-1] if running else None
    where = "" if inflight else " before its first step"
    device_events = [e for e in outcome.events if e["event"] == "device"]
    device = device_events[-1].get("device") if device_events else (
        "cpu" if request.device == "cpu" else None)
    tail = outcome.stderr_tail.splitlines()[-_TAIL_LINES:]
    evidence: dict[str, Any] = {"requested_device": request.device,
                                "returncode": outcome.returncode,
                                "wall_seconds": round(outcome.elapsed, 2),
                                "stderr_tail": "\n".join(tail)}
    result, malformed = _result(outcome.events)
    kind, message = None, ""
    if outcome.launch_error is not None:
        kind, message = "launch-failed", f"could not start {request.python}: {outcome.launch_error}"
    elif outcome.timed_out:
        kind = "timeout"
        message = f"no result within {request.timeout:g} s; the child was killed{where}"
    elif result is None:
        if outcome.returncode not in (0, None):
            kind, message = "crashed", f"the child {_ended_by(outcome.returncode)}{where}"
        else:
            kind = "bad-output"
            why = malformed or ("its output exceeded the size limit" if outcome.overflow
                                else "no result line")
            seen = f"; unexpected output: {outcome.stray_lines[0]!r}" if outcome.stray_lines else ""
            message = (f"the child exited with status 0 but {why}{where} "
                       f"({outcome.stray_count} other lines on stdout{seen})")
    if kind is not None:
        if inflight:
            status = "timeout" if kind == "timeout" else "failed"
            seconds = max(0.0, outcome.elapsed - outcome.started[inflight])
            steps.append(ProbeStep(inflight, status, round(seconds, 3), message))
        return ProbeResult(status="timeout" if kind == "timeout" else "failed", device=device,
                           steps=tuple(steps), error=ProbeError(kind, message),
                           evidence={**evidence, "step": inflight})
    assert result is not None
    err = result.get("error")
    error = None
    if err is not None:
        text = "\n".join([err["message"], *[str(w) for w in err.get("warnings") or []]])
        kind, frame = classify(text).kind, err.get("frame")
        owner = err.get("frame_owner", MODEL)  # a child before frame owners: the model's
        if isinstance(frame, str) and frame and owner in _UNCLASSIFIED:
            kind = _UNCLASSIFIED[owner] if kind == "failed" else kind
            error = ProbeError(kind, f"{err['message']}\n{PREFIXES[owner]}{frame}")
        else:
            error = ProbeError(kind, err["message"])
        evidence.update(step=err.get("step"), error_type=err.get("type"),
                        warnings=list(err.get("warnings") or []),
                        traceback=str(err.get("traceback") or "")[-2000:])
    failed = error is not None or any(s.status != "passed" and s.status != "skipped"
                                      for s in steps)
    evidence.update(device_reason=result.get("device_reason") or "", dtype=result.get("dtype"),
                    torch_build=result.get("torch_build"))
    return ProbeResult(
        status="failed" if failed else "passed", device=result["device"], steps=tuple(steps),
        generated_tokens=result["generated_tokens"],
        tokens_per_second=result.get("tokens_per_second"),
        peak_memory_bytes={int(k): v for k, v in result["peak_memory_bytes"].items()},
        error=error if error is not None or not failed else _step_failure(steps),
        evidence=evidence)
