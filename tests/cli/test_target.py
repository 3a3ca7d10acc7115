"""--model beyond the catalogue: unknown names, model directories, the HF cache, and the
saved target replayed by --from-report (issue 8 §1-§2, issue 11 replay)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.conftest import environment
from tests.modelfiles.tiny import (
    QWEN_CONFIG,
    QWEN_PREPROCESSOR,
    QWEN_TENSORS,
    write_cache,
    write_model,
)


def env_file(tmp_path: Path, base: str, patch: dict[str, Any] | None = None) -> Path:
    path = tmp_path / f"{base}.json"
    path.write_text(json.dumps(environment(base, patch)))
    return path


def check(*args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run("check", "--no-probe", "--format", "json", *args)
    assert out, err
    return code, json.loads(out)


def ids(report: dict[str, Any]) -> list[str]:
    return [f["id"] for f in report["findings"]]


def test_unknown_model_is_a_warning_and_the_environment_is_still_checked(
        tmp_path: Path) -> None:
    old_driver = env_file(tmp_path, "a100-cu124", {"driver": {"version": "470.57.02",
                                                              "cuda": "11.4"}})
    code, report = check("--from-report", str(old_driver), "-m", "minigemni-7b")
    assert code == 1  # the driver error, not the unknown name
    assert ids(report) == ["cuda-driver-too-old", "model-unknown"]
    unknown = report["findings"][1]
    assert unknown["severity"] == "warning"
    assert unknown["title"] == ("Unknown model 'minigemni-7b': model checks skipped, "
                                "environment checked")
    assert "(closest: minigemini-7b, minigemini-8x7b, minigemini-8b)" in unknown["message"]
    assert unknown["fix"][0].startswith("vlmdoctor check --model ./path/to/model")
    assert report["target"] == {"model": "minigemni-7b", "dtype": None, "source": None}

    assert not any(line.startswith("huggingface-cli") for line in unknown["fix"])
    healthy = env_file(tmp_path, "a100-cu124")
    code, report = check("--from-report", str(healthy), "-m", "acme/unheard-of-vl")
    assert code == 0
    assert report["findings"][0]["fix"][1] == (
        "huggingface-cli download acme/unheard-of-vl   # then re-run this check: vlmdoctor "
        "reads the cache, never the network")
    assert check("--from-report", str(healthy), "-m", "acme/unheard-of-vl",
                 "--fail-on", "warning")[0] == 1


def test_unknown_model_in_explain_and_plan(tmp_path: Path) -> None:
    healthy = env_file(tmp_path, "a100-cu124")
    code, out, _ = run("explain", "-m", "acme/unheard-of-vl", "--from-report", str(healthy),
                       "--format", "json", "CUDA out of memory. Tried to allocate 2.00 GiB")
    assert code == 0
    assert "model-unknown" in ids(json.loads(out))
    code, out, err = run("plan", "-m", "acme/unheard-of-vl", "--gpus", "1xA100-80GB")
    assert (code, err) == (1, "")
    assert out.startswith("Cannot plan: unknown model 'acme/unheard-of-vl': not in the "
                          "catalogue (closest: none), not a model directory, and not a repo "
                          "in the local Hugging Face cache.\n")
    code, out, _ = run("plan", "-m", "minigemni-7b", "--gpus", "T4", "--format", "json")
    assert code == 1
    assert json.loads(out)["fits"] is None
    assert json.loads(out)["suggestions"] == ["minigemini-7b", "minigemini-8x7b", "minigemini-8b"]


def test_issue_11_from_report_replays_the_saved_model_and_dtype(tmp_path: Path) -> None:
    """A failing InternVL bf16 report must not re-check as PASS without --model."""
    t4 = env_file(tmp_path, "t4-cu121")
    first = tmp_path / "user.json"
    code, _, _ = run("check", "--no-probe", "--from-report", str(t4), "-m", "internvl2-8b",
                     "--dtype", "bf16", "--format", "json", "-o", str(first))
    assert code == 1
    user = json.loads(first.read_text())
    assert "bf16-unsupported-gpu" in ids(user)
    code, again = check("--from-report", str(first))
    assert code == 1
    assert again["findings"] == user["findings"]
    assert again["target"] == user["target"] == {
        "model": "internvl2-8b", "dtype": "bf16",
        "source": {"kind": "catalogue", "path": None, "revision": None}}
    # The maintainer's overrides win.
    code, fp16 = check("--from-report", str(first), "--dtype", "fp16")
    assert "bf16-unsupported-gpu" not in ids(fp16) and fp16["target"]["dtype"] == "fp16"
    code, other = check("--from-report", str(first), "-m", "llava-1.5-7b-hf")
    assert other["target"]["model"] == "llava-1.5-7b-hf"
    assert other["target"]["dtype"] == "fp16"  # the saved dtype belonged to the old model


def test_bad_saved_target_is_an_input_error(tmp_path: Path) -> None:
    report = {"environment": environment("t4-cu121"),
              "target": {"model": "x", "dtype": "fp8"}}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    code, _, err = run("check", "--no-probe", "--from-report", str(path))
    assert (code, err) == (2, f"vlmdoctor: error: {path}: target.dtype 'fp8' is not one of "
                              "auto, bf16, fp16, fp32\n")
    report["target"] = {"model": "x", "dtype": "fp16", "source": {"kind": "directory"}}
    path.write_text(json.dumps(report))
    code, _, err = run("check", "--no-probe", "--from-report", str(path))
    assert (code, err) == (2, f"vlmdoctor: error: {path}: target.source is 'directory' but "
                              "the report has no target.model_facts\n")


def test_model_directory_is_read_and_replayed_without_the_files(tmp_path: Path) -> None:
    root = write_model(tmp_path / "ckpt", config=dict(QWEN_CONFIG), tensors=QWEN_TENSORS,
                       preprocessor=QWEN_PREPROCESSOR)
    t4 = env_file(tmp_path, "t4-cu121")
    saved = tmp_path / "report.json"
    code, _, _ = run("check", "--no-probe", "--from-report", str(t4), "-m", str(root),
                       "--format", "json", "-o", str(saved))
    assert code == 1
    user = json.loads(saved.read_text())
    assert ids(user) == ["bf16-unsupported-gpu"]  # config.json says bfloat16; a T4 has none
    target = user["target"]
    assert target["model"] == str(root) and target["dtype"] == "bf16"
    assert target["source"] == {"kind": "directory", "path": str(root), "revision": None}
    assert target["model_facts"]["params"]["total"] == 59424
    assert user["plan"]["per_gpu"][0]["weights_bytes"] == 59424 * 2  # sized from the headers
    shutil.rmtree(root)
    code, again = check("--from-report", str(saved))
    assert code == 1
    assert again["findings"] == user["findings"]
    assert again["target"] == target
    assert again["plan"] == user["plan"]
    code, out, _ = run("plan", "--from-report", str(saved), "--format", "json")
    plan = json.loads(out)
    assert (plan["model"], plan["dtype"]) == (str(root), "bf16")
    assert plan["per_gpu"][0]["weights_bytes"] == 59424 * 2
    code, _, err = run("plan", "--from-report", str(t4))
    assert (code, err) == (2, f"vlmdoctor: error: {t4} names no model: pass --model. "
                              "(see 'vlmdoctor plan --help')\n")


def test_hf_cache_repo_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "hub"
    revision = "4f" * 20
    write_cache(cache, "acme/Tiny-VL", revision, config=dict(QWEN_CONFIG), tensors=QWEN_TENSORS,
                preprocessor=QWEN_PREPROCESSOR)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    a100 = env_file(tmp_path, "a100-cu124")
    code, report = check("--from-report", str(a100), "-m", "acme/Tiny-VL")
    assert code == 0
    assert report["target"]["model"] == "acme/Tiny-VL"
    assert report["target"]["source"] == {
        "kind": "hf-cache", "revision": revision,
        "path": str(cache / "models--acme--Tiny-VL" / "snapshots" / revision)}
    assert report["target"]["model_facts"]["repo_id"] == "acme/Tiny-VL"


def test_cached_repo_of_a_catalogue_model_merges_the_curated_card(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files win on facts (size, dtype); the curated card adds its windows and pitfalls."""
    cache = tmp_path / "hub"
    write_cache(cache, "Qwen/Qwen2-VL-2B-Instruct", "ab" * 20, config=dict(QWEN_CONFIG),
                tensors=QWEN_TENSORS, preprocessor=QWEN_PREPROCESSOR)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    old = env_file(tmp_path, "a100-cu124", {"packages": {"transformers": "4.44.2"}})
    code, report = check("--from-report", str(old), "-m", "Qwen/Qwen2-VL-2B-Instruct")
    assert code == 1
    assert report["target"]["model"] == "qwen2-vl-2b-instruct"
    assert report["target"]["source"]["kind"] == "hf-cache"
    assert "model-transformers-version" in ids(report)  # the curated window still applies
    assert report["plan"]["per_gpu"][0]["weights_bytes"] == 59424 * 2  # the files' size
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    code, again = check("--from-report", str(old), "-m", "Qwen/Qwen2-VL-2B-Instruct")
    assert again["target"]["source"]["kind"] == "catalogue"  # not cached: the card alone


