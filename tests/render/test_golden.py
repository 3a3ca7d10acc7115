"""Golden files for the text, JSON and Markdown renderers. Refresh on purpose only:
UPDATE_GOLDEN=1 python -m pytest tests/render

A refresh records the new hashes in tests/render/golden_manifest.json only where the files that
render the golden changed too (tests/render/golden_manifest.py); hand-written invariants on
the goldens' content are in tests/render/test_golden_invariants.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import environment, make_knowledge
from tests.render import golden_manifest
from vlmdoctor.doctor import CheckRequest, run_check
from vlmdoctor.render.jsonfmt import report_json
from vlmdoctor.render.markdown import report_markdown
from vlmdoctor.render.text import report_lines
from vlmdoctor.report import Report
from vlmdoctor.snapshot import Snapshot
from vlmdoctor.stages import fixing

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _report(tmp_path: Path) -> Report:
    env = environment("h100x4-cu121", {"torch": {"version": "2.0.1+cu117", "cuda": "11.7"},
                                       "packages": {"torch": "2.0.1+cu117",
                                                    "opencv-python": "4.9.0.80",
                                                    "opencv-python-headless": "4.9.0.80"}})
    path = tmp_path / "env.json"
    path.write_text(json.dumps(env))
    request = CheckRequest(model="minigemini-34b", from_report=str(path))
    return run_check(request, make_knowledge(), clock=lambda: "2026-11-21T07:00:00+00:00",
                     fix_stage=fixing())


def _compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual)
        complaint = golden_manifest.record(name)
        if complaint is not None:  # the golden moved with no change in what renders it
            pytest.fail(complaint)
    assert actual == path.read_text()


@pytest.mark.parametrize("fmt", ["json", "txt", "md"])
def test_golden(tmp_path: Path, fmt: str) -> None:
    report = _report(tmp_path)
    rendered = {
        "json": lambda: report_json(report),
        "txt": lambda: "".join(t + "\n" for t, _ in report_lines(report)),
        "md": lambda: report_markdown(report),
    }[fmt]()
    _compare(f"mgm-34b-h100-cu117.{fmt}", rendered)


def test_snapshot_round_trips_exactly(tmp_path: Path) -> None:
    data = environment("h100x4-cu121")
    assert Snapshot.from_dict(data).to_dict() == data


def test_missing_sections_stay_unknown() -> None:
    snap = Snapshot.from_dict({"schema_version": 1, "packages": {"torch": "2.1.0"}})
    assert snap.unknown == frozenset({"host", "python", "driver", "gpus", "torch", "cuda_toolkit",
                                      "env", "network_interfaces", "unavailable", "nccl_files"})
    assert snap.to_dict() == {"schema_version": 1, "collected_at": None,
                              "packages": {"torch": "2.1.0"}}


def test_unknown_keys_are_ignored() -> None:
    data = environment("a100-cu124")
    data["future_section"] = {"x": 1}
    data["gpus"][0]["future_field"] = 3
    assert Snapshot.from_dict(data).to_dict() == environment("a100-cu124")
