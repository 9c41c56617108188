"""Live views are told by access notices from now on: the notices recorded as "told by live
view's own notice" whose grant live view had not told yet (held for an emergency, or not yet
sent when live view's notices stopped) become pending, due when the grant's hold ends."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def untold_live_views_pending(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    AccessNotice = apps.get_model("access_notices", "AccessNotice")
    Grant = apps.get_model("liveview", "Grant")
    skipped = AccessNotice.objects.filter(status="skipped", skipped="live_view_notice")
    grants = {
        grant.audit_entry_id: grant
        for grant in Grant.objects.filter(
            audit_entry_id__in=skipped.values("audit_entry_id"), owner_notified_at__isnull=True
        )
    }
    for notice in skipped.filter(audit_entry_id__in=list(grants)):
        grant = grants[notice.audit_entry_id]
        if grant.notice_delayed and grant.notice_after:
            notice.due_at = max(notice.due_at, grant.notice_after)
        notice.status, notice.skipped = "pending", ""
        notice.save(update_fields=["due_at", "status", "skipped"])


class Migration(migrations.Migration):
    dependencies = [
        ("access_notices", "0002_singletons"),
        ("liveview", "0003_grant_audit_entry_and_one_notice_path"),
    ]

    operations = [migrations.RunPython(untold_live_views_pending, migrations.RunPython.noop)]
