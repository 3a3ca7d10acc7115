from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Callable

import pytest


@pytest.fixture
def fake_child(tmp_path: Path) -> Callable[[str], list[str]]:
    """Write a stand-in child script; returns the command that runs it."""

    def make(source: str) -> list[str]:
        script = tmp_path / "fake_child.py"
        script.write_text(textwrap.dedent(source))
        return [sys.executable, str(script)]

    return make
