"""Property tests over `--gpus` specs: any known GPU, written the way NVML, datasheets or
people write it, parses to that GPU; any text at all parses or is one InputError."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vlmdoctor.errors import InputError
from vlmdoctor.plan.constants import GIB
from vlmdoctor.plan.gpus import GPU_TABLE, parse_gpus

VENDOR = st.sampled_from(["", "NVIDIA ", "nvidia ", "Tesla ", "NVIDIA-"])
FORM = st.sampled_from(["", "-SXM4", "-SXM2", " PCIe", "-PCIE", " HBM3", " SXM5"])
SEPARATOR = st.sampled_from(["-", " ", "_"])


@st.composite
def written_gpu(draw: st.DrawFn) -> tuple[str, str]:
    """(how someone writes a table GPU, the table key it must resolve to)."""
    key = draw(st.sampled_from(sorted(GPU_TABLE)))
    model, _, size = key.partition("-")
    sep = draw(SEPARATOR)
    form = draw(FORM) if size.endswith("GB") or not size else ""
    text = model + form + (sep + size if size else "")
    if draw(st.booleans()):
        text = text.lower()
    return draw(VENDOR) + text, key


@given(st.lists(st.tuples(st.integers(1, 8), written_gpu()), min_size=1, max_size=4))
@settings(max_examples=300, deadline=None)
def test_every_way_of_writing_a_known_gpu_parses_to_it(
        items: list[tuple[int, tuple[str, str]]]) -> None:
    spec = ",".join(f"{count}x{text}" for count, (text, _) in items)
    gpus = parse_gpus(spec)
    expected = [key for count, (_, key) in items for _ in range(count)]
    assert [g.name for g in gpus] == expected
    assert [g.index for g in gpus] == list(range(len(expected)))
    assert [g.memory_total_bytes for g in gpus] == [GPU_TABLE[k][0] * GIB for k in expected]
    assert [g.compute_capability for g in gpus] == [GPU_TABLE[k][1] for k in expected]


@given(st.integers(1, 64), st.floats(0.5, 512, allow_nan=False).map(lambda x: round(x, 1)),
       st.sampled_from(["GiB", "G", "gib"]))
def test_sizes_in_binary_units(count: int, size: float, unit: str) -> None:
    gpus = parse_gpus(f"{count}x{size}{unit}")
    assert len(gpus) == count
    assert all(g.memory_total_bytes == int(size * GIB) for g in gpus)


@given(st.text(max_size=40))
@settings(max_examples=400, deadline=None)
def test_any_text_parses_or_is_one_input_error(spec: str) -> None:
    try:
        gpus = parse_gpus(spec)
    except InputError as exc:
        assert "\n" not in str(exc).strip() or "\n" in spec
        assert str(exc).startswith("--gpus ")
        return
    assert 1 <= len(gpus) <= 64
    assert all(g.memory_total_bytes > 0 for g in gpus)
