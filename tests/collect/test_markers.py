"""The gate's marker evaluator agrees with packaging.markers (which it avoids importing)."""

from __future__ import annotations

import itertools

import pytest
from packaging.markers import Marker

from vlmdoctor.evaluate import markers

MARKERS = [
    'python_version < "3.8"', "python_version >= '3.10'", 'python_version == "3.11"',
    'python_full_version >= "3.11.7"', 'python_version ~= "3.10"', 'python_version != "3.9"',
    'platform_system == "Windows"', 'sys_platform == "linux"', 'sys_platform != "darwin"',
    'platform_machine == "x86_64" or platform_machine == "aarch64"',
    'platform_system == "Linux" and platform_machine == "x86_64"',
    'implementation_name == "cpython"', 'platform_python_implementation != "PyPy"',
    'os_name == "nt"', '"linux" in sys_platform', 'platform_machine in "x86_64 AMD64"',
    'platform_machine not in "arm64 aarch64"', 'python_version > "3.11" and sys_platform == "linux"',
    'python_version < "3.9" or platform_system == "Windows" and python_version >= "3.10"',
    '(python_version < "3.9") and extra == "test"', 'extra == "dev"',
    'platform_release >= "5.15"', 'python_version < "3.13" and (sys_platform == "linux")',
    '"3.8" < python_version',
]
ENVS = [
    {"python_version": "3.10", "python_full_version": "3.10.12", "sys_platform": "linux",
     "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
     "implementation_name": "cpython", "platform_python_implementation": "CPython",
     "platform_release": "5.15.0-91-generic", "extra": ""},
    {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "win32",
     "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt",
     "implementation_name": "pypy", "platform_python_implementation": "PyPy",
     "platform_release": "10", "extra": ""},
    {"python_version": "3.8", "python_full_version": "3.8.18", "sys_platform": "darwin",
     "platform_system": "Darwin", "platform_machine": "arm64", "os_name": "posix",
     "implementation_name": "cpython", "platform_python_implementation": "CPython",
     "platform_release": "23.1.0", "extra": ""},
]


@pytest.mark.parametrize(("marker", "env_index"), list(itertools.product(MARKERS, range(3))))
def test_same_answer_as_packaging(marker: str, env_index: int) -> None:
    env = {**markers.default_environment(), **ENVS[env_index]}
    assert markers.evaluate(marker, env) is Marker(marker).evaluate(env)


def test_malformed_markers_are_value_errors() -> None:
    with pytest.raises(ValueError):
        markers.evaluate('python_version <<< "3"', markers.default_environment())


def test_default_environment_matches_packaging() -> None:
    from packaging.markers import default_environment

    assert markers.default_environment() == {k: str(v) for k, v in default_environment().items()}
