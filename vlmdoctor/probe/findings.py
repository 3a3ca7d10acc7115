"""Probe results as findings (ids ``probe-<kind>``), and a plain-text step table."""

from __future__ import annotations

from typing import Any

from vlmdoctor.probe.model import ProbeResult
from vlmdoctor.probe.protocol import (
    IN_MODEL_CODE,
    IN_PROBE,
    IN_TRANSFORMERS,
    META_ONLY,
    NO_GPU,
    REMOTE_NOT_RUN,
    STEP_CUDA,
    STEP_LOCAL,
    STEP_WEIGHTS,
    TRUST_FLAG,
)
from vlmdoctor.probe.signatures import outcomes, signature_for
from vlmdoctor.redact import clip
from vlmdoctor.report import Finding

_MAX_LINE = 300
_WHOSE = ((IN_MODEL_CODE, "In the model's code"), (IN_TRANSFORMERS, "In transformers' code"),
          (IN_PROBE, "In vlmdoctor's probe code"))


def _first_line(text: str) -> str:
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    return clip(line, _MAX_LINE)


def _failure(result: ProbeResult) -> Finding:
    assert result.error is not None
    sig = signature_for(result.error.kind, result.error.message)
    step = result.failed_step or result.evidence.get("step")
    verb = "timed out" if result.status == "timeout" else "failed"
    found = _first_line(result.error.message).rstrip(".")
    lead = f"Probe step '{step}' {verb}: {found}." if step else f"The probe {verb}: {found}."
    for prefix, whose in _WHOSE:
        frame = next((x for x in result.error.message.splitlines() if x.startswith(prefix)), "")
        if frame:
            lead += f" {whose} at {_first_line(frame[len(prefix):])}."
            break
    evidence: dict[str, Any] = {"probe.status": result.status, "probe.step": step,
                                "probe.error": clip(result.error.message, 2000)}
    for key in ("returncode", "stderr_tail"):
        if result.evidence.get(key) not in (None, ""):
            evidence[f"probe.{key}"] = result.evidence[key]
    return Finding(id=f"probe-{result.error.kind}", severity=sig.severity, title=sig.title,
                   message=f"{lead} {sig.why}", fix=sig.fix, references=sig.references,
                   evidence={k: v for k, v in evidence.items() if v is not None})


def _not_run(step: str, detail: str) -> Finding:
    """The probe refused the model's own code: what was not run, what ran, the flag."""
    sig = outcomes()["remote-code-not-run"]
    head, _, instead = detail.partition("; ran instead: ")
    files = head[len(REMOTE_NOT_RUN) + 2:].split(" not imported", 1)[0]
    ran = (f" Ran instead: {_first_line(instead)}." if instead else
           " Nothing stood in for it.")
    weights = " The weights were not loaded." if "weights not loaded" in head else ""
    message = (f"Probe step '{step}' did not import or run the model's own code ({files}): "
               f"{TRUST_FLAG} was not given. Not exercised: the model's own configuration "
               f"and modeling classes (build, load, forward, generate).{weights}{ran} "
               f"Pass {TRUST_FLAG} to run that code, only if you trust it. {sig.why}")
    return Finding(id="probe-remote-code-not-run", severity=sig.severity, title=sig.title,
                   message=message, fix=sig.fix, references=sig.references,
                   evidence={"probe.step": step, "probe.flag": TRUST_FLAG})


def probe_findings(result: ProbeResult) -> tuple[Finding, ...]:
    """What the probe found; a passing GPU probe yields no findings."""
    out: list[Finding] = []
    if result.status == "skipped":
        sig = outcomes()["skipped"]
        reason = str(result.evidence.get("reason") or "torch is not importable")
        out.append(Finding(id="probe-skipped", severity=sig.severity, title=sig.title,
                           message=f"The probe did not run: {reason}. Nothing was checked on "
                                   "the GPU.", fix=sig.fix, references=sig.references,
                           evidence={"probe.status": "skipped"}))
    if result.error is not None:
        out.append(_failure(result))
    local = next((s for s in result.steps if s.name == STEP_LOCAL), None)
    if local is not None and local.status == "passed" and local.detail.startswith(META_ONLY):
        sig = outcomes()["meta-only"]
        out.append(Finding(id="probe-meta-only", severity=sig.severity, title=sig.title,
                           message=f"{sig.why} Step detail: {_first_line(local.detail)}",
                           fix=sig.fix, references=sig.references,
                           evidence={"probe.step": STEP_LOCAL}))
    refused = next((s for s in result.steps if s.name in (STEP_LOCAL, STEP_WEIGHTS)
                    and s.detail.startswith(REMOTE_NOT_RUN)), None)
    if refused is not None:
        out.append(_not_run(refused.name, refused.detail))
    cuda = next((s for s in result.steps if s.name == STEP_CUDA), None)
    if (result.device == "cpu" and cuda is not None and cuda.status == "skipped"
            and cuda.detail.startswith(NO_GPU)):  # auto fell back to CPU (read from the data,
        sig = outcomes()["cpu-only"]            # so a report's probe section gives it too)
        reason = cuda.detail.split("; running", 1)[0]
        out.append(Finding(id="probe-cpu-only", severity=sig.severity, title=sig.title,
                           message=f"The probe ran on CPU ({reason}). {sig.why}",
                           fix=sig.fix, references=sig.references,
                           evidence={"probe.device": "cpu", "probe.device_reason": reason}))
    return tuple(out)


def probe_summary_lines(result: ProbeResult) -> list[str]:
    """The probe as plain lines: a headline, the step table, output and error."""
    if result.status == "skipped":
        return [f"probe: skipped ({result.evidence.get('reason') or 'torch is not importable'})"]
    lines = [f"probe: {result.status} on {result.device or 'unknown device'}"]
    if result.steps:
        width = max(len(s.name) for s in result.steps)
        lines.append(f"  {'step'.ljust(width)}  {'status':<8} {'seconds':>8}  detail")
        lines += [f"  {s.name.ljust(width)}  {s.status:<8} {s.seconds:>8.2f}  {s.detail}"
                  for s in result.steps]
    if result.generated_tokens:
        rate = ("" if result.tokens_per_second is None
                else f" at {result.tokens_per_second:.1f} tokens/s")
        lines.append(f"  generated {result.generated_tokens} tokens{rate}")
    if result.peak_memory_bytes:
        peaks = ", ".join(f"cuda:{i} {b / 2**20:.1f} MiB"
                          for i, b in sorted(result.peak_memory_bytes.items()))
        lines.append(f"  peak GPU memory: {peaks}")
    if result.error is not None:
        lines.append(f"  error ({result.error.kind}): {_first_line(result.error.message)}")
    return lines
