import pytest
pytestmark = pytest.mark.django_db

def test_pages(console_subscription, platform_client, vendor, sign_in):
    made = console_subscription("concord")
    assert made.participation == "integrated"
    sign_in(platform_client, vendor)
    for path in ["/console/billing/", f"/console/billing/subscriptions/{made.subscription.pk}/", "/console/billing/revenue/", "/console/billing/problems/", "/console/billing/fulfilment/"]:
        r = platform_client.get(path)
        assert r.status_code == 200, (path, r.content[:3000])
    print(platform_client.get("/console/billing/revenue/").content.decode()[-3000:])
