"""Host and Python facts from the standard library (no subprocess)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from vlmdoctor.snapshot import Host, PythonInfo


def read_host() -> Host:
    # os.uname() instead of the platform module: same answers, no import cost on the gate path.
    try:
        uname = os.uname()
        system, release, machine = uname.sysname, uname.release, uname.machine
    except AttributeError:  # Windows
        import platform

        system, release, machine = platform.system(), platform.release(), platform.machine()
    return Host(os=system or None, os_release=release or None, distro=_distro(),
                arch=machine or None, libc=_libc())


def _distro() -> str | None:
    for candidate in (Path("/etc/os-release"), Path("/usr/lib/os-release")):
        try:
            text = candidate.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"') or None
    return None


def _libc() -> str | None:
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.35", instant
    except (AttributeError, ValueError, OSError):
        value = None
    return value or None


_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy"}


def read_python() -> PythonInfo:
    info = sys.version_info
    name = sys.implementation.name
    return PythonInfo(
        version=f"{info.major}.{info.minor}.{info.micro}",
        implementation=_IMPLEMENTATIONS.get(name, name),
        executable=home_relative(sys.executable),
    )


def network_interfaces() -> tuple[str, ...] | None:
    try:
        return tuple(sorted(os.listdir("/sys/class/net")))
    except OSError:
        pass
    try:
        import socket

        return tuple(sorted(name for _, name in socket.if_nameindex()))
    except (OSError, AttributeError):
        return None


def home_relative(path: str | None) -> str | None:
    if not path:
        return path
    home = os.path.expanduser("~")
    if home and home != "/" and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home):]
    return path
