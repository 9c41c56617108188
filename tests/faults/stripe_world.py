"""A paid device subscription written into a private copy of the test database (the harness's
PrivatePostgres) the way production writes it, and the renewal's failed-payment event Stripe
then sends, for tests/faults/test_stripe_faults_webhooks.py and bench/faults_stripe.py.

Run as a process of its own against the copy (the environment of harness.canvass_environment):

    python -m tests.faults.stripe_world OUT.json

Stripe's side is billing.fake_stripe (the only fake: Stripe's network) injected for this
process; everything else is Canvass's own services: the plan synced, the owner's site
registered, the resident checkout started, the owner paying, Stripe's events processed through
billing.webhooks. OUT.json gets {"subscription": pk, "event": the invoice.payment_failed event}.
Handling that event needs no call to Stripe (the subscription is already linked), so gunicorn
can process it without Stripe's network."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def seeded(email: str = "faults-owner@example.org") -> dict[str, Any]:
    from billing.fake_stripe import FakeStripe
    from billing.gateway import transport_injected
    from billing.webhooks import event_process
    from tests.billing.conftest import paid_checkout_make

    with transport_injected(FakeStripe()) as fake:
        paid = paid_checkout_make(fake, "concord", email=email)
        for event in paid.complete().values():
            event_process(event=event)
        failed = fake.renewal_fails(paid.stripe_subscription_id)
    return {"subscription": paid.subscription_pk, "event": failed[0]}


if __name__ == "__main__":
    import django

    django.setup()
    Path(sys.argv[1]).write_text(json.dumps(seeded(*sys.argv[2:])))
