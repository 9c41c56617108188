"""Every test under tests/faults carries the `faults` marker, so that the fault-injection suite
runs alone with `pytest -m faults` (or is left out with `-m "not faults"`); `make test` and CI
run it with the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.faults)