def test_text_output_says_which_revision_was_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "hub"
    write_cache(cache, "acme/Tiny-VL", "0123456789abcdef" * 2, config=dict(QWEN_CONFIG),
                tensors=QWEN_TENSORS)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    code, out, _ = run("check", "--no-probe", "-m", "acme/Tiny-VL", "--from-report",
                       str(env_file(tmp_path, "a100-cu124")))
    assert code == 0
    shown = cache / "models--acme--Tiny-VL" / "snapshots" / ("0123456789abcdef" * 2)
    assert (f"  model         hf-cache {shown} @ revision 0123456789ab (qwen2_vl, "
            "59,424 params, bfloat16, saved with transformers 4.45.0)\n") in out


def test_probe_with_an_unknown_model_still_probes_and_warns(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import vlmdoctor.cli.probe_cmd as probe_cmd

    monkeypatch.setattr(probe_cmd, "torch_importable", lambda *_: False)
    code, out, _ = run("probe", "-m", "acme/unheard-of-vl", "--format", "json")
    report = json.loads(out)
    assert ids(report) == ["model-unknown", "probe-skipped"]
    assert report["target"]["model"] == "acme/unheard-of-vl"
    assert report["probe"]["status"] == "skipped"
    assert code == 1  # a probe that did not pass fails the probe command, as before


def test_fine_tune_directory_merges_the_card_its_config_names(tmp_path: Path) -> None:
    """A local fine-tune whose config.json names a catalogue repo gets that card's windows;
    the target stays the directory, live and on replay."""
    root = write_model(tmp_path / "qwen2-vl-2b-instruct",
                       config={**QWEN_CONFIG, "_name_or_path": "Qwen/Qwen2-VL-2B-Instruct"},
                       tensors=QWEN_TENSORS)
    old = env_file(tmp_path, "a100-cu124", {"packages": {"transformers": "4.44.2"}})
    saved = tmp_path / "r.json"
    code, _, _ = run("check", "--no-probe", "--from-report", str(old), "-m", str(root),
                     "--format", "json", "-o", str(saved))
    user = json.loads(saved.read_text())
    assert code == 1 and "model-transformers-version" in ids(user)
    assert user["target"]["model"] == str(root)
    other = write_model(tmp_path / "plain", config=dict(QWEN_CONFIG), tensors=QWEN_TENSORS)
    code, report = check("--from-report", str(old), "-m", str(other))
    # No card named: no curated window applies; the release index still knows qwen2_vl.
    [tf] = [f for f in report["findings"] if f["id"] == "model-transformers-version"]
    assert tf["message"] == (
        "Found transformers 4.44.2. model_type 'qwen2_vl' is registered by transformers 4.45.0 "
        "and later (first in 4.45.0); transformers 4.44.2 does not know it (KeyError / 'does not "
        "recognize this architecture' at load).")
    shutil.rmtree(root)
    code, again = check("--from-report", str(saved))
    assert again["findings"] == user["findings"] and again["target"] == user["target"]
