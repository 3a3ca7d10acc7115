"""The tripwire on golden files: a golden may only change together with the files that
render it, and tests/render/golden_manifest.json must record the current hashes. Works on a clean
checkout with no git history: the manifest carries the hashes (golden_manifest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.render import golden_manifest as gm
from tests.render import test_golden


@pytest.mark.parametrize("name", gm.goldens())
def test_golden_changes_only_with_the_code_that_renders_it(name: str) -> None:
    entry = gm.load()["goldens"].get(name)
    assert entry is not None, (f"tests/golden/{name} has no entry in "
                               "tests/render/golden_manifest.json: add its renderer and "
                               "inputs, then run " + gm.REFRESH)
    complaint = gm.golden_moved_alone(name, entry)
    if complaint is not None:
        pytest.fail(complaint)


@pytest.mark.parametrize("name", gm.goldens())
def test_manifest_records_the_current_hashes(name: str) -> None:
    complaint = gm.staleness(name, gm.load()["goldens"][name])
    if complaint is not None:
        pytest.fail(complaint)


def test_manifest_lists_exactly_the_goldens() -> None:
    assert sorted(gm.load()["goldens"]) == gm.goldens()


def test_each_golden_is_rendered_by_its_format() -> None:
    renderer = {".json": "vlmdoctor.render.jsonfmt", ".txt": "vlmdoctor.render.text",
                ".md": "vlmdoctor.render.markdown"}
    for name, entry in gm.load()["goldens"].items():
        assert entry["renderer"] == renderer[Path(name).suffix], name
        assert "tests/render/test_golden.py" in entry["inputs"], name


def test_render_sources_follow_imports_inside_functions() -> None:
    # markdown.py imports render/fixplan.py inside report_markdown(); report.py brings the
    # package's __version__; both are part of what renders the Markdown golden.
    sources = gm.render_sources("vlmdoctor.render.markdown")
    assert {"vlmdoctor/render/markdown.py", "vlmdoctor/render/fixplan.py",
            "vlmdoctor/render/jsonfmt.py", "vlmdoctor/render/safe.py",
            "vlmdoctor/render/summary.py", "vlmdoctor/report.py", "vlmdoctor/snapshot.py",
            "vlmdoctor/__init__.py"} <= set(sources)
    assert "vlmdoctor/render/text.py" not in sources  # not imported by the Markdown renderer


# -- the tripwire itself, on a scratch tree ---------------------------------------------

@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny repository: a renderer that imports a helper, one golden, its manifest."""
    render = tmp_path / "vlmdoctor" / "render"
    render.mkdir(parents=True)
    (tmp_path / "vlmdoctor" / "__init__.py").write_text("")
    (render / "__init__.py").write_text("")
    (render / "fmt.py").write_text("def show(x):\n"
                                   "    from vlmdoctor.render.helper import wrap\n"
                                   "    return wrap(x)\n")
    (render / "helper.py").write_text("def wrap(x):\n    return f'[{x}]'\n")
    (tmp_path / "case.json").write_text("{}")
    golden = tmp_path / "tests" / "golden"
    golden.mkdir(parents=True)
    (golden / "g.txt").write_text("[a]\n")
    monkeypatch.setattr(gm, "ROOT", tmp_path)
    monkeypatch.setattr(gm, "GOLDEN", golden)
    monkeypatch.setattr(gm, "MANIFEST", tmp_path / "golden_manifest.json")
    gm.save({"goldens": {"g.txt": {"renderer": "vlmdoctor.render.fmt",
                                   "inputs": ["case.json"]}}})
    assert gm.record("g.txt") is None
    return tmp_path


def _entry() -> dict:
    return gm.load()["goldens"]["g.txt"]


def test_recorded_sources_are_the_renderer_its_imports_and_inputs(tree: Path) -> None:
    assert sorted(_entry()["sources"]) == ["case.json", "vlmdoctor/__init__.py",
                                           "vlmdoctor/render/__init__.py",
                                           "vlmdoctor/render/fmt.py",
                                           "vlmdoctor/render/helper.py"]
    assert gm.staleness("g.txt", _entry()) is None


