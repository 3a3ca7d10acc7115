"""The fix plan: after evaluation, every finding's fix merged into one ordered plan, checked
against the installed packages' requirements and the release index, optionally verified by
pip's own resolver (``check --resolve``)."""

from vlmdoctor.fixplan.build import build_fix_plan
from vlmdoctor.fixplan.model import FixPlan

__all__ = ["FixPlan", "build_fix_plan"]
