"""No count from 1 to 4 is published anywhere, nor one that totals would let anyone work out."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from portal.transparency.suppression import FEWER, SHOWN, TOTAL, WITHHELD, suppress
from tests.transparency.conftest import area, current, published, refresh
from tests.transparency.seeding import ZIP_28025, ZIP_28027, Seed, seed

pytestmark = pytest.mark.django_db


def cells(data: dict[str, Any]):
    for section in ("by_area", "monthly"):
        for key, table in data[section].items():
            if key == "area_kind":
                continue
            for row in table["rows"]:
                for column, cell in row["cells"].items():
                    yield table, row, column, cell


def test_a_count_of_three_appears_nowhere(concord_client):
    seed(
        "concord",
        Seed(
            sites={ZIP_28025: 3, ZIP_28027: 10},
            reveals={"burglary": 3, "robbery": 8},
            opt_outs=3,
        ),
    )
    refresh("concord")
    out = published(concord_client)
    data = out["data"]
    assert current(data, "reveals", "burglary") == {"value": None, "status": FEWER}
    # With the month's total shown (11), robbery's 8 would give burglary's 3 away.
    assert current(data, "reveals", "robbery") == {"value": None, "status": WITHHELD}
    assert current(data, "reveals")["value"] == 11
    assert area(data, "sites", "28025") == {"value": None, "status": FEWER}
    assert area(data, "sites", "28027") == {"value": None, "status": WITHHELD}
    assert area(data, "sites", "total")["value"] == 13
    assert current(data, "opt_outs") == {"value": None, "status": FEWER}
    for table, row, column, cell in cells(data):
        if table["unit"] == "count":
            assert cell["value"] is None or not 0 < cell["value"] < 5, (row, column)
    for line in csv.DictReader(io.StringIO(out["csv"])):
        if line["unit"] == "count" and line["value"]:
            assert not 0 < int(line["value"]) < 5, line
        if line["status"] != SHOWN:
            assert line["value"] == ""
    # Every table cell of the page and every figure of the feed.
    numbers = re.findall(r"<td>\s*(\d+)\s*</td>", out["page"])
    assert numbers and not any(0 < int(number) < 5 for number in numbers)
    assert not re.search(r": [1-4]\n|: [1-4]<", out["feed"])
    assert "fewer than 5" in out["page"] and "withheld" in out["page"]
    assert "fewer than 5" in out["feed"]


def test_every_line_with_a_withheld_cell_has_another():
    values = {("a", "m1"): 3, ("b", "m1"): 9, ("c", "m1"): 20, ("a", "m2"): 7, ("b", "m2"): 6}
    table = suppress(values, ["a", "b", "c"], ["m1", "m2"])
    assert table["a", "m1"].status == FEWER
    rows = ["a", "b", "c", TOTAL]
    columns = ["m1", "m2", TOTAL]
    for line in [[(r, c) for c in columns] for r in rows] + [
        [(r, c) for r in rows] for c in columns
    ]:
        hidden = [key for key in line if not table[key].shown]
        assert len(hidden) != 1, line
    # The smallest other count goes with it, never more than needed in its line.
    assert table["b", "m1"].status == WITHHELD
    assert table["c", "m1"].shown


def test_zeros_are_shown_and_need_no_company():
    table = suppress({("a", "m1"): 0, ("b", "m1"): 12}, ["a", "b"], ["m1"], row_totals=False)
    assert table["a", "m1"].shown and table["a", "m1"].value == 0
    assert table[TOTAL, "m1"].value == 12


def test_owners_who_did_not_answer_cannot_be_worked_out(concord_client):
    # 7 reached, 5 answered: showing both would say 2 owners did not answer.
    seed("concord", Seed(area_notices={"burglary": ["nothing"] * 5 + [""] * 2}))
    refresh("concord")
    data = published(concord_client)["data"]
    assert current(data, "owners_reached")["value"] == 7
    assert current(data, "owners_answered") == {"value": None, "status": WITHHELD}
    assert current(data, "share_answered")["value"] is None
