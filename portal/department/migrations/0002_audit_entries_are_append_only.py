"""PostgreSQL itself refuses to change or remove audit entries, whoever asks."""

from django.db import migrations

FORBID = """
CREATE FUNCTION department_auditentry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER department_auditentry_no_update_delete
    BEFORE UPDATE OR DELETE ON department_auditentry
    FOR EACH ROW EXECUTE FUNCTION department_auditentry_append_only();
CREATE TRIGGER department_auditentry_no_truncate
    BEFORE TRUNCATE ON department_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION department_auditentry_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON department_auditentry FROM PUBLIC, CURRENT_USER;
"""

ALLOW = """
DROP TRIGGER IF EXISTS department_auditentry_no_truncate ON department_auditentry;
DROP TRIGGER IF EXISTS department_auditentry_no_update_delete ON department_auditentry;
DROP FUNCTION IF EXISTS department_auditentry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("department", "0001_initial")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
