"""The department's notice settings and the collecting job's mark, one row each: the mark starts
now, so that accesses recorded before owners' notices existed are not announced all at once."""

from django.db import migrations

SQL = """
INSERT INTO access_notices_noticesettings (id, delay_max_days, updated_at)
VALUES (1, 30, clock_timestamp()) ON CONFLICT (id) DO NOTHING;
INSERT INTO access_notices_noticemark (id, installed_at, last_entry_id)
VALUES (1, clock_timestamp(), 0) ON CONFLICT (id) DO NOTHING;
"""


class Migration(migrations.Migration):
    dependencies = [("access_notices", "0001_initial")]

    operations = [migrations.RunSQL(SQL, migrations.RunSQL.noop)]
