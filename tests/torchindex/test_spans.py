"""Release spans in words: what every index-based message says about added/removed."""

from __future__ import annotations

from vlmdoctor.torchindex.spans import change_text, covers, merge, span_text, window

R = ("2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0")


def test_span_text() -> None:
    assert span_text(R, [(0, 1), (3, 3)]) == "2.0.0 to 2.1.0, 2.3.0"
    assert span_text(R, [(2, 4)]) == "2.2.0 and later"
    assert span_text(R, []) == "no indexed release"


def test_change_text_says_added_removed_back_and_unknown() -> None:
    assert change_text("torch", R, [(2, 4)], 1) == "added in torch 2.2.0"
    assert change_text("torch", R, [(0, 1)], 3) == "removed in torch 2.2.0 (last in 2.1.0)"
    assert change_text("torch", R, [(0, 0), (3, 4)], 1) == \
        "removed in torch 2.1.0 (last in 2.0.0), back in 2.3.0"
    assert change_text("torch", R, [(0, 4)], 2) == "present in torch 2.2.0"
    assert change_text("torch", R, [(1, 2)], None) == "in torch 2.1.0 to 2.2.0"
    assert change_text("torch", R, [], 0) == ("in no indexed torch release (2.0.0 to 2.4.0): "
                                              "removed before 2.0.0 or never there")


def test_window_is_the_newest_contiguous_run() -> None:
    assert window(R, {0, 1, 3}) == (">=2.3.0,<2.4.0", ["2.3.0"])
    assert window(R, {2, 3, 4}) == (">=2.2.0", ["2.2.0", "2.3.0", "2.4.0"])
    assert window(R, set()) == (None, [])


def test_merge_and_covers() -> None:
    assert merge([(3, 4), (0, 1), (2, 2)]) == [(0, 4)]
    assert merge([(0, 0), (2, 3)]) == [(0, 0), (2, 3)]
    assert covers([(0, 0), (2, 3)], 3) and not covers([(0, 0), (2, 3)], 1)
