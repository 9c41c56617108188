"""CSV files that a spreadsheet opens as data: every export writes through these writers, which
put a leading ' before text that a spreadsheet would otherwise run as a formula.

The rule (OWASP's "CSV injection"): a text cell starting with = + - @, a tab or a carriage return
is neutralised. Only text is touched: the numbers we write ourselves (a longitude of -80.58, a
distance, an id) are data, and stay numbers. Anything people typed (an address, a camera label,
a note, a reason) reaches the writers as text, so a resident's "-2+3" address is neutralised
while a site's longitude is not.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_neutralise(value: object) -> object:
    """The value as a spreadsheet should show it: text that would start a formula gets a ',
    everything else (numbers, None, dates we format) is written unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer with every text cell neutralised (csv.writer's type cannot be subclassed)."""

    def __init__(self, stream: Any, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([cell_neutralise(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter(csv.DictWriter):
    """csv.DictWriter with every text cell neutralised (the header goes through writerow too,
    and column names never start with a formula character)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: cell_neutralise(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for rowdict in rowdicts:
            self.writerow(rowdict)
