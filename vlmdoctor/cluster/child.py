"""The torch.distributed side of the cluster gate; runs in a child with a hard deadline.

``python -m vlmdoctor.cluster.child --spec SPEC.json --out RESULT.json``

Layers, each recorded in RESULT before it starts (so a kill at the deadline still leaves
"which layer was running"): ``store`` (the c10d TCPStore at MASTER_ADDR:MASTER_PORT and
the exchange of every node's payload through it, so a missing rank is named even when
nothing else works), ``gloo`` (a process group and an all-reduce with a known result, and
the clock offset of each rank against rank 0), and ``nccl`` on GPU nodes (the same on
CUDA tensors, with the all-reduce bus bandwidth). Imports only the standard library,
torch and ``vlmdoctor.redact`` (so an error text is redacted before it is cut); Python 3.9
compatible.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
from typing import Any, Callable, Dict, List, Mapping, Optional

from vlmdoctor.redact import clip

FAULTS_ENV = "VLMDOCTOR_CLUSTER_FAULTS"  # test hook: "RANK:fault[,RANK:fault...]"
_POLL = 0.05


def faults_for(rank: int, environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """This rank's injected faults (tests only). In the child: late=SECONDS, crash=LAYER,
    ifname=NAME; in the gate process: host=NAME, pkg.NAME=VERSION."""
    found: Dict[str, str] = {}
    for item in (os.environ if environ is None else environ).get(FAULTS_ENV, "").split(","):
        who, _, what = item.strip().partition(":")
        if who == str(rank) and what:
            key, _, value = what.partition("=")
            found[key] = value
    return found


class Recorder:
    """The result file, rewritten atomically after every change."""

    def __init__(self, out: str, base: Dict[str, Any]) -> None:
        self.out, self.data = out, base
        self.data.setdefault("layers", [])
        self._t0: Dict[str, float] = {}

    def save(self) -> None:
        tmp = self.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.data, handle)
        os.replace(tmp, self.out)

    def start(self, name: str) -> Dict[str, Any]:
        layer: Dict[str, Any] = {"name": name, "status": "running", "seconds": None,
                                 "detail": None, "failed_ranks": []}
        self.data["layers"].append(layer)
        self._t0[name] = time.monotonic()
        self.save()
        return layer

    def end(self, layer: Dict[str, Any], status: str, detail: Optional[str] = None,
            failed: Optional[List[int]] = None) -> None:
        layer["seconds"] = round(time.monotonic() - self._t0.get(layer["name"], 0.0), 3)
        layer["status"], layer["detail"] = status, detail
        layer["failed_ranks"] = sorted(failed or [])
        self.save()


def _wait_keys(store: Any, keys: List[str], deadline: float) -> List[str]:
    """The keys present by ``deadline`` (polls ``check``, which never blocks)."""
    pending = list(keys)
    while pending and time.monotonic() < deadline:
        pending = [k for k in pending if not store.check([k])]
        if pending:
            time.sleep(_POLL)
    return [k for k in keys if k not in pending]


def _wait_count(store: Any, key: str, want: int, deadline: float) -> int:
    count = 0
    while time.monotonic() < deadline:
        count = int(store.add(key, 0))
        if count >= want:
            break
        time.sleep(_POLL)
    return count


def _layer_outcomes(store: Any, prefix: str, rank: int, ranks: List[int], deadline: float,
                    mine: str) -> Dict[int, str]:
    """Every rank posts how a layer went; gather what arrives by the deadline."""
    store.set(f"{prefix}/r{rank}", mine)
    keys = [f"{prefix}/r{r}" for r in ranks]
    present = set(_wait_keys(store, keys, deadline))
    out: Dict[int, str] = {}
    for rank, key in zip(ranks, keys):
        out[rank] = store.get(key).decode("utf-8", "replace") if key in present else "silent"
    return out


def _collective_layer(rec: Recorder, name: str, spec: Dict[str, Any], store: Any,
                      body: Callable[[Any], Dict[str, Any]]) -> bool:
    import torch.distributed

    dist: Any = torch.distributed
    rank, world = spec["rank"], spec["world_size"]
    layer = rec.start(name)
    timeout = float(spec["layer_timeout"])
    deadline = time.monotonic() + timeout
    mine, extra, ok = "ok", {}, True
    try:
        pg_store = dist.PrefixStore(name, store)
        dist.init_process_group(backend=name, store=pg_store, rank=rank, world_size=world,
                                timeout=_dt.timedelta(seconds=timeout))
        try:
            extra = body(dist)
        finally:
            dist.destroy_process_group()
    except Exception as exc:  # any failure of this layer is data for the report
        ok, mine = False, clip(f"{type(exc).__name__}: {exc}".strip(), 600)
    outcomes = _layer_outcomes(store, f"{name}-status", rank, list(range(world)),
                               deadline + 2.0, mine)
    failed = [r for r, text in outcomes.items() if text != "ok"]
    detail = None if not failed else "; ".join(f"rank {r}: {outcomes[r]}" for r in failed)
    rec.data.setdefault(name, {}).update(extra)
    layer["silent_ranks"] = [r for r, text in outcomes.items() if text == "silent"]
    rec.end(layer, "ok" if not failed else "failed", detail, failed)
    return ok and not failed


def _gloo_body(spec: Dict[str, Any]) -> Callable[[Any], Dict[str, Any]]:
    def body(dist: Any) -> Dict[str, Any]:
        import torch

        world, rank = spec["world_size"], spec["rank"]
        value = torch.tensor([float(rank + 1)])
        dist.all_reduce(value)
        want = world * (world + 1) / 2
        if float(value.item()) != want:
            raise RuntimeError(f"all_reduce returned {value.item()}, expected {want}")
        dist.barrier()
        stamp = torch.tensor([time.time()], dtype=torch.float64)
        stamps = [torch.zeros(1, dtype=torch.float64) for _ in range(world)]
        dist.all_gather(stamps, stamp)
        base = float(stamps[0].item())
        return {"clock_offsets": {str(r): round(float(s.item()) - base, 4)
                                  for r, s in enumerate(stamps)}}
    return body


def _nccl_body(spec: Dict[str, Any]) -> Callable[[Any], Dict[str, Any]]:
    def body(dist: Any) -> Dict[str, Any]:
        import torch

        world, rank = spec["world_size"], spec["rank"]
        device = torch.device("cuda", int(spec.get("local_rank", 0)) % torch.cuda.device_count())
        torch.cuda.set_device(device)
        value = torch.tensor([float(rank + 1)], device=device)
        dist.all_reduce(value)
        torch.cuda.synchronize(device)
        want = world * (world + 1) / 2
        if float(value.item()) != want:
            raise RuntimeError(f"all_reduce returned {value.item()}, expected {want}")
        size = 64 << 20
        buf = torch.ones(size // 4, dtype=torch.float32, device=device)
        dist.all_reduce(buf)
        torch.cuda.synchronize(device)
        runs, t0 = 5, time.perf_counter()
        for _ in range(runs):
            dist.all_reduce(buf)
        torch.cuda.synchronize(device)
        seconds = (time.perf_counter() - t0) / runs
        algbw = size / seconds / 1e9
        busbw = algbw * (2 * (world - 1) / world if world > 1 else 1.0)
        version = getattr(torch.cuda, "nccl", None)
        nccl = ".".join(map(str, version.version())) if version is not None else None
        return {"bytes": size, "algbw_gbps": round(algbw, 2), "busbw_gbps": round(busbw, 2),
                "nccl_version": nccl}
    return body


def run(spec: Dict[str, Any], out: str) -> int:
    t_start = time.monotonic()  # the join window counts from here: importing torch is in it
    rank, world = int(spec["rank"]), int(spec["world_size"])
    faults = faults_for(rank)
    rec = Recorder(out, {"rank": rank, "world_size": world, "nodes": {}, "missing_ranks": []})
    layer = rec.start("store")
    if "late" in faults:
        time.sleep(float(faults["late"] or 0))
    t_import = time.monotonic()
    try:
        import torch
        import torch.distributed

        dist: Any = torch.distributed
        rec.data["torch"] = torch.__version__
        rec.data["import_s"] = round(time.monotonic() - t_import, 3)
    except Exception as exc:
        rec.end(layer, "failed", f"cannot import torch.distributed: {type(exc).__name__}: {exc}")
        return 0
    join = float(spec["join_timeout"])
    deadline = max(t_start + join, time.monotonic() + 1.0)
    server = rank == 0 and not spec.get("agent_store", False)
    try:
        base = dist.TCPStore(spec["master_addr"], int(spec["master_port"]), world if server
                             else None, server,
                             timeout=_dt.timedelta(seconds=deadline - time.monotonic()),
                             wait_for_workers=False)
        store = dist.PrefixStore(spec["prefix"], base)
    except Exception as exc:
        rec.end(layer, "failed", clip(f"{type(exc).__name__}: {exc}".strip(), 600), [rank])
        return 0
    rec.data["connect_s"] = round(time.monotonic() - t_import - rec.data["import_s"], 3)
    t_exchange = time.monotonic()
    store.set(f"node/{rank}", json.dumps(spec["payload"]))
    keys = [f"node/{r}" for r in range(world)]
    present = _wait_keys(store, keys, deadline)
    for key in present:
        try:
            raw = store.get(key)
            if len(raw) > MAX_PAYLOAD:
                raise ValueError(f"{len(raw)} bytes, more than {MAX_PAYLOAD}")
            rec.data["nodes"][key.split("/")[1]] = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # not JSON, huge numbers, deep nesting
            rec.data["nodes"][key.split("/")[1]] = {
                "error": f"unreadable payload: {type(exc).__name__}: {str(exc)[:200]}"}
    missing = sorted(int(k.split("/")[1]) for k in keys if k not in present)
    rec.data["missing_ranks"] = missing
    store.add("seen", 1)
    rec.data["exchange_s"] = round(time.monotonic() - t_exchange, 3)
    rec.end(layer, "ok" if not missing else "failed",
            None if not missing else f"ranks {missing} did not arrive within {join:g} s",
            missing)
    if not missing:
        if faults.get("crash") == "gloo":
            os.abort()
        if "ifname" in faults:
            os.environ["GLOO_SOCKET_IFNAME"] = faults["ifname"]
        gloo_ok = _collective_layer(rec, "gloo", spec, store, _gloo_body(spec))
        want_nccl = spec.get("backend") in ("auto", "nccl")
        if want_nccl and _cuda_available() and gloo_ok:
            _collective_layer(rec, "nccl", spec, store, _nccl_body(spec))
        elif spec.get("backend") == "nccl":
            skipped = rec.start("nccl")
            why = "no CUDA device in this process" if not _cuda_available() else "gloo failed"
            rec.end(skipped, "skipped", why)
    store.add("finished", 1)
    if server:  # keep the store up until every rank that arrived is done with it
        _wait_count(store, "finished", world - len(missing), time.monotonic() + 5.0)
    return 0


MAX_PAYLOAD = 64 << 20


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:
        return False


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="vlmdoctor.cluster.child")
    parser.add_argument("--spec", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    from vlmdoctor.procgroup import watch_parent

    watch_parent()  # vlmdoctor killed: remove the run's temp dir, end this group
    with open(args.spec, encoding="utf-8") as handle:
        spec = json.load(handle)
    return run(spec, args.out)


if __name__ == "__main__":
    sys.exit(main())
