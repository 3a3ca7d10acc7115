"""Run one incident through `check --from-report` and `explain`, in process, and list misses."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.incidents.corpus import Incident
from vlmdoctor.doctor import CheckRequest, run_check
from vlmdoctor.knowledge import Knowledge
from vlmdoctor.report import Report


@dataclass(frozen=True)
class Outcome:
    incident: Incident
    check_ids: tuple[str, ...]
    explain_ids: tuple[str, ...]
    misses: tuple[str, ...]

    @property
    def diagnosed(self) -> bool:
        return not self.misses


def _run(incident: Incident, knowledge: Knowledge, path: Path, text: str | None) -> Report:
    return run_check(CheckRequest(model=incident.model, dtype=incident.dtype,
                                  from_report=str(path), text=text), knowledge)


def diagnose(incident: Incident, knowledge: Knowledge, workdir: Path | None = None) -> Outcome:
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        path = Path(tmp) / f"{incident.id}.json"
        path.write_text(json.dumps(incident.snapshot), encoding="utf-8")
        check = _run(incident, knowledge, path, None)
        explain = _run(incident, knowledge, path, incident.error) if incident.error else check
    misses = []
    if incident.model and any(f.id == "model-unknown" for f in check.findings):
        misses.append(f"model: {incident.model!r} is not in the catalogue")
    check_ids = tuple(f.id for f in check.findings)
    explain_ids = tuple(f.id for f in explain.findings)
    for fid in incident.findings:
        if fid not in explain_ids:
            misses.append(f"explain: no {fid}")
        if incident.environment_shows and not fid.startswith("symptom-") and fid not in check_ids:
            misses.append(f"check: no {fid}")
    fixes = "\n".join(line for f in explain.findings if f.id in incident.findings
                      for line in (*f.fix, f.title, f.message)).lower()
    for token in incident.fix_tokens:
        if token.lower() not in fixes:
            misses.append(f"fix: no {token!r}")
    return Outcome(incident, check_ids, explain_ids, tuple(misses))
