# A download attempted while storage could not hand the clip out is recorded too (issue 16).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0015_guardrail_actions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('reveal', 'Contact details revealed'), ('export', 'Registry exported'), ('notify', 'Area notified'), ('footage_request', 'Footage requested'), ('download', 'Footage downloaded'), ('download_failed', 'Footage download failed (storage unavailable)'), ('live_feed', 'Live feed opened'), ('live_feed_end', 'Live feed closed'), ('staff_invite', 'Staff member invited'), ('staff_role_change', 'Staff role changed'), ('staff_deactivate', 'Staff account deactivated'), ('staff_reactivate', 'Staff account reactivated'), ('import', 'Registry imported'), ('canvass_view', 'Canvass addresses viewed'), ('map_view', 'Exact locations viewed on the map'), ('import_preview', 'Registry import previewed'), ('integration_start', 'Integration started (subscription paid)'), ('integration_end', 'Integration ended (subscription ended)'), ('subscriptions_view', "Device subscriptions' addresses viewed"), ('support_start', 'Vendor support session started'), ('support_write', 'Vendor support write access approved'), ('support_end', 'Vendor support session ended'), ('support_action', 'Vendor support changed something'), ('oversight_flag', 'Entry flagged for review (oversight)'), ('oversight_finding', 'Finding recorded (oversight)'), ('oversight_resolution', 'Finding resolved'), ('guardrail_change', 'Guardrails changed'), ('guardrail_exception', 'Guardrail overridden in an emergency')], max_length=20),
        ),
    ]
