"""The audit trail as a hash chain that PostgreSQL writes, and that only the owner could alter.

Every entry of a city links to the one written before it: a BEFORE INSERT trigger, holding a
per-schema lock until the transaction ends, gives the entry its id and its time (the database's
clock: no back-dated entry), the previous entry's hash, and its own hash:

    hash = sha256(prev_hash || "\\n" || canonical text of the entry)

The canonical text is the entry as a JSON object (to_jsonb of the whole row, in UTC) without
`hash` and `prev_hash`, and without the keys whose value is null or "": PostgreSQL prints jsonb
with its keys in one fixed order, so every column is covered, including the ones added later,
and a column added later that is nullable or defaults to "" leaves older entries' text (and so
their hashes) as it was. `manage.py audit_verify` recomputes the chain with its own copy of
this rule, not with these functions, which the owner could replace.

The trigger function runs as the owner (it draws the id from the owner's sequence) with a fixed
search path. UPDATE, DELETE, TRUNCATE, TRIGGER and REFERENCES on the table are taken from every
role but the owner: the application, which owns nothing, can only add and read entries.
"""

from django.db import migrations

CHAIN = r"""
CREATE FUNCTION registry_auditentry_canonical(entry jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)::text
    FROM jsonb_each(entry - 'hash' - 'prev_hash')
    WHERE value NOT IN ('null'::jsonb, '""'::jsonb)
$$;

CREATE FUNCTION registry_auditentry_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' SET IntervalStyle = 'iso_8601'
SET extra_float_digits = 1 SET bytea_output = 'hex' AS $$
DECLARE
    previous text;
    canonical text;
BEGIN
    -- One writer per city at a time, until its transaction ends: ids, times and links follow
    -- the order in which entries are committed.
    PERFORM pg_advisory_xact_lock(hashtext('registry_auditentry'), hashtext(TG_TABLE_SCHEMA));
    NEW.id := nextval(pg_get_serial_sequence(
        format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME), 'id'));
    NEW.at := clock_timestamp();
    EXECUTE format('SELECT hash FROM %I.%I ORDER BY id DESC LIMIT 1', TG_TABLE_SCHEMA, TG_TABLE_NAME)
        INTO previous;
    NEW.prev_hash := coalesce(previous, repeat('0', 64));
    -- The search path is fixed and leaves the city's schema out: named through the table's.
    EXECUTE format('SELECT %I.registry_auditentry_canonical($1)', TG_TABLE_SCHEMA)
        INTO canonical USING to_jsonb(NEW);
    NEW.hash := encode(sha256(convert_to(NEW.prev_hash || E'\n' || canonical, 'UTF8')), 'hex');
    RETURN NEW;
END;
$$;
-- Entries written before the chain existed are chained in id order, once.
GRANT UPDATE ON registry_auditentry TO CURRENT_USER;
ALTER TABLE registry_auditentry DISABLE TRIGGER registry_auditentry_no_update_delete;
DO $$
DECLARE
    entry record;
    previous text := repeat('0', 64);
BEGIN
    SET LOCAL TimeZone = 'UTC';
    SET LOCAL IntervalStyle = 'iso_8601';
    FOR entry IN SELECT e.id, to_jsonb(e) AS body FROM registry_auditentry e ORDER BY e.id LOOP
        UPDATE registry_auditentry SET prev_hash = previous,
            hash = encode(sha256(convert_to(
                previous || E'\n' || registry_auditentry_canonical(entry.body), 'UTF8')), 'hex')
        WHERE id = entry.id RETURNING hash INTO previous;
    END LOOP;
END;
$$;
ALTER TABLE registry_auditentry ENABLE TRIGGER registry_auditentry_no_update_delete;
REVOKE UPDATE ON registry_auditentry FROM CURRENT_USER;

CREATE TRIGGER registry_auditentry_chain
    BEFORE INSERT ON registry_auditentry
    FOR EACH ROW EXECUTE FUNCTION registry_auditentry_chain();

DO $$
DECLARE
    grantee text;
BEGIN
    FOR grantee IN
        SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                             ELSE quote_ident(a.grantee::regrole::text) END
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = 'registry_auditentry'::regclass AND a.grantee <> c.relowner
    LOOP
        EXECUTE format(
            'REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON registry_auditentry FROM %s',
            grantee);
    END LOOP;
END;
$$;
"""

UNCHAIN = """
DROP TRIGGER IF EXISTS registry_auditentry_chain ON registry_auditentry;
DROP FUNCTION IF EXISTS registry_auditentry_chain();
DROP FUNCTION IF EXISTS registry_auditentry_canonical(jsonb);
"""


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_auditdb_hash_fields")]

    operations = [migrations.RunSQL(CHAIN, UNCHAIN)]
