"""Who raised a probe failure: the model's own file, transformers or the probe, and the
finding that follows (never the model blamed for transformers' or the probe's code)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import pytest

from vlmdoctor.probe import child
from vlmdoctor.probe.assemble import ChildOutcome, assemble
from vlmdoctor.probe.context import CheckFailed, Context
from vlmdoctor.probe.findings import probe_findings
from vlmdoctor.probe.frames import classify_file, failure_frame, model_frame
from vlmdoctor.probe.model import ProbeRequest

SITE = "/home/u/.venv/lib/python3.11/site-packages"
REMOTE = "/tmp/vlmdoctor-probe-x/hf-modules/transformers_modules/model/modeling_toy.py"
CODE = frozenset({"modeling_toy.py", "configuration_toy.py"})


def _traceback(*files: str, exc: BaseException | None = None) -> BaseException:
    """An exception raised in the last of ``files``, each calling the next (outermost first)."""
    source = "def f{i}():\n    {body}\n"
    names: dict[str, Any] = {"exc": exc or RuntimeError("boom")}
    for i in range(len(files) - 1, -1, -1):
        body = f"f{i + 1}()" if i < len(files) - 1 else "raise exc"
        exec(compile(source.format(i=i, body=body), files[i], "exec"), names)
    try:
        names["f0"]()
    except BaseException as caught:
        return caught
    raise AssertionError("no exception")


def _tb(error: BaseException) -> TracebackType | None:
    return error.__traceback__


@pytest.mark.parametrize("filename, expected", [
    (REMOTE, ("model", "modeling_toy.py")),
    (f"{SITE}/transformers/models/auto/configuration_auto.py",
     ("transformers", "transformers/models/auto/configuration_auto.py")),
    (f"{SITE}/transformers/models/glm4v/modeling_glm4v.py",
     ("transformers", "transformers/models/glm4v/modeling_glm4v.py")),
    (f"{SITE}/transformers/modeling_utils.py", ("transformers", "transformers/modeling_utils.py")),
    ("/opt/vlmdoctor/vlmdoctor/probe/shrink.py", ("probe", "vlmdoctor/probe/shrink.py")),
    (f"{SITE}/torch/nn/functional.py", None),
    ("/tmp/x/transformers_modules/other/helper.py", None),  # not the model's own file
])
def test_each_file_is_owned_by_the_model_transformers_the_probe_or_nobody(
        filename: str, expected: tuple[str, str] | None) -> None:
    assert classify_file(filename, CODE) == expected


def test_the_innermost_owned_frame_names_who_raised_it() -> None:
    error = _traceback("/opt/vlmdoctor/vlmdoctor/probe/generate.py",
                       f"{SITE}/transformers/models/glm4v/modeling_glm4v.py",
                       f"{SITE}/torch/functional.py")
    assert failure_frame(_tb(error), CODE) == (
        "transformers", "transformers/models/glm4v/modeling_glm4v.py:2 in f1: ")
    error = _traceback(f"{SITE}/transformers/generation/utils.py", REMOTE,
                       f"{SITE}/torch/nn/modules/module.py")
    assert failure_frame(_tb(error), CODE) == ("model", "modeling_toy.py:2 in f1: ")
    # transformers' auto loader is transformers, never "the model's code"
    error = _traceback("/opt/vlmdoctor/vlmdoctor/probe/local.py",
                       f"{SITE}/transformers/models/auto/configuration_auto.py")
    assert model_frame(_tb(error), CODE) == (
        "transformers/models/auto/configuration_auto.py:2 in f1: ")
    error = _traceback("/opt/vlmdoctor/vlmdoctor/probe/shrink.py", f"{SITE}/torch/x.py")
    assert model_frame(_tb(error), CODE) is None


def _ctx() -> Context:
    return Context(device="cpu", dtype=None, family=None, hf_model_type=None, weights=None,
                   max_new_tokens=8, device_map=None, workdir=".", trust_remote_code=False)


def test_the_probe_is_blamed_only_for_what_its_own_code_raised() -> None:
    own = _traceback("/opt/vlmdoctor/vlmdoctor/probe/local.py",
                     "/opt/vlmdoctor/vlmdoctor/probe/shrink.py", exc=KeyError("rope"))
    assert child._blame(own, _ctx()) == ("probe", "vlmdoctor/probe/shrink.py:2 in f1: ")
    via_torch = _traceback("/opt/vlmdoctor/vlmdoctor/probe/ladder.py", f"{SITE}/torch/x.py")
    assert child._blame(via_torch, _ctx()) is None  # torch failed under a rung: not a fault
    check = _traceback("/opt/vlmdoctor/vlmdoctor/probe/generate.py",
                       exc=CheckFailed("generate returned 7 new tokens, expected 8"))
    assert child._blame(check, _ctx()) is None  # a check that did not hold is a finding


def test_an_exception_without_a_message_still_has_a_cause() -> None:
    error = _traceback(f"{SITE}/transformers/models/glm4v/modeling_glm4v.py",
                       exc=AssertionError())
    found = failure_frame(_tb(error), CODE)
    assert child._cause(error, found) == (
        "AssertionError (no message) raised at transformers/models/glm4v/modeling_glm4v.py:2 "
        "in f0: ")
    bare = _traceback(f"{SITE}/torch/x.py", exc=AssertionError())
    assert child._cause(bare, None) == "AssertionError (no message) raised at x.py:2 in f0"
    assert child._cause(ValueError("bad"), None) == "ValueError: bad"


def _result(error: dict[str, Any]) -> Any:
    events = ({"event": "step-start", "name": "local-model"},
              {"event": "step-end", "name": "local-model", "status": "failed", "seconds": 1.0,
               "detail": error["message"]},
              {"event": "result", "device": "cpu", "generated_tokens": 0,
               "tokens_per_second": None, "peak_memory_bytes": {},
               "error": {**error, "step": "local-model"}})
    return assemble(ChildOutcome(events=events, returncode=0), ProbeRequest(device="cpu"))


@pytest.mark.parametrize("owner, kind, lead", [
    ("model", "model-code", "In the model's code at"),
    (None, "model-code", "In the model's code at"),  # a child from before frame owners
    ("transformers", "transformers-code", "In transformers' code at"),
    ("probe", "probe-fault", "In vlmdoctor's probe code at"),
])
def test_an_unclassified_failure_is_charged_to_whoever_raised_it(
        owner: str | None, kind: str, lead: str) -> None:
    error: dict[str, Any] = {"type": "RuntimeError", "message": "RuntimeError: boom",
                             "frame": "x.py:3 in forward: y = f(x)"}
    if owner is not None:
        error["frame_owner"] = owner
    result = _result(error)
    prefix = {"model": "in the model's code: ", None: "in the model's code: ",
              "transformers": "in transformers: ", "probe": "in the probe: "}[owner]
    assert result.error.kind == kind
    assert result.error.message == f"RuntimeError: boom\n{prefix}x.py:3 in forward: y = f(x)"
    (finding,) = probe_findings(result)
    assert finding.id == f"probe-{kind}"
    assert finding.message.startswith(
        f"Probe step 'local-model' failed: RuntimeError: boom. {lead} x.py:3 in forward: "
        "y = f(x).")
    assert (finding.severity == "warning") == (kind == "probe-fault")


def test_a_classified_failure_keeps_its_kind_and_gains_the_frame() -> None:
    result = _result({"type": "AttributeError", "frame_owner": "transformers",
                      "message": "AttributeError: 'DynamicCache' object has no attribute "
                                 "'seen_tokens'", "frame": "transformers/a.py:1 in f: g()"})
    assert result.error.kind == "api-mismatch"
    assert result.error.message.endswith("\nin transformers: transformers/a.py:1 in f: g()")


def test_a_failed_step_without_an_error_names_its_own_detail() -> None:
    events = ({"event": "step-end", "name": "matmul", "status": "failed", "seconds": 0.1,
               "detail": "256x256 matmul wrong on cpu"},
              {"event": "result", "device": "cpu", "generated_tokens": 0,
               "tokens_per_second": None, "peak_memory_bytes": {}, "error": None})
    result = assemble(ChildOutcome(events=events, returncode=0), ProbeRequest(device="cpu"))
    assert (result.status, result.error.kind, result.error.message) == (
        "failed", "failed", "step 'matmul' failed: 256x256 matmul wrong on cpu")
