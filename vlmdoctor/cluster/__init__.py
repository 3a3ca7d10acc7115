"""The cluster gate: every node of a job checks itself, then the nodes compare notes.

The gate process stays torch-free: it collects and checks this node as `check` does,
then hands everything that touches ``torch.distributed`` to a child with a hard deadline
(``child.py``), and judges drift between nodes with pure data (``drift.py``).
"""
