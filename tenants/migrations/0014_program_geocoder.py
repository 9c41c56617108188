from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0013_program_distance_units"),
    ]

    operations = [
        migrations.AddField(
            model_name="program",
            name="geocoder",
            field=models.CharField(
                choices=[
                    ("none", "None: people place the pin on the map"),
                    ("nominatim", "OpenStreetMap (Nominatim)"),
                    ("census", "US Census Bureau"),
                    ("gazetteer", "Local street list (demo)"),
                ],
                default="nominatim",
                help_text="Which service finds places by address for residents and staff.",
                max_length=16,
                verbose_name="address search",
            ),
        ),
    ]
