"""The platform license's price list: one yearly fee by the size of the registry a department
expects, the one source for the platform site's pricing page and for the draft license invoice
made when a department is provisioned from its request (the vendor may change the amount before
sending it). Amounts are in US cents."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class LicenseTier:
    key: str
    name: Promise
    # The largest expected number of cameras this tier covers; None: no upper bound.
    cameras_up_to: int | None
    yearly_amount: int


LICENSE_TIERS: tuple[LicenseTier, ...] = (
    LicenseTier("town", _("Town"), 2_500, 1_200_00),
    LicenseTier("city", _("City"), 15_000, 4_800_00),
    LicenseTier("metro", _("Metro"), 60_000, 12_000_00),
    LicenseTier("county", _("County or state"), None, 24_000_00),
)
LICENSE_CURRENCY = "usd"


def license_tier_for(expected_cameras: int) -> LicenseTier:
    """The tier whose range holds `expected_cameras` (negative counts as none)."""
    for tier in LICENSE_TIERS:
        if tier.cameras_up_to is None or max(expected_cameras, 0) <= tier.cameras_up_to:
            return tier
    return LICENSE_TIERS[-1]
