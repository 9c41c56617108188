"""Nothing on the page or in its data names a resident, an address, a case or a staff member."""

from __future__ import annotations

import pytest

from tests.transparency.conftest import published, refresh
from tests.transparency.seeding import (
    SECRET_ADDRESS,
    SECRET_CASE,
    SECRET_NAME,
    SECRET_NOTE,
    SECRET_PHONE,
    SECRET_STAFF,
    ZIP_28025,
    Seed,
    seed,
)

pytestmark = pytest.mark.django_db


def test_nothing_personal_is_published(concord_client):
    seed(
        "concord",
        Seed(
            sites={ZIP_28025: 8},
            devices=5,
            reveals={"burglary": 9},
            footage_requests={"burglary": 6},
            area_notices={"burglary": ["has_footage"] * 6},
            live_views={("active_threat", True): [5] * 5},
            opt_outs=6,
        ),
    )
    refresh("concord")
    out = published(concord_client)
    secrets = [
        SECRET_NAME,
        SECRET_ADDRESS,
        SECRET_CASE,
        SECRET_STAFF,
        SECRET_PHONE,
        SECRET_NOTE,
        "Quackenbush",
        "Xylophone",
        "QZ-98765",
        "leak.example",
    ]
    for kind in ("page", "json", "csv", "feed"):
        for secret in secrets:
            assert secret.casefold() not in out[kind].casefold(), (kind, secret)
    assert "35.37" not in out["json"] and "-80.53" not in out["json"]
