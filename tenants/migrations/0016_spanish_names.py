from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0015_branding_privacy_and_contact_pages"),
    ]

    operations = [
        migrations.AddField(
            model_name="department",
            name="name_es",
            field=models.CharField(blank=True, max_length=100, verbose_name="name (Spanish)"),
        ),
        migrations.AddField(
            model_name="branding",
            name="display_name_es",
            field=models.CharField(
                blank=True, max_length=100, verbose_name="display name (Spanish)"
            ),
        ),
    ]
