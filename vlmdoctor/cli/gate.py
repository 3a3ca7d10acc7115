"""The pre-job gate's `vlmdoctor check ...` without click.

Importing click costs about a third of the gate's run, so the forms of `check` a startup
script writes are parsed here, against the same options ``check_cmd`` declares for click
(``SPEC``; tests hold the two to the same names, kinds, choices and defaults, and to the
same ``CheckParams`` for every command line this parser takes). Anything else -- help, an
unknown or repeated option, a value click would refuse or read differently, a positional
argument, ``--`` -- is not this parser's: ``parse_check`` returns None and click answers it,
messages and all.
"""

from __future__ import annotations

import re
from typing import Any

from vlmdoctor.evaluate.context import DTYPE_CHOICES
from vlmdoctor.report import FAIL_ON

# (destination, long option, short option, kind, choices). kind: "value" (any text),
# "model" (text, not blank), "choice", "flag", "seconds" (a number >= 1).
SPEC: tuple[tuple[str, str, str | None, str, tuple[str, ...]], ...] = (
    ("model", "--model", "-m", "model", ()),
    ("dtype", "--dtype", None, "choice",
     ("auto", *(d for d in DTYPE_CHOICES if d != "auto"))),
    ("from_report", "--from-report", None, "value", ()),
    ("fmt", "--format", None, "choice", ("text", "json", "markdown")),
    ("output", "--output", "-o", "value", ()),
    ("fail_on", "--fail-on", None, "choice", tuple(FAIL_ON)),
    ("no_probe", "--no-probe", None, "flag", ()),
    ("probe_timeout", "--probe-timeout", None, "seconds", ()),
    ("resolve", "--resolve", None, "flag", ()),
    ("resolve_timeout", "--resolve-timeout", None, "seconds", ()),
    ("constraints", "--write-constraints", None, "value", ()),
    ("python", "--python", None, "value", ()),
    ("trust_remote_code", "--trust-remote-code", None, "flag", ()),
    ("rules_dir", "--rules", None, "value", ()),
)
_BY_NAME = {opt: spec for spec in SPEC for opt in (spec[1], spec[2]) if opt}
# Plain decimals only: click's float() also takes "1e3", " 5", "inf"; those go to click.
_SECONDS = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9})?")


def parse_check(args: list[str]) -> dict[str, Any] | None:
    """The options of ``check ARGS`` as keyword arguments for ``CheckParams``, or None when
    the command line is not one this parser takes exactly as click would."""
    given: dict[str, Any] = {}
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        name, attached = _split(token)
        spec = _BY_NAME.get(name) if name else None
        if spec is None:
            return None
        dest, _, _, kind, choices = spec
        if dest in given:
            return None  # click keeps the last; let it
        if kind == "flag":
            if attached is not None:
                return None
            given[dest] = True
            continue
        if attached is None:
            if i >= len(args) or args[i].startswith("-"):
                return None
            attached = args[i]
            i += 1
        value = _value(kind, attached, choices)
        if value is None:
            return None
        given[dest] = value
    return given


def _split(token: str) -> tuple[str | None, str | None]:
    """(option name, attached value or None) for ``--name``, ``--name=value``, ``-m`` and
    ``-mVALUE``; (None, None) for anything else."""
    if token.startswith("--"):
        name, eq, value = token.partition("=")
        return (name, value if eq else None) if len(name) > 2 else (None, None)
    if token.startswith("-") and len(token) >= 2 and token[1] != "-":
        short = token[:2]
        return short, (token[2:] or None)
    return None, None


def _value(kind: str, text: str, choices: tuple[str, ...]) -> Any:
    if kind == "choice":
        return text if text in choices else None
    if kind == "seconds":
        return float(text) if _SECONDS.fullmatch(text) and float(text) >= 1 else None
    if kind == "model" and not text.strip():
        return None
    return text


def run_gate(argv: list[str]) -> int | None:
    """The exit code of ``vlmdoctor check ...`` run without click, or None (click's)."""
    if not argv or argv[0] != "check":
        return None
    given = parse_check(argv[1:])
    if given is None:
        return None
    from vlmdoctor.cli.guard import guarded

    def run() -> int:
        from vlmdoctor.cli.check_run import CheckParams, run_check_command

        return run_check_command(CheckParams(**given))
    return guarded(run)
