"""Recorded and illustrative probe sections under fixtures/probe/ read back as a report's
``probe`` section would be (``--from-report``), with the findings each must give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vlmdoctor.probe import ProbeResult, probe_findings

FIXTURES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "probe").glob("*.json"))


def test_there_are_fixtures() -> None:
    assert [f.stem for f in FIXTURES] == ["failed-no-kernel-image-h100-cu117",
                                          "passed-cpu-fallback", "timeout-cuda-init"]


@pytest.mark.parametrize("path", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_fixture_round_trips_and_gives_its_findings(path: Path) -> None:
    data = json.loads(path.read_text())
    result = ProbeResult.from_dict(data["probe"])
    assert result.to_dict() == data["probe"]
    assert [f.id for f in probe_findings(result)] == data["expected_findings"]


def test_docs_list_every_finding_id_and_source() -> None:
    from vlmdoctor.probe.signatures import OUTCOMES, SIGNATURES

    docs = (Path(__file__).resolve().parents[2] / "docs" / "failures.md").read_text()
    for sig in (*SIGNATURES, *OUTCOMES.values()):
        assert f"`probe-{sig.kind}`" in docs, sig.kind
        assert all(ref in docs for ref in sig.references), sig.kind
