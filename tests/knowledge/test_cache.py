"""The parsed-YAML cache: a hit returns the same data; an edited file is re-parsed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vlmdoctor.yamlio import cache_dir, load_yaml


def test_cache_hit_and_invalidation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = tmp_path / "rules.yaml"
    source.write_text("a: 1\nb: [x, y]\n")
    assert load_yaml(source) == {"a": 1, "b": ["x", "y"]}
    cached = list((tmp_path / "cache").rglob("*.json"))
    assert len(cached) == 1
    source.write_text("a: 2\nb: [x, y, z]\n")
    os.utime(source, ns=(1, 2))  # a different mtime, whatever the clock says
    assert load_yaml(source) == {"a": 2, "b": ["x", "y", "z"]}


def test_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLMDOCTOR_NO_CACHE", "1")
    assert cache_dir() is None
    source = tmp_path / "rules.yaml"
    source.write_text("a: 1\n")
    assert load_yaml(source) == {"a": 1}


def test_unwritable_cache_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file, so mkdir fails
    source = tmp_path / "rules.yaml"
    source.write_text("a: 1\n")
    assert load_yaml(source) == {"a": 1}
