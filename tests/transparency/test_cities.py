"""Two cities' figures never mix, whatever ids their records share."""

from __future__ import annotations

import pytest

from tests.transparency.conftest import current, published, refresh
from tests.transparency.seeding import ZIP_28025, Seed, seed

pytestmark = pytest.mark.django_db


def test_each_city_publishes_its_own_figures(concord_client, carrollton_client):
    # Seeded the same way, the records of both cities have the same ids.
    seed("concord", Seed(sites={ZIP_28025: 6}, reveals={"burglary": 7}, opt_outs=6))
    seed("carrollton", Seed(sites={ZIP_28025: 9}, reveals={"burglary": 11}, opt_outs=0))
    refresh("concord")
    concord = published(concord_client)["data"]
    assert current(concord, "reveals")["value"] == 7
    assert current(concord, "opt_outs")["value"] == 6
    # Carrollton's figures are not computed yet: Concord's run wrote nothing there.
    carrollton = published(carrollton_client)["data"]
    assert carrollton["computed_at"] is None
    assert current(carrollton, "reveals")["value"] == 0
    refresh("carrollton")
    carrollton = published(carrollton_client)["data"]
    assert current(carrollton, "reveals")["value"] == 11
    assert current(carrollton, "opt_outs")["value"] == 0
    assert published(concord_client)["data"]["department"] != carrollton["department"]
    assert current(published(concord_client)["data"], "reveals")["value"] == 7
