"""Each clip's first download by staff, which makes its owner's answer final (services.
answer_is_final); clips downloaded before this column existed get it from the audit trail
(their DOWNLOAD entries' reason begins "Clip <id> sha256 ")."""

import re

from django.db import migrations, models

CLIP_REASON = re.compile(r"^Clip (\d+) sha256 ")


def first_downloads_from_the_audit_trail(apps, schema_editor):
    AuditEntry = apps.get_model("registry", "AuditEntry")
    FootageClip = apps.get_model("department", "FootageClip")
    first: dict[int, object] = {}
    entries = AuditEntry.objects.filter(action="download", reason__startswith="Clip ")
    for reason, at in entries.order_by("at").values_list("reason", "at").iterator():
        found = CLIP_REASON.match(reason)
        if found:
            first.setdefault(int(found.group(1)), at)
    for clip_id, at in first.items():
        FootageClip.objects.filter(pk=clip_id, first_downloaded_at__isnull=True).update(
            first_downloaded_at=at
        )


class Migration(migrations.Migration):
    dependencies = [
        ("department", "0007_us_spelling_labels"),
        ("registry", "0018_us_spelling_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="footageclip",
            name="first_downloaded_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(first_downloads_from_the_audit_trail, migrations.RunPython.noop),
    ]
