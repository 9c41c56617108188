"""THE rule that keeps a published count from singling out a household: counts from 1 to 4 are
withheld ("fewer than 5"), and so is a second count in any row or column that shows its total,
so that no withheld count can be worked out by subtraction. The page, the CSV, the JSON and the
feed all publish tables that went through `suppress`, and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

THRESHOLD = 5

SHOWN = "shown"
# Withheld because the count is from 1 to 4.
FEWER = "fewer_than_5"
# Withheld because, with the totals shown, it would let a smaller count be worked out.
WITHHELD = "withheld"

# The key of the totals row and column.
TOTAL = "__total__"


@dataclass(frozen=True)
class Cell:
    value: int
    status: str = SHOWN

    @property
    def shown(self) -> bool:
        return self.status == SHOWN

    @property
    def published(self) -> int | None:
        """The value as it may be published: None when withheld."""
        return self.value if self.shown else None


def small(value: int) -> bool:
    return 0 < value < THRESHOLD


def suppress(
    values: Mapping[tuple[str, str], int],
    rows: Sequence[str],
    columns: Sequence[str],
    *,
    row_totals: bool = True,
    withhold: Callable[[tuple[str, str], int], bool] | None = None,
) -> dict[tuple[str, str], Cell]:
    """The table of `values` (missing cells are 0) with its totals row (TOTAL), its totals
    column when `row_totals` (and more than one column), and the grand total, each cell shown or
    withheld. Primary suppression withholds counts from 1 to 4; complementary suppression then
    withholds, in every line (a row or column with its total) that has exactly one withheld
    cell, its smallest other non-zero cell, until no line has exactly one."""
    with_row_totals = row_totals and len(columns) > 1
    all_rows = [*rows, TOTAL]
    all_columns = [*columns, TOTAL] if with_row_totals else list(columns)
    grid: dict[tuple[str, str], int] = {}
    for row in rows:
        for column in columns:
            grid[row, column] = int(values.get((row, column), 0))
    for column in columns:
        grid[TOTAL, column] = sum(grid[row, column] for row in rows)
    if with_row_totals:
        for row in all_rows:
            grid[row, TOTAL] = sum(grid[row, column] for column in columns)
    withheld: dict[tuple[str, str], str] = {
        key: FEWER if small(value) else WITHHELD
        for key, value in grid.items()
        if small(value) or (withhold is not None and withhold(key, value))
    }
    lines = [[(row, column) for column in all_columns] for row in all_rows] + [
        [(row, column) for row in all_rows] for column in all_columns
    ]
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [key for key in line if key in withheld]
            if len(hidden) != 1:
                continue
            candidates = [key for key in line if key not in withheld and grid[key] > 0]
            if not candidates:
                continue
            # The smallest other count goes; a total only when no ordinary cell can.
            candidates.sort(key=lambda key: (TOTAL in key, grid[key]))
            withheld[candidates[0]] = WITHHELD
            changed = True
    return {key: Cell(value, withheld.get(key, SHOWN)) for key, value in grid.items()}
