from __future__ import annotations

import importlib.util

import pytest

HAS_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch and transformers not installed")
