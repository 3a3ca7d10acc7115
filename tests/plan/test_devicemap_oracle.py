"""The balanced split against brute force (issue 19 §6): over every way to deal the layers
(each GPU at least one when there are as many layers as GPUs), none leaves the fullest GPU
less full than the split the planner chose."""

from __future__ import annotations

import itertools
import random

import pytest

from vlmdoctor.plan.devicemap import balanced_layers


def _fullest(counts: list[int], caps: list[int], fixed: list[int], cost: int) -> float:
    return max((fixed[i] + counts[i] * cost) / max(caps[i], 1) for i in range(len(caps)))


def _optimum(layers: int, caps: list[int], fixed: list[int], cost: int) -> float:
    least = 1 if layers >= len(caps) else 0
    return min(_fullest(list(c), caps, fixed, cost)
               for c in itertools.product(range(layers + 1), repeat=len(caps))
               if sum(c) == layers and min(c) >= least)


@pytest.mark.parametrize("seed", range(4))
def test_no_other_split_leaves_the_fullest_gpu_emptier(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(150):
        n, layers = rnd.randint(2, 3), rnd.randint(1, 9)
        caps = [rnd.randint(1, 60) for _ in range(n)]
        fixed = [rnd.randint(0, 40) for _ in range(n)]
        cost = rnd.randint(1, 10)
        split = balanced_layers(layers, caps, fixed, cost)
        assert split == sorted(split) and len(split) == layers
        counts = [split.count(i) for i in range(n)]
        assert _fullest(counts, caps, fixed, cost) == pytest.approx(
            _optimum(layers, caps, fixed, cost)), (layers, caps, fixed, cost, counts)
