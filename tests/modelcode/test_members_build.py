"""The members index from release sources to findings (issue 19 §6): three stand-in releases
of a transformers base class, read by the extractor the maintainer script uses, assembled
into an index, and a model class checked against it. The sources are our own stand-ins."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmdoctor.modelcode.membercheck import member_problems
from vlmdoctor.modelcode.scan import CodeScan, scan_files
from vlmdoctor.tfmembers.build import build_document
from vlmdoctor.tfmembers.extract import classes_in
from vlmdoctor.tfmembers.index import from_document

R430 = """\
class ModuleUtilsMixin:
    def hook(self, x):
        return x

class PreTrainedModel(ModuleUtilsMixin):
    cached_flag: bool = False

    def __init__(self, config):
        self.old_attr = config

    def hook(self, x):
        return x
"""
R440 = """\
class ModuleUtilsMixin:
    def hook(self, x, y):
        return x

    def added(self):
        return 1

class PreTrainedModel(ModuleUtilsMixin):
    def __init__(self, config):
        self.config = config

    def hook(self, x, *, extra=None):
        return x
"""
MODEL = """\
from transformers import PreTrainedModel


class ToyModel(PreTrainedModel):
    def hook(self, x):
        return self.old_attr if self.cached_flag else x

    def later(self):
        return self.added()
"""


def _index():  # type: ignore[no-untyped-def]
    name = "transformers/modeling_utils.py"
    releases = [("4.30.0", R430), ("4.40.0", R440), ("4.50.0", R440)]
    return from_document(build_document(
        (version, classes_in(source.encode(), name)) for version, source in releases))


def _scan(tmp_path: Path) -> CodeScan:
    (tmp_path / "modeling_toy.py").write_text(MODEL)
    return scan_files(tmp_path, [tmp_path / "modeling_toy.py"], "remote code")


def test_members_gone_from_the_base_are_named_with_the_releases_that_had_them(
        tmp_path: Path) -> None:
    missing, _ = member_problems(_index(), [_scan(tmp_path)], "4.40.0")
    # an attribute the base's __init__ set, and an annotated class attribute
    assert [(m["where"], m["name"], m["present"]) for m in missing] == [
        ("modeling_toy.py:6", "cached_flag", "4.30.0"),
        ("modeling_toy.py:6", "old_attr", "4.30.0")]


def test_a_member_added_later_reads_as_that_release_and_later(tmp_path: Path) -> None:
    missing, _ = member_problems(_index(), [_scan(tmp_path)], "4.30.0")
    assert [(m["where"], m["name"], m["present"]) for m in missing] == [
        ("modeling_toy.py:9", "added", "4.40.0 and later")]


@pytest.mark.parametrize("version", ["4.40.0", "4.50.0"])
def test_an_override_is_compared_with_the_nearest_base_and_its_keyword_only_parameters(
        tmp_path: Path, version: str) -> None:
    # PreTrainedModel.hook (not the mixin's hook(x, y)) is what ToyModel.hook overrides; it
    # gained the keyword-only `extra` in 4.40.0.
    _, overrides = member_problems(_index(), [_scan(tmp_path)], version)
    assert [(o["where"], o["method"], o["param"], o["added"]) for o in overrides] == [
        ("modeling_toy.py:5", "hook", "extra", "4.40.0")]
