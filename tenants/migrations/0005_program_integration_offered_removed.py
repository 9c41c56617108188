"""Whether a city sells integration devices is now answered by the plans it offers
(billing.selectors.plans_offered), not by a flag of its own."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0004_evidence_clip_limits"),
    ]

    operations = [
        migrations.RemoveField(model_name="program", name="integration_offered"),
    ]
