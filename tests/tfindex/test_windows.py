"""Windows are sets of releases: what a specifier built from the index admits is exactly
what the index's per-release data says (property tests), on synthetic and committed data."""

from __future__ import annotations

import gzip
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from vlmdoctor.modelcode.scan import CodeScan, ImportSite
from vlmdoctor.modelcode.tfcheck import code_name_problems, model_type_needs, positions
from vlmdoctor.tfindex.build import build_index
from vlmdoctor.tfindex.index import TransformersIndex, from_document, load_index
from vlmdoctor.tfindex.releases import MAX_HOLES

# A release line with what makes windows hard: yanked finals, release candidates.
RELEASES = ["4.40.0", "4.41.0", "4.42.0", "4.43.0", "4.44.0", "4.45.0", "4.46.0",
            "4.46.1", "4.47.0", "5.0.0rc0", "5.0.0rc1", "5.0.0", "5.1.0", "5.2.0"]
YANKED = ["4.46.0"]
MOD = "transformers.x"


def _synthetic(present: set[int]) -> TransformersIndex:
    scans: dict[str, Any] = {
        v: {"model_types": ["newvlm"] if i in present else ["llama"],
            "modules": {MOD: ["Name"] if i in present else ["Other"]}}
        for i, v in enumerate(RELEASES)}
    return from_document(json.loads(gzip.decompress(build_index(scans, yanked=YANKED))))


def _admits(spec: str, release: str) -> bool:
    return SpecifierSet(spec).contains(release)  # pip's reading: no pre-releases


def _check_window(index: TransformersIndex, present: set[int]) -> None:
    spec = index.window_spec(present)
    offered = [p for p in index.recommendable() if p in present]
    if not offered:
        assert spec is None
        return
    assert spec is not None
    admitted = {p for p in index.recommendable() if _admits(spec, index.releases[p])}
    assert admitted <= present  # never a release that lacks the name
    assert max(offered) in admitted  # the newest release that has it is always offered
    holes = [p for p in index.recommendable() if min(offered) < p < max(offered)
             and p not in present]
    if len(holes) <= MAX_HOLES:
        assert admitted == set(offered)  # the whole set, older than any gap too
    for p in range(len(index.releases)):  # a yanked release is never pinned or excluded,
        release = index.releases[p]          # a pre-release never named at all
        if release in index.yanked:
            assert f"=={release}" not in spec and f"!={release}" not in spec
        if "rc" in release:
            assert release not in spec


@settings(max_examples=150, deadline=None)
@given(st.sets(st.integers(0, len(RELEASES) - 1)), st.integers(0, len(RELEASES) - 1))
def test_synthetic_windows_agree_with_per_release_data(present: set[int], installed: int) -> None:
    index = _synthetic(present)
    _check_window(index, present)
    version = RELEASES[installed]
    code = CodeScan("remote code", ("m.py",), (ImportSite("m.py", 1, MOD, ("Name",), False, ""),))
    problems = code_name_problems(index, [code], version)
    needs = model_type_needs(index, ["newvlm"], version)
    if not present:
        assert problems is None and needs == []  # in no indexed release: no claim
    else:
        assert (problems is None) == (installed in present)
        assert (needs == []) == (installed in present)
        if problems is not None:
            assert problems["spec"] == index.window_spec(present)


def test_one_release_without_the_name_does_not_cut_off_the_older_ones() -> None:
    """Present 4.40.0-4.42.0 and 4.44.0 onwards: 4.43.0 is a hole, not the window's end."""
    present = set(range(len(RELEASES))) - {3}
    index = _synthetic(present)
    assert index.window_spec(present) == ">=4.40.0,!=4.43.0"
    code = CodeScan("remote code", ("m.py",), (ImportSite("m.py", 4, MOD, ("Name",), False, ""),))
    problems = code_name_problems(index, [code], "4.43.0")
    assert problems is not None
    assert problems["spec"] == ">=4.40.0,!=4.43.0"
    assert problems["missing"] == [{"where": "m.py:4", "name": "transformers.x.Name",
                                    "present": "4.40.0 to 4.42.0, 4.44.0 and later"}]
    assert code_name_problems(index, [code], "4.41.0") is None


def test_a_release_candidate_or_yanked_release_without_the_name_is_no_hole() -> None:
    present = set(range(len(RELEASES))) - {6, 9}  # 4.46.0 (yanked) and 5.0.0rc0
    index = _synthetic(present)
    assert index.window_spec(present) == ">=4.40.0"
    # In words: a release candidate never splits a span; a yanked release is a real one.
    assert index.span_text(sorted((p, p) for p in present)) == "4.40.0 to 4.45.0, 4.46.1 and later"
    assert index.span_text([(0, 8), (10, 13)]) == "4.40.0 and later"


def test_many_holes_offer_the_newest_unbroken_run() -> None:
    present = {0, 2, 4, 7, 11, 12, 13}  # holes 4.41, 4.43, 4.45, 4.47: more than MAX_HOLES
    assert _synthetic(present).window_spec(present) == ">=5.0.0"


def test_a_window_that_ends_names_the_next_final_release() -> None:
    present = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}  # up to 4.47.0 and both release candidates
    assert _synthetic(present).window_spec(present) == ">=4.40.0,<5.0.0"
    assert _synthetic({6}).window_spec({6}) is None  # only a yanked release: nothing to offer
    # The first release with the name is yanked: it bounds the window (pip skips it).
    assert _synthetic({6, 7, 8}).window_spec({6, 7, 8}) == ">=4.46.0,<5.0.0"


COMMITTED = load_index()
PAIRS = sorted((m, n) for m in COMMITTED.modules for n in COMMITTED.names(m))
TYPES = sorted(COMMITTED.model_types)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(PAIRS), st.sampled_from(COMMITTED.releases))
def test_committed_windows_agree_with_per_release_data(pair: tuple[str, str],
                                                       release: str) -> None:
    module, name = pair
    present = positions(COMMITTED.name_spans(module, name))
    _check_window(COMMITTED, present)
    pos = COMMITTED.releases.index(release)
    module_there = pos in positions(COMMITTED.module_spans(module))
    assert COMMITTED.has_name(module, name, release) is ((pos in present) if module_there else None)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(TYPES), st.sampled_from(COMMITTED.releases))
def test_committed_model_type_windows_agree(model_type: str, release: str) -> None:
    present = positions(COMMITTED.model_type_spans(model_type))
    _check_window(COMMITTED, present)
    needs = model_type_needs(COMMITTED, [model_type], release)
    assert (needs == []) == (COMMITTED.releases.index(release) in present)