def test_a_golden_edited_alone_fails_and_names_the_golden_and_its_modules(tree: Path) -> None:
    (tree / "tests" / "golden" / "g.txt").write_text("[b]\n")
    before = gm.MANIFEST.read_bytes()
    complaint = gm.golden_moved_alone("g.txt", _entry())
    assert complaint is not None
    assert complaint.startswith("tests/golden/g.txt changed, but none of the files that "
                                "render it did (case.json, vlmdoctor/__init__.py, "
                                "vlmdoctor/render/__init__.py, vlmdoctor/render/fmt.py, "
                                "vlmdoctor/render/helper.py)")
    # a refresh leaves the manifest as it was and says the same
    assert gm.record("g.txt") == complaint
    assert gm.MANIFEST.read_bytes() == before
    assert (gm.staleness("g.txt", _entry()) or "").startswith(
        "tests/golden/g.txt differs from its hash in tests/render/golden_manifest.json while none")


def test_a_golden_that_moved_with_its_helper_is_recorded(tree: Path) -> None:
    (tree / "vlmdoctor" / "render" / "helper.py").write_text(
        "def wrap(x):\n    return f'<{x}>'\n")
    (tree / "tests" / "golden" / "g.txt").write_text("<a>\n")
    assert gm.golden_moved_alone("g.txt", _entry()) is None
    assert gm.staleness("g.txt", _entry()) == (
        "tests/render/golden_manifest.json is stale for g.txt: tests/golden/g.txt, "
        "vlmdoctor/render/helper.py changed since it was recorded. Record it with: "
        "UPDATE_GOLDEN=1 python -m pytest tests/render")
    assert gm.record("g.txt") is None
    assert gm.staleness("g.txt", _entry()) is None
    assert _entry()["sha256"] == gm.digest(tree / "tests" / "golden" / "g.txt")


def test_code_changed_but_golden_did_not_is_stale_until_recorded(tree: Path) -> None:
    (tree / "vlmdoctor" / "render" / "fmt.py").write_text(
        "from vlmdoctor.render.helper import wrap\n\n\ndef show(x):\n    return wrap(x)\n")
    old_golden = _entry()["sha256"]
    assert "vlmdoctor/render/fmt.py changed" in (gm.staleness("g.txt", _entry()) or "")
    assert gm.record("g.txt") is None
    assert _entry()["sha256"] == old_golden and gm.staleness("g.txt", _entry()) is None


def test_naming_the_cause_in_inputs_accepts_a_golden_change(tree: Path) -> None:
    (tree / "rule.yaml").write_text("message: new words\n")
    (tree / "tests" / "golden" / "g.txt").write_text("[new words]\n")
    assert gm.record("g.txt") is not None  # the rule file is not a render source yet
    data = gm.load()
    data["goldens"]["g.txt"]["inputs"].append("rule.yaml")
    gm.save(data)
    assert gm.record("g.txt") is None
    assert "rule.yaml" in _entry()["sources"]


def test_a_crlf_checkout_hashes_like_the_lf_one(tree: Path) -> None:
    golden = tree / "tests" / "golden" / "g.txt"
    golden.write_bytes(b"[a]\r\n")
    assert gm.staleness("g.txt", _entry()) is None


def test_update_golden_rewrites_the_golden_but_not_the_manifest_when_no_code_changed(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDATE_GOLDEN", "1")
    monkeypatch.setattr(test_golden, "GOLDEN", gm.GOLDEN)
    before = gm.MANIFEST.read_bytes()
    with pytest.raises(pytest.fail.Exception, match=r"tests/golden/g.txt changed, but none"):
        test_golden._compare("g.txt", "[whatever the code prints]\n")
    assert (gm.GOLDEN / "g.txt").read_text() == "[whatever the code prints]\n"
    assert gm.MANIFEST.read_bytes() == before
    assert json.loads(before)["goldens"]["g.txt"]["sha256"] != gm.digest(gm.GOLDEN / "g.txt")


def test_update_golden_records_when_the_renderer_changed(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDATE_GOLDEN", "1")
    monkeypatch.setattr(test_golden, "GOLDEN", gm.GOLDEN)
    (tree / "vlmdoctor" / "render" / "helper.py").write_text(
        "def wrap(x):\n    return f'<{x}>'\n")
    test_golden._compare("g.txt", "<a>\n")
    assert gm.staleness("g.txt", _entry()) is None
