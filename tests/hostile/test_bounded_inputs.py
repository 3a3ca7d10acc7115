"""Every JSON input is bounded: special files, sizes, depth, numbers, characters, types.

Repros of the attack's classes, through the command line, each a one-line exit 2 naming
the file and the field. Special files run in a child with a timeout and a memory limit,
so a regression fails the test instead of hanging or exhausting the machine.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, environment
from tests.hostile.test_reports import VALUES, _dumpable, base_report, paths, put, run
from tests.modelfiles.tiny import QWEN_CONFIG, QWEN_PREPROCESSOR, QWEN_TENSORS, write_model

LAUNCHED = {"RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500",
            "LOCAL_RANK": "0"}


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "vlmdoctor", *args], capture_output=True,
                          text=True, timeout=60, preexec_fn=_limit,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "VLMDOCTOR_NO_CACHE": "1",
                               **(env or {})})
    return done.returncode, done.stderr


def _special(path: Path, kind: str) -> None:
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()


def _model(tmp_path: Path, shards: int = 1) -> Path:
    return write_model(tmp_path / "ckpt", config=dict(QWEN_CONFIG), tensors=QWEN_TENSORS,
                       preprocessor=QWEN_PREPROCESSOR, shards=shards)


KINDS = {"fifo": "a FIFO", "device": "a device", "directory": "a directory"}


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"),
                    reason="needs FIFOs and /dev/zero")
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(("site", "what"), [
    ("config.json", "model config"), ("preprocessor_config.json", "model config"),
    ("model.safetensors.index.json", "model config"), ("report", "vlmdoctor report"),
    ("compare", "vlmdoctor report"), ("golden", "vlmdoctor report"),
    ("refs/main", "Hugging Face cache ref"),
])
def test_special_files_are_refused_not_read(tmp_path: Path, site: str, what: str,
                                            kind: str) -> None:
    env: dict[str, str] = {}
    if site == "refs/main":
        cache = tmp_path / "hub"
        repo = cache / "models--acme--Tiny-VL"
        write_model(repo / "snapshots" / "abc123", config=dict(QWEN_CONFIG),
                    tensors=QWEN_TENSORS)
        (repo / "refs").mkdir()
        target = repo / "refs" / "main"
        args = ["check", "--no-probe", "-m", "acme/Tiny-VL"]
        env = {"HF_HUB_CACHE": str(cache)}
    elif site in ("report", "compare", "golden"):
        target = tmp_path / "special.json"
        good = tmp_path / "good.json"
        good.write_text(json.dumps(environment("a100-cu124")))
        args = {"report": ["check", "--from-report", str(target)],
                "compare": ["compare", str(good), str(target)],
                "golden": ["cluster", "check", "--golden", str(target)]}[site]
        env = LAUNCHED if site == "golden" else {}
    else:
        root = _model(tmp_path, shards=2 if "index" in site else 1)
        target = root / site
        args = ["check", "--no-probe", "-m", str(root)]
    _special(target, kind)
    code, err = _cli(*args, env=env)
    assert code == 2, err
    assert err.endswith(f"is {KINDS[kind]}, not a {what}\n"), err
    assert err.count("\n") == 1


def _config_with(tmp_path: Path, **change: Any) -> Path:
    root = _model(tmp_path)
    config = {**QWEN_CONFIG, **change}
    (root / "config.json").write_text(json.dumps(config))
    return root


def _raw_config(tmp_path: Path, text: str) -> Path:
    root = _model(tmp_path)
    (root / "config.json").write_text(text)
    return root


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: _raw_config(p, '{"model_type": "qwen2_vl", "text_config": ' + "[" * 200
                           + "]" * 200 + "}"),
     "text_config[0][0][0]"),
    (lambda p: _raw_config(p, '{"model_type": "qwen2_vl", "hidden_size": ' + "9" * 5000 + "}"),
     "malformed JSON: an integer of 5000 digits (at most 64 are read)"),
    (lambda p: _raw_config(p, '{"model_type": "qwen2_vl", "hidden_size": Infinity}'),
     "malformed JSON: Infinity is not a JSON number"),
    (lambda p: _raw_config(p, '{"model_type": "qwen2_vl", "hidden_size": 1e999}'),
     "malformed JSON: the number 1e999 is out of range"),
    (lambda p: _raw_config(p, '{"model_type": "qwen\\u0000_vl"}'),
     "model_type: contains a NUL character or a lone surrogate"),
    (lambda p: _raw_config(p, '{"model_type": "qwen2_vl", "x": "\\ud800"}'),
     "x: contains a NUL character or a lone surrogate"),
    (lambda p: _raw_config(p, '{"model_type": "qwen2_vl", "' + "k" * 300 + '": 1}'),
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...: a key longer than 255 bytes"),
    (lambda p: _config_with(p, text_config="abc"), "text_config: expected an object"),
    (lambda p: _config_with(p, architectures="Qwen2VL"),
     "architectures: expected a list of class names"),
    (lambda p: _config_with(p, quantization_config=["fp8"]),
     "quantization_config: expected an object"),
    (lambda p: _config_with(p, transformers_version="4." + "1" * 5000),
     "transformers_version: expected a version of at most 256 characters"),
])
def test_hostile_model_configs_exit_2_naming_the_field(tmp_path: Path,
                                                      make: Callable[[Path], Path],
                                                      message: str) -> None:
    root = make(tmp_path)
    code, out, err = run("check", "--no-probe", "-m", str(root))
    assert code == 2, err
    assert err.startswith(f"vlmdoctor: error: {root}/config.json: ") and message in err, err
    assert err.count("\n") == 1 and out == ""


def _header(root: Path, header: bytes) -> None:
    (root / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)


@pytest.mark.parametrize(("header", "message"), [
    (b'{"w": {"dtype": "F16", "shape": [' + b"9" * 5000 + b"]}}", "an integer of 5000 digits"),
    (b"[" * 5000 + b"]" * 5000, "nested more than 64 levels"),
    (b'{"w": {"dtype": "F16", "shape": [' + b"2, " * 100 + b"2]}}",
     "tensor 'w': 101 dimensions is not a real tensor"),
    (b'{"__metadata__": {"a": NaN}}', "__metadata__.a: nan is not a JSON number"),
    (json.dumps({"w" * 300: {"dtype": "F16", "shape": [1]}}).encode(),
     "a key longer than 255 bytes"),
])
def test_hostile_safetensors_headers_exit_2(tmp_path: Path, header: bytes, message: str) -> None:
    root = _model(tmp_path)
    _header(root, header)
    code, _, err = run("check", "--no-probe", "-m", str(root))
    assert code == 2, err
    assert err.startswith(f"vlmdoctor: error: {root}/model.safetensors: ") and message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"packages": {"torch": "1" * 5000}},
     "environment.packages.torch: expected a version of at most 256 characters"),
    ({"driver": {"version": "5" * 5000, "cuda": "12.4"}},
     "environment.driver.version: expected a version of at most 256 characters"),
    ({"env": {"A\ud800": "x"}}, "a key with a NUL character or a lone surrogate"),
])
def test_hostile_reports_and_compare_inputs_exit_2(tmp_path: Path, change: dict[str, Any],
                                                   message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"environment": {**environment("a100-cu124"), **change}}))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(environment("a100-cu124")))
    for args in (["check", "--from-report", str(path)], ["compare", str(good), str(path)]):
        code, _, err = run(*args)
        assert code == 2, err
        assert err.startswith(f"vlmdoctor: error: {path}: ") and message in err, err


def test_a_huge_report_is_refused_by_size_without_reading_it(tmp_path: Path) -> None:
    from vlmdoctor import reportfile

    path = tmp_path / "big.json"
    with path.open("wb") as handle:
        handle.truncate(reportfile.MAX_REPORT_BYTES + 10)  # sparse: costs no disk
    code, _, err = run("check", "--from-report", str(path))
    assert (code, err) == (2, f"vlmdoctor: error: {path}: larger than 256 MiB; not a "
                              "vlmdoctor report\n")


def test_model_dir_copy_helper_is_clean(tmp_path: Path) -> None:
    root = _model(tmp_path)
    assert run("check", "--no-probe", "-m", str(root))[0] in (0, 1)
    shutil.rmtree(root)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**70), max_value=10**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8)
    | st.sampled_from(["F16", "BF16", "\x00", "\ud800", "k" * 300]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=6) | st.sampled_from(["dtype", "shape", "gpus", "environment",
                                               "report", "host", "packages", "\ud800"]),
        inner, max_size=4), max_leaves=12)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=JSON)
def test_any_safetensors_header_is_read_or_refused(tmp_path_factory: pytest.TempPathFactory,
                                                   value: Any) -> None:
    from vlmdoctor.errors import InputError
    from vlmdoctor.modelfiles.safetensors import read_header

    path = tmp_path_factory.mktemp("st") / "model.safetensors"
    raw = json.dumps(value).encode("utf-8", "surrogatepass")
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    try:
        tensors = read_header(path, "m.safetensors")
    except InputError as exc:
        assert str(exc).startswith("m.safetensors: ") and "\n" not in str(exc)
        return
    assert all(0 <= t.count < 2**53 for t in tensors)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(payloads=st.lists(JSON, min_size=1, max_size=3))
def test_any_peer_payload_is_judged_and_blamed_on_that_peer(payloads: list[Any]) -> None:
    from tests.cluster.test_gate import LAUNCH, TABLE, _local, _payload, fake
    from vlmdoctor.cluster.gate import ClusterOptions, judge

    env = environment("a100-cu124")
    nodes = {"0": _payload("a", 0, env), **{str(i + 1): p for i, p in enumerate(payloads)}}
    data = {"layers": [{"name": "store", "status": "ok", "seconds": 0.1, "failed_ranks": []}],
            "nodes": nodes, "missing_ranks": []}
    report = judge(_local(env), LAUNCH, ClusterOptions(), TABLE, environ={}, child=fake(data),
                   hostname="a")
    text = json.dumps(report.to_dict())
    text.encode("utf-8")  # no lone surrogate reaches the output
    assert "a" not in report.to_dict()["cluster"]["suspect_nodes"]
    blamed = {f.evidence.get("rank") for f in report.findings
              if f.id == "cluster-node-payload-malformed"}
    assert blamed <= {i + 1 for i in range(len(payloads))}


@pytest.mark.parametrize(("source", "unreadable"), [
    ("x = " + "a + " * 200_000 + "a\nimport flash_attn\n", "nested too deeply to parse"),
    ("x = " + "(" * 300 + ")" * 300 + "\n", "SyntaxError"),
    ("import os\n" + "if x:\n    pass\n" * 50_000 + "import flash_attn\n", None),
])
def test_the_code_scanner_survives_pathological_files(tmp_path: Path, source: str,
                                                      unreadable: str | None) -> None:
    from vlmdoctor.modelcode.scan import scan_files

    (tmp_path / "modeling_x.py").write_text(source)
    scan = scan_files(tmp_path, [tmp_path / "modeling_x.py"], "model")
    if unreadable is None:
        assert scan.unreadable == ()
        assert [i.module for i in scan.imports] == ["os", "flash_attn"]
    else:
        assert len(scan.unreadable) == 1 and unreadable in scan.unreadable[0]
        assert scan.unreadable[0].startswith("modeling_x.py: ")


def test_the_code_scanner_has_a_total_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    from vlmdoctor.modelcode import scan as scanmod

    monkeypatch.setattr(scanmod, "MAX_TOTAL_BYTES", 30)
    files = []
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("import torch\n")  # 13 bytes each
        files.append(tmp_path / name)
    (tmp_path / "c.py").write_text("import numpy as np  # twenty\n")
    files.append(tmp_path / "c.py")
    found = scanmod.scan_files(tmp_path, files, "model")
    assert [i.module for i in found.imports] == ["torch", "torch"]
    assert found.unreadable == ("c.py: ValueError: over the scan's budget of 30 bytes in all",)


def test_the_plan_bar_is_capped_in_width() -> None:
    from vlmdoctor.plan.bars import MAX_WIDTH, WIDTH, memory_bar
    from vlmdoctor.plan.result import GpuUsage

    gib = 1 << 30
    bar = memory_bar(GpuUsage(0, 8000 * gib, gib, gib, gib, 80 * gib))
    inside = bar[1:bar.index("]")]
    assert len(inside) == MAX_WIDTH and inside[WIDTH] == "|" and inside.endswith("...")
    assert bar.endswith("used: over by 7923.00 GiB")
    small = memory_bar(GpuUsage(0, 90 * gib, 0, 0, 0, 80 * gib))
    assert small[1:small.index("]")] == "W" * 40 + "|" + "W" * 5


def test_python_output_is_captured_with_a_limit(tmp_path: Path) -> None:
    """An interpreter that prints 64 MiB: kept to MAX_OUTPUT, then one InputError."""
    from vlmdoctor.collect import foreign
    from vlmdoctor.errors import InputError

    fake = tmp_path / "python3"
    fake.write_text(f"#!{sys.executable}\nimport sys\n"
                    "for _ in range(64): sys.stdout.write('x' * (1 << 20))\n"
                    "sys.stderr.write('e' * (8 << 20) + '\\nlast words\\n')\n")
    fake.chmod(0o755)
    done = foreign._run_bounded([str(fake)], 60, dict(os.environ))
    assert len(done.stdout) == foreign.MAX_OUTPUT and len(done.stderr) == foreign.MAX_OUTPUT
    with pytest.raises(InputError) as caught:
        foreign.inspect_python(str(fake))
    assert str(caught.value).startswith(f"--python {fake}: not a Python 3 interpreter that "
                                        "vlmdoctor can read (exit 0: ")


def test_model_types_are_read_in_linear_time_and_capped() -> None:
    from vlmdoctor.modelfiles.config import MAX_MODEL_TYPES, model_types

    cfg = {"model_type": "qwen2_vl", "text_config": {"model_type": "qwen2"},
           **{f"k{i}": {"model_type": f"t{i}"} for i in range(200_000)}}
    found = model_types(cfg)
    assert found[:3] == ("qwen2_vl", "qwen2", "t0") and len(found) == MAX_MODEL_TYPES
    assert model_types({"model_type": "a", "x": {"model_type": "a"}, "y": {"model_type": "b"}}
                       ) == ("a", "b")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), value=VALUES)
def test_any_value_at_any_path_of_a_compare_input(tmp_path_factory: pytest.TempPathFactory,
                                                  data: st.DataObject, value: Any) -> None:
    """compare and its inputs: exit 0, 1 or 2 with one line, never 3, whatever a report holds
    (the cluster section included)."""
    doc = json.loads(base_report())
    doc["cluster"] = {"rank": 0, "nodes": [{"node": "a", "host": "a", "ranks": [0]}]}
    mutated = put(doc, data.draw(st.sampled_from(paths(doc))), value)
    tmp = tmp_path_factory.mktemp("cmp")
    good, bad = tmp / "good.json", tmp / "bad.json"
    good.write_text(base_report())
    bad.write_text(json.dumps(mutated, allow_nan=True) if _dumpable(mutated) else "{}")
    code, out, err = run("compare", str(good), str(bad), "--format", "json")
    assert code in (0, 1, 2), err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("vlmdoctor: error: "), err
    else:
        out.encode("utf-8")


@pytest.mark.parametrize("name", ["a" * 300, "org/" + "b" * 300, "./" + "c" * 256])
@pytest.mark.parametrize("command", [["check", "--no-probe", "-m"], ["plan", "-m"]])
def test_names_over_255_bytes_exit_2(command: list[str], name: str) -> None:
    code, out, err = run(*command, name)
    assert (code, out) == (2, ""), err
    assert err == (f"vlmdoctor: error: {name[:80]}...: not a model name or directory (a path "
                   "part is longer than 255 bytes, or holds a NUL)\n")
