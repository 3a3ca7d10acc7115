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


def _entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = tmp_path / "rules.yaml"
    source.write_text("a: 1\n")
    assert load_yaml(source) == {"a": 1}
    (cached,) = (tmp_path / "cache").rglob("*.json")
    return source, cached


@pytest.mark.parametrize("content", [
    "", "not json", "[1, 2]", '{"data": {"a": 99}}', '{"source": "other.json", "data": 5}',
    "[" * 100_000, '"' + "x" * 1000, "null", '{"a": 1}',
])
def test_wrong_shaped_cache_falls_back_to_parsing(tmp_path: Path, content: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    source, cached = _entry(tmp_path, monkeypatch)
    cached.write_text(content)
    assert load_yaml(source) == {"a": 1}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_where_the_cache_lives_never_hangs(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    source, cached = _entry(tmp_path, monkeypatch)
    cached.unlink()
    os.mkfifo(cached)  # reading it would block forever without O_NONBLOCK
    assert load_yaml(source) == {"a": 1}
    temp = cached.with_suffix(f".{os.getpid()}.tmp")
    cached.unlink()
    os.mkfifo(temp)  # nor may writing the next entry block on a FIFO
    assert load_yaml(source) == {"a": 1}


def test_cache_dir_is_a_directory_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, cached = _entry(tmp_path, monkeypatch)
    cached.unlink()
    cached.mkdir()
    assert load_yaml(source) == {"a": 1}


def test_nonexistent_home_is_never_created(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "nonexistent" / "home"))
    assert cache_dir() is None
    source = tmp_path / "rules.yaml"
    source.write_text("a: 1\n")
    assert load_yaml(source) == {"a": 1}
    assert not (tmp_path / "nonexistent").exists()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "missing-parent" / "cache"))
    assert load_yaml(source) == {"a": 1}
    assert not (tmp_path / "missing-parent").exists()


def test_fresh_home_gets_a_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    source = tmp_path / "rules.yaml"
    source.write_text("a: 1\n")
    assert load_yaml(source) == {"a": 1}
    assert len(list((tmp_path / ".cache" / "vlmdoctor").rglob("*.json"))) == 1
