"""A report never lets a count under 5 be worked out from a total and the parts shown beside
it: when a line of parts has exactly one hidden count, its smallest other count is withheld."""

from __future__ import annotations

from portal.council_reports.figures import FEWER, WITHHELD, suppressed_parts
from portal.council_reports.templatetags.council_reports import report_count


def test_one_hidden_part_withholds_the_smallest_other():
    parts = {"burglary": 12, "robbery": 3, "assault": 7}
    published = suppressed_parts(parts, total=22)
    assert published == {"burglary": 12, "robbery": FEWER, "assault": WITHHELD}
    shown = [value for value in published.values() if isinstance(value, int)]
    # What a reader can subtract is the sum of at least two counts, never one of them.
    assert 22 - sum(shown) == 3 + 7


def test_two_hidden_parts_or_a_hidden_total_need_nothing_more():
    assert suppressed_parts({"a": 3, "b": 2, "c": 9}, total=14) == {"a": FEWER, "b": FEWER, "c": 9}
    assert suppressed_parts({"a": 3, "b": 1}, total=4) == {"a": FEWER, "b": FEWER}
    assert suppressed_parts({"a": 6, "b": 9}, total=15) == {"a": 6, "b": 9}


def test_live_views_emergency_and_other_are_a_line_too():
    # 8 views, 2 in an emergency: "other: 6" beside "8 in all" would give the 2 away.
    assert suppressed_parts({"emergency": 2, "other": 6}, total=8) == {
        "emergency": FEWER,
        "other": WITHHELD,
    }


def test_a_withheld_count_reads_withheld():
    assert report_count(WITHHELD) == "withheld"
    assert report_count(FEWER) == "fewer than 5"
