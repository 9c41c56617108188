"""Owners hear of live views through their access notices (portal.access_notices), which find
each grant from its LIVE_FEED audit entry: the link is added and filled in for the grants
already opened (their entry's reason names the grant: "... (grant 12 ..."), and live view's
own notice choices go."""

import re

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

GRANT_IN_REASON = re.compile(r"\(grant (\d+)")


def grants_link(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    AuditEntry = apps.get_model("registry", "AuditEntry")
    Grant = apps.get_model("liveview", "Grant")
    linked = {}
    for entry_id, reason in AuditEntry.objects.filter(action="live_feed").values_list(
        "pk", "reason"
    ):
        found = GRANT_IN_REASON.search(reason)
        if found:
            linked[int(found.group(1))] = entry_id
    for grant in Grant.objects.filter(pk__in=linked, audit_entry_id__isnull=True):
        grant.audit_entry_id = linked[grant.pk]
        grant.save(update_fields=["audit_entry_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("liveview", "0002_alter_grant_ended_why"),
        ("registry", "0015_guardrail_actions"),
    ]

    operations = [
        migrations.RemoveField(model_name="livepreferences", name="notify"),
        migrations.RemoveField(model_name="livepreferences", name="summary_sent_until"),
        migrations.AddField(
            model_name="grant",
            name="audit_entry_id",
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.RunPython(grants_link, migrations.RunPython.noop),
    ]
