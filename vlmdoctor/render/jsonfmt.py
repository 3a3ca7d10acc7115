"""JSON output: the report and snapshot schemas exactly (stable key order)."""

from __future__ import annotations

import json
from typing import Any

from vlmdoctor.render.safe import json_safe
from vlmdoctor.report import Report
from vlmdoctor.snapshot import Snapshot


def dumps(data: Any) -> str:
    return json_safe(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def report_json(report: Report) -> str:
    return dumps(report.to_dict())


def snapshot_json(snapshot: Snapshot) -> str:
    return dumps(snapshot.to_dict())
