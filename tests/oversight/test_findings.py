"""Oversight flags an entry and records a finding; an administrator resolves it; each step is
itself an audit entry without personal data; bad input is refused and nothing is written."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.oversight.models import Finding, Flag
from portal.registry.models import AuditEntry
from tests.oversight.conftest import SECRETS

pytestmark = pytest.mark.django_db


def oversight_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action__startswith="oversight_").order_by("pk"))


def test_flag_finding_and_resolution(overseer, admin, seeded):
    entry_id = seeded.entry_ids[0]
    response = overseer.client.post(
        f"/department/oversight/entries/{entry_id}/flag/", {"note": "Why at night?"}
    )
    assert response.status_code == 302
    with schema_context("concord"):
        flag = Flag.objects.get()
    assert flag.entry_id == entry_id and flag.note == "Why at night?"
    response = overseer.client.post(
        f"/department/oversight/entries/{entry_id}/findings/",
        {"text": "No incident justified this reveal.", "severity": "violation", "flag": flag.pk},
    )
    assert response.status_code == 302
    page = overseer.client.get(f"/department/oversight/entries/{entry_id}/").content.decode()
    assert "No incident justified this reveal." in page
    assert "Open: waiting for the department's answer." in page
    assert "Resolve the finding" not in page  # oversight does not resolve
    with schema_context("concord"):
        finding = Finding.objects.get()
    assert finding.flag_id == flag.pk and finding.severity == "violation"
    # The administrator sees it on the findings page and answers it.
    findings_page = admin.client.get("/department/oversight/findings/").content.decode()
    assert "No incident justified this reveal." in findings_page
    assert "Resolve the finding" in findings_page
    response = admin.client.post(
        f"/department/oversight/findings/{finding.pk}/resolve/",
        {"resolution": "The investigator was retrained."},
    )
    assert response.status_code == 302
    with schema_context("concord"):
        finding.refresh_from_db()
        entries = oversight_entries()
    assert finding.resolution == "The investigator was retrained."
    assert finding.resolved_by.user.email == admin.email and finding.resolved_at
    assert [entry.action for entry in entries] == [
        AuditEntry.Action.OVERSIGHT_FLAG,
        AuditEntry.Action.OVERSIGHT_FINDING,
        AuditEntry.Action.OVERSIGHT_RESOLUTION,
    ]
    assert [entry.actor_email for entry in entries] == [overseer.email, overseer.email, admin.email]
    assert entries[0].reason == f"Audit entry {entry_id} flagged for review (flag {flag.pk})"
    assert entries[1].reason == (
        f"Finding {finding.pk} (violation) recorded on audit entry {entry_id} from flag {flag.pk}"
    )
    # Neither the council's nor the department's words go into the trail, and no one's data.
    for entry in entries:
        text = f"{entry.reason} {entry.note}".casefold()
        assert "retrained" not in text and "justified" not in text and "night" not in text
        assert not any(secret.casefold() in text for secret in SECRETS)
        assert entry.site_id is None and entry.participant_id is None
    page = overseer.client.get("/department/oversight/findings/").content.decode()
    assert "The investigator was retrained." in page


def test_a_finding_without_text_is_refused(overseer, seeded):
    response = overseer.client.post(
        f"/department/oversight/entries/{seeded.entry_ids[0]}/findings/",
        {"text": "   ", "severity": "concern"},
    )
    assert response.status_code == 400
    assert "Write the finding: what was found about this entry." in response.content.decode()
    with schema_context("concord"):
        assert not Finding.objects.exists() and not oversight_entries()


def test_a_finding_without_a_known_severity_is_refused(overseer, seeded):
    response = overseer.client.post(
        f"/department/oversight/entries/{seeded.entry_ids[0]}/findings/",
        {"text": "Odd.", "severity": "catastrophic"},
    )
    assert response.status_code == 400
    with schema_context("concord"):
        assert not Finding.objects.exists() and not oversight_entries()


def test_a_finding_naming_a_flag_of_another_entry_is_refused(overseer, seeded):
    first, second = seeded.entry_ids[:2]
    overseer.client.post(f"/department/oversight/entries/{first}/flag/", {"note": ""})
    with schema_context("concord"):
        flag = Flag.objects.get()
    response = overseer.client.post(
        f"/department/oversight/entries/{second}/findings/",
        {"text": "Odd.", "severity": "concern", "flag": flag.pk},
    )
    assert response.status_code == 400
    assert "That flag is not on this entry." in response.content.decode()
    with schema_context("concord"):
        assert not Finding.objects.exists()


def test_a_flag_on_an_entry_that_does_not_exist_is_refused(overseer, seeded):
    missing = max(seeded.entry_ids) + 1000
    response = overseer.client.post(f"/department/oversight/entries/{missing}/flag/", {})
    assert response.status_code == 404
    assert (
        f"There is no audit entry {missing} in this department&#x27;s audit trail."
        in response.content.decode()
    )
    assert overseer.client.get(f"/department/oversight/entries/{missing}/").status_code == 404
    with schema_context("concord"):
        assert not Flag.objects.exists() and not oversight_entries()


def resolve_setup(overseer, seeded) -> int:
    overseer.client.post(
        f"/department/oversight/entries/{seeded.entry_ids[0]}/findings/",
        {"text": "Odd.", "severity": "concern"},
    )
    with schema_context("concord"):
        return Finding.objects.get().pk


def test_an_oversight_account_cannot_resolve_a_finding(overseer, seeded):
    finding_id = resolve_setup(overseer, seeded)
    response = overseer.client.post(
        f"/department/oversight/findings/{finding_id}/resolve/", {"resolution": "Fine by me."}
    )
    assert response.status_code == 403
    assert (
        "Only the department&#x27;s administrators answer and resolve findings."
        in response.content.decode()
    )
    with schema_context("concord"):
        assert Finding.objects.get().resolved_at is None
        assert [e.action for e in oversight_entries()] == [AuditEntry.Action.OVERSIGHT_FINDING]


def test_an_investigator_cannot_resolve_a_finding(overseer, investigator, seeded):
    finding_id = resolve_setup(overseer, seeded)
    response = investigator.client.post(
        f"/department/oversight/findings/{finding_id}/resolve/", {"resolution": "Done."}
    )
    assert response.status_code == 403
    assert investigator.client.get("/department/oversight/findings/").status_code == 403
    with schema_context("concord"):
        assert Finding.objects.get().resolved_at is None


def test_an_empty_resolution_and_a_second_one_are_refused(overseer, admin, seeded):
    finding_id = resolve_setup(overseer, seeded)
    url = f"/department/oversight/findings/{finding_id}/resolve/"
    response = admin.client.post(url, {"resolution": " "}, follow=True)
    assert "Write the department&#x27;s answer to the finding." in response.content.decode()
    with schema_context("concord"):
        assert Finding.objects.get().resolved_at is None
    admin.client.post(url, {"resolution": "Answered."})
    response = admin.client.post(url, {"resolution": "Answered again."}, follow=True)
    assert "This finding was already resolved." in response.content.decode()
    with schema_context("concord"):
        assert Finding.objects.get().resolution == "Answered."
        assert [e.action for e in oversight_entries()].count("oversight_resolution") == 1


def test_resolving_a_finding_that_does_not_exist_is_refused(admin):
    response = admin.client.post(
        "/department/oversight/findings/999999/resolve/", {"resolution": "Answered."}
    )
    assert response.status_code == 404
    assert "There is no finding 999999 in this department." in response.content.decode()


def test_administrators_answer_findings_but_do_not_record_them(admin, seeded):
    response = admin.client.post(
        f"/department/oversight/entries/{seeded.entry_ids[0]}/findings/",
        {"text": "Self-review.", "severity": "observation"},
    )
    assert response.status_code == 403
    assert admin.client.get("/department/oversight/").status_code == 403
    with schema_context("concord"):
        assert not Finding.objects.exists()
