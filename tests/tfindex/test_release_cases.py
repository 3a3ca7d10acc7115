"""Real checkpoints against the committed index: nested model types, yanked releases,
releases newer than the index, and an index file that cannot be read."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.conftest import environment, make_knowledge, snapshot
from tests.modelcode.test_check_model_code import _by_id, _check, _env, _remote_model
from tests.modelfiles.tiny import QWEN_TENSORS, write_model
from vlmdoctor.evaluate.context import Context
from vlmdoctor.evaluate.engine import evaluate
from vlmdoctor.evaluate.transformers_window import combine
from vlmdoctor.knowledge.cards import PackageRequirement
from vlmdoctor.report import Finding
from vlmdoctor.target import ResolvedModel
from vlmdoctor.tfindex import index as index_module
from vlmdoctor.tfindex.index import load_index
from vlmdoctor.tfindex.releases import Placement

INDEX = load_index()
KNOWLEDGE = make_knowledge()

# Llama-3.2-11B-Vision's config.json layout (values trimmed): the parent config builds both
# nested configs itself, so only 'mllama' must be registered.
MLLAMA_CONFIG: dict[str, Any] = {
    "architectures": ["MllamaForConditionalGeneration"], "model_type": "mllama",
    "torch_dtype": "bfloat16", "transformers_version": "4.45.0.dev0",
    "text_config": {"model_type": "mllama_text_model", "hidden_size": 64,
                    "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 320},
    "vision_config": {"model_type": "mllama_vision_model", "hidden_size": 32,
                      "num_hidden_layers": 2, "image_size": 448, "patch_size": 14},
}


def _findings(model: str, transformers: str) -> list[Finding]:
    card = KNOWLEDGE.catalogue.resolve(model)
    ctx = Context(snapshot=snapshot("a100-cu124", {"packages": {"transformers": transformers}}),
                  tables=KNOWLEDGE.tables, card=card, model=ResolvedModel(model, card))
    return [f for f in evaluate(KNOWLEDGE.rules, ctx) if f.id.startswith(("model-transformers",
                                                                         "transformers-index"))]


def test_nested_model_types_need_no_registration(tmp_path: Path) -> None:
    """mllama_text_model/mllama_vision_model entered CONFIG_MAPPING only in 5.6.0."""
    assert INDEX.model_type_spans("mllama_text_model")[0][0] == INDEX.releases.index("5.6.0")
    model = write_model(tmp_path / "mllama", config=MLLAMA_CONFIG, tensors=QWEN_TENSORS)
    found = _by_id(_check("--model", str(model), "--from-report", str(_env(tmp_path, "4.57.1"))))
    assert "model-transformers-version" not in found
    old = _by_id(_check("--model", str(model), "--from-report", str(_env(tmp_path, "4.44.2"))))
    [tf] = old["model-transformers-version"]
    assert tf["severity"] == "error"
    assert tf["title"] == f"{model} needs transformers>=4.45.0; found 4.44.2"
    assert tf["fix"] == ["pip install 'transformers>=4.45.0'"]
    assert "model_type 'mllama' is registered by transformers 4.45.0 and later" in tf["message"]
    assert "mllama_text_model" not in tf["message"]


def test_yanked_release_is_indexed_and_never_an_error_when_installed() -> None:
    assert {"4.46.0", "4.52.0", "4.57.0", "5.10.0"} <= INDEX.yanked
    assert INDEX.place("4.57.0") == Placement(INDEX.releases.index("4.57.0"), "4.57.0",
                                              "4.57.0", newer=False)
    assert _findings("qwen3-vl-8b-instruct", "4.57.0") == []
    [tf] = _findings("qwen3-vl-8b-instruct", "4.56.2")
    assert (tf.id, tf.severity) == ("model-transformers-version", "error")
    assert tf.title == "Qwen3-VL-8B-Instruct needs transformers>=4.57.0; found 4.56.2"
    assert tf.fix == ("pip install 'transformers>=4.57.0' accelerate",)
    assert "model_type 'qwen3_vl' is registered by transformers 4.57.0 and later" in tf.message


def test_a_yanked_release_is_never_recommended() -> None:
    req = PackageRequirement(package="transformers", spec=">=4.57.0", severity="error",
                             why="qwen3_vl.", fix=("pip install 'transformers==4.57.0'",),
                             references=())
    [record] = combine([req], "4.56.2", [], INDEX)
    assert record["fix"] == ["pip install 'transformers>=4.57.1'"]


@pytest.mark.parametrize(("version", "read_as", "newer"), [
    ("4.57.1+cu124.local", "4.57.1", False),     # a +local build is its public version
    ("4.58.0.dev0", "4.57.6", False),            # a dev build of an unreleased version
    ("5.0.0.dev0", "4.57.6", False),             # ... reads as that version's predecessor
    ("5.0.0rc1", "5.0.0rc1", False),             # an indexed release candidate is itself
    ("5.0.0rc9", "5.0.0rc3", False),             # a later one: the newest of its version
    ("4.57.7", "4.57.6", False),                 # an unindexed patch: the one below
    ("99.0.0", INDEX.newest, True),              # newer than the index: its newest, said
    (f"{INDEX.newest}.post1", INDEX.newest, True),
    (INDEX.newest, INDEX.newest, False),
    ("4.29.0", None, False),                     # older than the index: unknown
])
def test_where_a_version_reads(version: str, read_as: str | None, newer: bool) -> None:
    placed = INDEX.place(version)
    assert (placed.read_as, placed.newer) == (read_as, newer) if placed else read_as is None


def test_newer_than_the_index_is_said_and_claims_still_made(tmp_path: Path) -> None:
    model = _remote_model(tmp_path)
    found = _by_id(_check("--model", str(model), "--from-report", str(_env(tmp_path, "99.0.0"))))
    [note] = found["transformers-index-coverage"]
    assert (note["severity"], note["title"]) == (
        "info", f"transformers 99.0.0 is newer than the release index (newest: {INDEX.newest})")
    assert note["message"].startswith(
        f"Found transformers 99.0.0. The release index ends at transformers {INDEX.newest}, "
        f"so the checks of the model's model_type and of its code's transformers imports read "
        f"99.0.0 as {INDEX.newest}")
    assert note["fix"] == ["python scripts/build_transformers_index.py --refresh  # in a "
                           "vlmdoctor checkout; then reinstall it"]
    [tf] = found["model-transformers-version"]  # _get_unpad_data left modeling_llama in 4.43
    assert (tf["severity"], tf["fix"]) == ("error", ["pip install 'transformers>=4.36.0,<4.43.0'"])
    assert (f"(transformers 99.0.0 is newer than the release index, whose newest release is "
            f"{INDEX.newest}: read as {INDEX.newest}.)") in tf["message"]
    inside = _by_id(_check("--model", str(model), "--from-report", str(_env(tmp_path, "4.42.4"))))
    assert "transformers-index-coverage" not in inside


def _bad(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "data" / "transformers-index.json.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    good = (Path(index_module.__file__).parents[2] / "rules" / "data" / path.name).read_bytes()
    if kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "format":
        path.write_bytes(gzip.compress(json.dumps({"format": 99}).encode()))
    elif kind == "shape":
        path.write_bytes(gzip.compress(json.dumps({"format": 3, "releases": 7}).encode()))
    elif kind == "fifo":  # a pipe in its place is refused, never read (it would block)
        os.mkfifo(path)
    return path  # "missing": nothing written


@pytest.mark.parametrize(("kind", "cause"), [
    ("missing", "cannot read the transformers index ([Errno 2] No such file or directory"),
    ("truncated", "cannot read the transformers index (Compressed file ended before"),
    ("format", "format 99, expected 3; rebuild it with scripts/build_transformers_index.py"),
    ("shape", "not a transformers index (TypeError: 'int' object is not iterable)"),
    ("fifo", "is a FIFO, not a transformers index"),
])
def test_an_unreadable_index_is_one_line_naming_it_and_what_was_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, cause: str) -> None:
    path = _bad(tmp_path, kind)
    read = index_module.load_index.__wrapped__  # the reader without its cache
    monkeypatch.setattr(index_module, "load_index", lambda: read(path))
    [note] = _findings("qwen3-vl-8b-instruct", "4.57.1")
    assert (note.id, note.severity) == ("transformers-index-coverage", "warning")
    assert note.title == f"{path}: the transformers release index cannot be read"
    assert cause in note.message and "\n" not in note.message
    assert note.message.endswith(
        "; the model_type registration and model-code import checks against transformers "
        "releases were skipped.")


def test_an_unreadable_names_file_is_said_when_the_code_needs_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = Path(index_module.__file__).parents[2] / "rules" / "data"
    (tmp_path / "data").mkdir()
    head = tmp_path / "data" / "transformers-index.json.gz"
    head.write_bytes((data / head.name).read_bytes())
    names = tmp_path / "data" / "transformers-names.json.gz"
    names.write_bytes((data / names.name).read_bytes()[:1000])
    read = index_module.load_index.__wrapped__
    monkeypatch.setattr(index_module, "load_index", lambda: read(head))
    model = _remote_model(tmp_path)
    env = tmp_path / "env.json"
    env.write_text(json.dumps(environment("a100-cu124", {"packages": {
        "transformers": "4.42.4", "einops": "0.8.0"}})))
    code, out, err = run("check", "--no-probe", "--format", "json", "--model", str(model),
                         "--from-report", str(env))
    assert (code, err) == (0, "")
    [note] = _by_id(json.loads(out))["transformers-index-coverage"]
    assert (note["severity"], note["title"]) == (
        "warning", f"{names}: the transformers release index cannot be read")
    assert note["message"].startswith(f"Found transformers 4.42.4. {names}: cannot read the "
                                      "transformers names index (Compressed file ended before")


@pytest.mark.parametrize("version, severity", [
    ("4.45.0.dev0", "warning"),  # a git build on the way to 4.45.0: it may have qwen2_vl
    ("4.45.0rc9", "warning"),    # a release candidate the index does not list: the same
    ("4.44.2", "error"),         # the last release before: it does not
    ("4.44.0.dev0", "error"),    # a build on the way to 4.44.0, which does not have it either
])
def test_a_build_on_the_way_to_the_first_release_is_unproven_not_broken(
        version: str, severity: str) -> None:
    """qwen2_vl is registered from transformers 4.45.0 (the index and the card agree)."""
    [tf] = _findings("qwen2-vl-7b", version)
    assert (tf.id, tf.severity) == ("model-transformers-version", severity)
    assert tf.fix == ("pip install 'transformers>=4.45.0'",)
    on_the_way = (f"transformers {version} is a pre-release build on the way to 4.45.0, which "
                  "registers model_type 'qwen2_vl' (first in 4.45.0)")
    assert (on_the_way in tf.message) == (severity == "warning")


def test_a_build_on_the_way_to_a_release_outside_the_window_stays_an_error() -> None:
    """MGM-34B pins transformers==4.36.2: a build on the way to 4.37.0 is outside it
    whichever side of any change it is on."""
    [tf] = _findings("minigemini-34b", "4.37.0.dev0")
    assert (tf.id, tf.severity) == ("model-transformers-version", "error")
    assert _findings("qwen2-vl-7b", "4.46.0.dev0") == []  # on the way past 4.45: read as 4.45.x
