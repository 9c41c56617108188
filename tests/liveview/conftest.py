"""Live view's test fixtures: each helper's in its own module, imported here."""

from tests.liveview.devices_fixtures import (  # noqa: F401
    device_api,
    device_owner,
    device_owner_make,
    device_pair,
    device_paired,
)
