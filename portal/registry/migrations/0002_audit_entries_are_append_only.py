"""PostgreSQL itself refuses to change or remove audit entries, whoever asks."""

from django.db import migrations

FORBID = """
CREATE FUNCTION registry_auditentry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER registry_auditentry_no_update_delete
    BEFORE UPDATE OR DELETE ON registry_auditentry
    FOR EACH ROW EXECUTE FUNCTION registry_auditentry_append_only();
CREATE TRIGGER registry_auditentry_no_truncate
    BEFORE TRUNCATE ON registry_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION registry_auditentry_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON registry_auditentry FROM PUBLIC, CURRENT_USER;
"""

ALLOW = """
DROP TRIGGER IF EXISTS registry_auditentry_no_truncate ON registry_auditentry;
DROP TRIGGER IF EXISTS registry_auditentry_no_update_delete ON registry_auditentry;
DROP FUNCTION IF EXISTS registry_auditentry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
