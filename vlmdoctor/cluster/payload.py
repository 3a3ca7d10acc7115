"""What a peer node sent, checked before anything reads it: a malformed payload names the
peer that sent it (the coordinator is not to blame for another node's bytes)."""

from __future__ import annotations

from typing import Any, Mapping

from vlmdoctor.errors import InputError
from vlmdoctor.jsonfile import check_value
from vlmdoctor.snapshot import Snapshot

MAX_HOST = 255


def payload_problem(payload: Any) -> str | None:
    """Why a node's payload cannot be used, or None when it can."""
    if not isinstance(payload, Mapping):
        return "not a JSON object"
    if "report" not in payload and isinstance(payload.get("error"), str):
        return str(payload["error"])[:300]
    problem = check_value(payload)
    if problem:
        return problem
    host = payload.get("host")
    if host is not None and (not isinstance(host, str) or not 0 < len(host) <= MAX_HOST):
        return f"host: expected a host name of at most {MAX_HOST} characters"
    report = payload.get("report")
    if not isinstance(report, Mapping):
        return "report: expected an object"
    env = report.get("environment")
    if not isinstance(env, Mapping):
        return "report.environment: expected an object"
    summary = report.get("summary")
    if summary is not None and not isinstance(summary, Mapping):
        return "report.summary: expected an object"
    try:
        Snapshot.from_dict(env, source="report")
    except InputError as exc:
        return str(exc)[:300]
    return None


def peer_host(payload: Any, rank: int) -> str:
    host = payload.get("host") if isinstance(payload, Mapping) else None
    return host if isinstance(host, str) and 0 < len(host) <= MAX_HOST and check_value(
        host) is None else f"rank{rank}"
