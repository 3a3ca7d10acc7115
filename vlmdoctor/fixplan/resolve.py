"""``check --resolve``: ask pip's own resolver whether the plan has a solution, never a
resolver of our own. ``pip install --dry-run --ignore-installed --report -`` for the plan
plus the installed top-level packages (pinned to their installed versions), run with the
target interpreter under the user's own pip configuration and index. Installs nothing;
bounded by a timeout, the whole process group ended on expiry (procgroup)."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Mapping

from vlmdoctor.fixplan.model import FixPlan
from vlmdoctor.record import record
from vlmdoctor.snapshot import Snapshot

TOOLING = frozenset({"pip", "setuptools", "wheel", "distribute"})
_UNREACHABLE = ("NewConnectionError", "Failed to establish a new connection",
                "Temporary failure in name resolution", "Name or service not known",
                "Max retries exceeded", "ProxyError", "SSLError", "ConnectTimeoutError",
                "Could not fetch URL", "Network is unreachable")
_TAIL_LINES, _TAIL_CHARS = 12, 2000


@record
class PipRun:
    returncode: int | None  # None: it did not finish (timeout) or did not start
    stdout: str
    stderr: str
    error: str | None = None  # could not start it: the OS's reason
    timed_out: bool = False


Runner = Callable[[list[str], float, Mapping[str, str]], PipRun]


def resolve_argv(python: str, plan: FixPlan, snapshot: Snapshot) -> list[str]:
    argv = [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--report", "-",
            "--quiet", "--no-input", "--disable-pip-version-check"]
    argv += [r.text for r in plan.requirements] + top_level_pins(plan, snapshot)
    if plan.index_url:
        argv += ["--extra-index-url" if plan.extra_index else "--index-url", plan.index_url]
    return argv


def top_level_pins(plan: FixPlan, snapshot: Snapshot) -> list[str]:
    """Installed distributions nothing else installed requires, at their installed (public)
    versions, except what the plan changes or removes."""
    changed = {r.package for r in plan.requirements}
    removed = set(plan.removes)
    required: set[str] = set()
    from vlmdoctor.evaluate.requirements import split

    for requirer, texts in (snapshot.requirements or {}).items():
        if requirer in snapshot.packages:
            required.update(p[0] for p in map(split, texts) if p is not None)
    return [f"{name}=={version.partition('+')[0]}"
            for name, version in sorted(snapshot.packages.items())
            if name not in required | changed | removed | TOOLING]


def resolve(plan: FixPlan, snapshot: Snapshot, python: str, timeout: float,
            run: Runner | None = None) -> dict[str, Any]:
    """The ``resolve`` section: status, pip's message, what pip would install."""
    argv = resolve_argv(python, plan, snapshot)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    result = (run or run_pip)(argv, timeout, env)
    out: dict[str, Any] = {"status": "", "message": "", "command": _shown(argv),
                           "would_install": []}
    if result.error is not None:
        out.update(status="pip-failed", message=f"cannot run {python}: {result.error}")
    elif result.timed_out:
        out.update(status="timeout", message=f"pip did not answer within {timeout:g} s "
                                             "(a slow or unreachable index?); it was stopped")
    elif result.returncode == 0:
        out.update(status="solvable", message="pip's resolver found a solution",
                   would_install=_installs(result.stdout))
        if out["would_install"] is None:
            out.update(status="pip-failed", would_install=[],
                       message="pip succeeded but printed no --report JSON: " + _tail(result))
    else:
        out.update(status=_status(result.stderr), message=_tail(result))
    return out


def _status(stderr: str) -> str:
    if "No module named pip" in stderr:
        return "pip-missing"
    if any(marker in stderr for marker in _UNREACHABLE):
        return "index-unreachable"
    if "ResolutionImpossible" in stderr or "conflicting dependencies" in stderr:
        return "unsolvable"
    if "No matching distribution found" in stderr or "Could not find a version" in stderr:
        return "not-found"
    return "pip-failed"


def _installs(stdout: str) -> list[dict[str, str]] | None:
    try:
        report = json.loads(stdout)
        return [{"name": str(item["metadata"]["name"]), "version": str(item["metadata"]["version"])}
                for item in report.get("install", [])]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _tail(result: PipRun) -> str:
    text = (result.stderr.strip() or result.stdout.strip() or
            f"pip exited {result.returncode} without a message")
    lines = [line.rstrip() for line in text.splitlines() if line.strip()][-_TAIL_LINES:]
    joined = "\n".join(lines)
    return joined[-_TAIL_CHARS:]


def _shown(argv: list[str]) -> str:
    import shlex

    return shlex.join(argv)


def run_pip(argv: list[str], timeout: float, env: Mapping[str, str]) -> PipRun:
    """Run pip in its own session; on timeout end its whole process group."""
    import contextlib
    import subprocess

    from vlmdoctor.procgroup import stop_group

    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=dict(env), start_new_session=True)
    except OSError as exc:
        return PipRun(None, "", "", error=exc.strerror or str(exc))
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(proc, graceful=True)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=2.0)  # the group is gone; do not wait on a straggler
        return PipRun(None, "", "", timed_out=True)
    except BaseException:
        stop_group(proc, graceful=False)
        raise
    return PipRun(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def resolve_findings(section: Mapping[str, Any]) -> tuple[Any, ...]:
    """A plan pip cannot install, or a pip that could not answer, is a finding with pip's
    own message."""
    from vlmdoctor.report import Finding

    status = section.get("status")
    if status == "solvable":
        return ()
    refs = ("https://pip.pypa.io/en/stable/cli/pip_install/#cmdoption-dry-run",
            "https://pip.pypa.io/en/stable/topics/dependency-resolution/")
    evidence = {"status": status, "command": section.get("command")}
    message = " ".join(line.strip() for line in str(section.get("message") or "").splitlines())
    if status in ("unsolvable", "not-found"):
        what = ("no set of versions satisfies the plan together with the installed top-level "
                "packages" if status == "unsolvable" else
                "the index has no release matching a requirement of the plan or an installed "
                "top-level package")
        return (Finding(
            id="fix-plan-unresolvable", severity="warning",
            title="pip's resolver finds no solution for the fix plan in this environment",
            message=f"pip install --dry-run says {what}. pip: {message}",
            fix=("# follow one of the plan's alternatives (a separate environment)",),
            references=refs, evidence=evidence),)
    headline = {"index-unreachable": "the package index is unreachable",
                "pip-missing": "pip is not installed in the target Python",
                "timeout": "pip did not answer in time"}.get(str(status), "pip failed")
    return (Finding(
        id="fix-plan-resolve-failed", severity="warning",
        title=f"Could not verify the fix plan with pip: {headline}",
        message=f"{headline[0].upper()}{headline[1:]}; the plan is unverified. pip: {message}",
        references=refs, evidence=evidence),)
