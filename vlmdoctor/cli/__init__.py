"""The command line. Thin: parse options, call one orchestration function, exit.

The pre-job gate's form of `check` is parsed by ``vlmdoctor.cli.gate`` without importing
click (a third of the gate's time); everything else, and any gate command line that parser
does not take exactly as click would, goes through the click group (``vlmdoctor.cli.group``).
"""

from __future__ import annotations

import sys
from typing import Any


def main(argv: list[str] | None = None) -> None:
    sys.exit(dispatch(sys.argv[1:] if argv is None else argv))


def dispatch(argv: list[str]) -> int:
    """The exit code of ``vlmdoctor ARGV``: the gate's parser first, then click."""
    from vlmdoctor.cli.gate import run_gate

    code = run_gate(argv)
    if code is None:
        from vlmdoctor.cli.errors import run_cli
        from vlmdoctor.cli.group import cli

        code = run_cli(cli, argv)
    return code


def __getattr__(name: str) -> Any:
    """``cli``, ``COMMANDS`` and ``LazyGroup`` live in ``vlmdoctor.cli.group`` (click)."""
    if name in ("cli", "COMMANDS", "LazyGroup"):
        from vlmdoctor.cli import group

        return getattr(group, name)
    raise AttributeError(f"module 'vlmdoctor.cli' has no attribute {name!r}")
