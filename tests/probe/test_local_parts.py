"""The parts of the local-model probe that need no torch: frames, classification, wiring."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, Callable

import pytest

from vlmdoctor.errors import InputError
from vlmdoctor.probe import ProbeRequest, ProbeResult, probe_findings, run_probe
from vlmdoctor.probe.context import CheckFailed
from vlmdoctor.probe.frames import model_frame
from vlmdoctor.probe.local import _remote
from vlmdoctor.probe.runner import _env, child_args

FakeChild = Callable[[str], "list[str]"]


def _traceback(filename: str, source: str) -> TracebackType:
    try:
        exec(compile(source, filename, "exec"), {})
    except Exception:
        tb = sys.exc_info()[2]
        assert tb is not None
        return tb
    raise AssertionError("did not raise")


def test_frame_in_remote_code_is_shown_by_its_file_name_only() -> None:
    tb = _traceback("/home/me/.cache/x/transformers_modules/ckpt/modeling_toy.py",
                    "def forward():\n    raise RuntimeError('boom')\nforward()\n")
    # linecache has no source for a made-up file: the code part is then empty
    assert model_frame(tb, frozenset({"modeling_toy.py"})) == "modeling_toy.py:2 in forward: "
    assert model_frame(tb, frozenset({"other.py"})) is None


def test_frame_in_transformers_models_is_shown_from_transformers_on(tmp_path: Path) -> None:
    path = tmp_path / "site-packages" / "transformers" / "models" / "llava" / "modeling_llava.py"
    path.parent.mkdir(parents=True)
    path.write_text("def f():\n    x = 1\n    raise ValueError('\x1b[31m', x)\nf()\n")
    tb = _traceback(str(path), path.read_text())
    assert model_frame(tb, frozenset()) == (
        "transformers/models/llava/modeling_llava.py:3 in f: raise ValueError(' [31m', x)")
    elsewhere = _traceback(str(tmp_path / "generate.py"), "raise ValueError(1)\n")
    assert model_frame(elsewhere, frozenset({"generate.py"})) is None


def test_auto_map_into_another_repository_is_refused() -> None:
    assert _remote({"auto_map": {"AutoConfig": "configuration_x.XConfig"}}) is True
    assert _remote({"model_type": "llava"}) is False
    with pytest.raises(CheckFailed, match=r"auto_map points at code in another repository "
                                          r"\(org/repo--modeling_x\.X\)"):
        _remote({"auto_map": {"AutoModel": ["org/repo--modeling_x.X", None]}})


def test_unclassified_error_with_a_model_frame_is_a_model_code_finding(
        fake_child: FakeChild) -> None:
    error = {"type": "RuntimeError", "message": "RuntimeError: rotary table too short",
             "frame": "modeling_toy.py:40 in forward: x = rope(x)"}
    lines = [{"event": "step-start", "name": "local-model"},
             {"event": "step-end", "name": "local-model", "status": "failed", "seconds": 0.5,
              "detail": error["message"]},
             {"event": "result", "device": "cpu", "generated_tokens": 0,
              "peak_memory_bytes": {}, "error": {**error, "step": "local-model"}}]
    script = "import json\n" + "".join(
        f"print('@@vlmdoctor-probe@@ ' + json.dumps({e!r}))\n" for e in lines)
    result = run_probe(ProbeRequest(timeout=30), command=fake_child(script))
    assert result.error is not None
    assert (result.error.kind, result.error.message) == (
        "model-code", "RuntimeError: rotary table too short\n"
                      "in the model's code: modeling_toy.py:40 in forward: x = rope(x)")
    (finding,) = probe_findings(result)
    assert (finding.id, finding.severity, finding.title) == (
        "probe-model-code", "error", "The model's own code failed")
    assert finding.message.startswith(
        "Probe step 'local-model' failed: RuntimeError: rotary table too short. In the model's "
        "code at modeling_toy.py:40 in forward: x = rope(x). The exception was raised")


def test_meta_only_step_gives_an_info_finding_also_from_a_saved_report() -> None:
    section = {"status": "passed", "device": "cpu", "generated_tokens": 0,
               "tokens_per_second": None, "peak_memory_bytes": {}, "error": None,
               "steps": [{"name": "local-model", "status": "passed", "seconds": 1.0,
                          "detail": "meta device only: X.__init__ ran at full size"}]}
    (finding,) = probe_findings(ProbeResult.from_dict(section))
    assert (finding.id, finding.severity) == ("probe-meta-only", "info")
    assert finding.message.endswith("Step detail: meta device only: X.__init__ ran at full size")


def test_model_path_must_be_a_model_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^probe: --model .*: not a model directory "
                                         r"\(no config\.json\)$"):
        run_probe(ProbeRequest(model_path=str(tmp_path)))


def test_child_gets_an_absolute_model_path_and_a_private_modules_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt").mkdir()
    args = child_args(ProbeRequest(model_path="ckpt"), "/w")
    assert args[args.index("--model-path") + 1] == str(tmp_path / "ckpt")
    env = _env({"HF_MODULES_CACHE": "/home/me/modules"}, "/w/lib", "/w")
    assert env["HF_MODULES_CACHE"] == os.path.join("/w", "hf-modules")


def test_check_probe_stage_passes_the_local_model_directory(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import vlmdoctor.probe as probe
    from vlmdoctor.modelfiles.locate import ModelSource
    from vlmdoctor.stages import probing
    from vlmdoctor.target import NO_MODEL, ResolvedModel

    seen: list[ProbeRequest] = []

    def fake_run(request: ProbeRequest, **_: Any) -> ProbeResult:
        seen.append(request)
        return ProbeResult.skipped("test")

    monkeypatch.setattr(probe, "run_probe", fake_run)
    monkeypatch.setattr(probe, "torch_importable", lambda *a: True)
    local = ResolvedModel("./ckpt", source=ModelSource("directory", "ckpt", local=tmp_path))
    snapshot = tmp_path / "models--org--name" / "snapshots" / "abc123"
    cached = ResolvedModel("org/name", source=ModelSource("hf-cache", "~/x", "abc123",
                                                          local=snapshot))
    catalogue = ResolvedModel("qwen2-vl-7b", source=ModelSource("catalogue"))
    for model in (local, cached, catalogue, NO_MODEL):
        probing(30.0)(None, model, "auto")  # type: ignore[arg-type]
    assert [(r.model_path, r.timeout) for r in seen] == [
        (str(tmp_path), 30.0), (str(snapshot), 30.0), (None, 30.0), (None, 30.0)]
