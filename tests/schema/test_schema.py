"""The shipped JSON Schemas accept every report and snapshot vlmdoctor writes (golden files,
fixtures, live output), reject what breaks the contract, and allow unknown extra keys."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.cli.test_cli import run
from tests.conftest import FIXTURES, ROOT
from vlmdoctor.schemas import NAMES, schema

GOLDEN = ROOT / "tests" / "golden"
SNAPSHOT_FILES = sorted([*(FIXTURES / "environments").glob("*.json"),
                         *(FIXTURES / "scenarios").glob("*.json")])
PROBE_FILES = sorted((FIXTURES / "probe").glob("*.json"))


def validator(name: str) -> jsonschema.Draft202012Validator:
    document = schema(name)
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


REPORT = validator("report")
SNAPSHOT = validator("snapshot")


def errors(v: jsonschema.Draft202012Validator, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(data)]


def test_schemas_are_valid_draft_2020_12() -> None:
    for name in NAMES:
        assert schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema(name))


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.name)
def test_golden_reports_are_valid(path: Path) -> None:
    assert errors(REPORT, json.loads(path.read_text())) == []


@pytest.mark.parametrize("path", SNAPSHOT_FILES, ids=lambda p: p.name)
def test_fixture_snapshots_are_valid(path: Path) -> None:
    assert errors(SNAPSHOT, json.loads(path.read_text())) == []


@pytest.mark.parametrize("path", SNAPSHOT_FILES, ids=lambda p: p.name)
def test_reports_checked_from_every_fixture_are_valid(path: Path) -> None:
    for model in ("minigemini-34b", "internvl2-76b", "qwen2-vl-7b-instruct"):
        code, out, err = run("check", "--from-report", str(path), "-m", model,
                             "--format", "json", "--fail-on", "never")
        assert code == 0, err
        assert errors(REPORT, json.loads(out)) == []


@pytest.mark.parametrize("path", PROBE_FILES, ids=lambda p: p.name)
def test_fixture_probe_sections_are_valid(path: Path) -> None:
    report = json.loads((GOLDEN / "mgm-34b-h100-cu117.json").read_text())
    report["probe"] = json.loads(path.read_text())["probe"]
    assert errors(REPORT, report) == []


def test_live_snapshot_and_report_are_valid() -> None:
    code, out, err = run("env", "--format", "json")
    assert code == 0, err
    assert errors(SNAPSHOT, json.loads(out)) == []
    code, out, err = run("check", "--no-probe", "-m", "internvl2-8b", "--format", "json",
                         "--fail-on", "never")
    assert code == 0, err
    assert errors(REPORT, json.loads(out)) == []


def test_plan_json_is_valid_as_the_report_plan_section() -> None:
    code, out, err = run("plan", "-m", "internvl2-76b", "--gpus", "4xA100-80GB",
                         "--format", "json")
    assert code in (0, 1), err
    report = json.loads((GOLDEN / "mgm-34b-h100-cu117.json").read_text())
    report["plan"] = json.loads(out)
    assert errors(REPORT, report) == []


def test_unknown_extra_keys_stay_valid() -> None:
    report = json.loads((GOLDEN / "mgm-34b-h100-cu117.json").read_text())
    extra = copy.deepcopy(report)
    extra["cluster"] = {  # the additive cluster section (docs/cluster.md), with a future key
        "launcher": "slurm", "world_size": 16, "rank": 0, "role": "coordinator",
        "nodes_expected": 16, "nodes_seen": 16, "local_verdict": "pass",
        "rendezvous": {"address": "gpu01:29500", "status": "ok", "seconds": 1.0},
        "nodes": [], "missing_ranks": [], "drift": [], "layers": [], "suspect_nodes": [],
        "timings": {"deadline_s": 60.0}, "topology": {"future": True}}
    extra["future_section"] = [1, 2, 3]
    extra["target"]["source"] = {"kind": "directory", "path": "/models/x", "revision": None}
    extra["environment"]["new_fact"] = {"anything": True}
    extra["environment"]["gpus"][0]["uuid"] = "GPU-1234"
    extra["findings"][0]["extra"] = "ok"
    assert errors(REPORT, extra) == []


@pytest.mark.parametrize(("path", "value", "where"), [
    (("schema_version",), 2, "schema_version"),
    (("findings", 0, "severity"), "fatal", "findings/0/severity"),
    (("findings", 0, "id"), "Not Kebab", "findings/0/id"),
    (("summary", "verdict"), "maybe", "summary/verdict"),
    (("environment", "gpus", 0, "memory_total_mib"), "80GB", "environment/gpus/0/memory_total_mib"),
    (("environment", "packages"), ["torch"], "environment/packages"),
])
def test_contract_breaks_are_rejected(path: tuple[Any, ...], value: Any, where: str) -> None:
    report = json.loads((GOLDEN / "mgm-34b-h100-cu117.json").read_text())
    node = report
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert [e.split(":")[0] for e in errors(REPORT, report)] == [where]


def test_missing_required_sections_are_rejected() -> None:
    report = json.loads((GOLDEN / "mgm-34b-h100-cu117.json").read_text())
    del report["findings"]
    assert errors(REPORT, report) == [": 'findings' is a required property"]


@pytest.mark.parametrize("name", NAMES)
def test_schema_command_prints_the_shipped_schema(name: str) -> None:
    code, out, err = run("schema", name)
    assert (code, err) == (0, "")
    assert json.loads(out) == schema(name)


def test_schema_command_defaults_to_the_report_and_rejects_unknown_names() -> None:
    assert json.loads(run("schema")[1]) == schema("report")
    code, _, err = run("schema", "plan")
    assert code == 2
    assert "'plan' is not one of 'report', 'snapshot'" in err


def test_docs_copies_are_current() -> None:
    for name in NAMES:
        shipped = json.loads((ROOT / "docs" / "schema" / f"{name}.schema.json").read_text())
        assert shipped == schema(name), "run: python -m vlmdoctor.docs"
