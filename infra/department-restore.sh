#!/bin/sh
# Restore one department's schema from its own dump, without touching any other department:
#
#   pg_dump "$DATABASE_OWNER_URL" --schema=concord --format=custom --file=concord.dump  # backup
#   DATABASE_OWNER_URL=... infra/department-restore.sh concord concord.dump             # restore
#
# Suspend the department first (its portal answers 503 meanwhile). The damaged schema is kept
# beside it as <schema>_damaged until you drop it; the restore itself is one transaction (a
# failure puts the damaged schema back). Its sequences then continue past the damaged schema's,
# so no id handed out after the backup (and perhaps held by a public table: billing keeps site
# and participant ids) is given again, and everyone signs in again. Needs psql and pg_restore of the server's version or
# newer. See docs/operations.md, "Backups and restoring one department".
set -eu
schema=${1:?usage: department-restore.sh SCHEMA DUMP}
dump=${2:?usage: department-restore.sh SCHEMA DUMP}
url=${DATABASE_OWNER_URL:?set DATABASE_OWNER_URL: the owner restores, as it owns every schema}
case $schema in
    *[!a-z0-9_]* | "" | public | department_template | pg_*)
        echo "not a department's schema name: $schema" >&2
        exit 2
        ;;
esac
aside="${schema}_damaged"

psql "$url" --quiet --set=ON_ERROR_STOP=1 --command="ALTER SCHEMA \"$schema\" RENAME TO \"$aside\""
if ! pg_restore --dbname="$url" --single-transaction --exit-on-error "$dump"; then
    psql "$url" --quiet --set=ON_ERROR_STOP=1 --command="ALTER SCHEMA \"$aside\" RENAME TO \"$schema\""
    echo "restore failed; $schema is as it was" >&2
    exit 1
fi
psql "$url" --quiet --output=/dev/null --set=ON_ERROR_STOP=1 --set=schema="$schema" \
    --set=aside="$aside" <<'SQL'
SELECT set_config('restore.schema', :'schema', false), set_config('restore.aside', :'aside', false);
DO $$
DECLARE
    restored record;
BEGIN
    FOR restored IN
        SELECT r.sequencename, greatest(coalesce(r.last_value, 0), d.last_value) AS position
        FROM pg_sequences r
        JOIN pg_sequences d ON d.sequencename = r.sequencename
            AND d.schemaname = current_setting('restore.aside')
        WHERE r.schemaname = current_setting('restore.schema') AND d.last_value IS NOT NULL
    LOOP
        PERFORM setval(
            format('%I.%I', current_setting('restore.schema'), restored.sequencename),
            restored.position
        );
    END LOOP;
END
$$;
-- Sessions are as they were at the backup: one signed out since would be valid again.
DELETE FROM :"schema".django_session;
SQL
echo "$schema restored from $dump; the damaged copy is $aside (DROP SCHEMA $aside CASCADE when done)"
