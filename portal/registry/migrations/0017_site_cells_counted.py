"""The registry map's counts kept per grid cell, by PostgreSQL itself.

`registry_sitecell` holds, for every zoom level the map clusters at (0 to 15) and every square
cell of 90 / 2**zoom degrees, the searchable sites in it per kind and participation: how many,
and the sums of their latitudes and longitudes (numeric: adding and taking away is exact, so
the sums never drift). portal.department.selectors.map_clusters reads it instead of grouping
every site of the city on each request.

The counts are kept by statement-level triggers on the sites and on their owners, in the same
transaction as the change, whatever makes it: a registration, an edit, a pause, an opt-out, a
lapse, a purge, an import's COPY, a deletion through Django's collector. Each trigger adds the
rows it changed as they count now, and takes away the rows as they counted before, with the
one rule of a searchable site (SiteQuerySet.searchable_condition: not paused, its owner's
status 'active'), which the test comparing both results (tests/registry/test_site_cells.py)
holds to the Python definition.

Concurrency: a site's trigger first locks its owners' rows FOR SHARE, so that a change of
the owner's status (which locks the row for update) and a change of one of their sites never
each count the other's state as of before it: one waits for the other to commit, then reads
it. The cells of a city's coarsest levels are single rows every change updates: writers of one
department queue on them for the rest of their transaction (registrations are rare; an
import's commit holds them for its few seconds).

Names are qualified with the schema of the table that fired (TG_TABLE_SCHEMA): the functions
are copied into each department (tenants.schema_clone) and never depend on the search path.
"""

from django.db import migrations

# The map clusters below zoom 16 (portal.department.views.SITE_ZOOM); each level's cells are
# 90 / 2**zoom degrees, as the view computes them (360 / 2**zoom / 4, the same double).
CELL = "floor(d.{axis} / (90::float8 / power(2::float8, z.zoom)))::integer"

# Adds the signed rows of `(%2$s)` (latitude, longitude, kind, participation, sign) to the
# cells of every level, in key order (two writers then lock shared cells in the same order).
APPLY = f"""
INSERT INTO %1$I.registry_sitecell AS cell
    (zoom, cell_row, cell_column, kind, participation, sites, latitude_sum, longitude_sum)
SELECT z.zoom, {CELL.format(axis="latitude")}, {CELL.format(axis="longitude")},
       d.kind, d.participation, sum(d.sign)::integer,
       sum(d.sign * d.latitude::numeric), sum(d.sign * d.longitude::numeric)
FROM (%2$s) AS d CROSS JOIN generate_series(0, 15) AS z(zoom)
GROUP BY 1, 2, 3, 4, 5
HAVING sum(d.sign) <> 0 OR sum(d.sign * d.latitude::numeric) <> 0
    OR sum(d.sign * d.longitude::numeric) <> 0
ORDER BY 1, 2, 3, 4, 5
ON CONFLICT (zoom, cell_row, cell_column, kind, participation) DO UPDATE SET
    sites = cell.sites + excluded.sites,
    latitude_sum = cell.latitude_sum + excluded.latitude_sum,
    longitude_sum = cell.longitude_sum + excluded.longitude_sum
"""

COUNT = f"""
CREATE TABLE registry_sitecell (
    zoom smallint NOT NULL,
    cell_row integer NOT NULL,
    cell_column integer NOT NULL,
    kind varchar(10) NOT NULL,
    participation varchar(10) NOT NULL,
    sites integer NOT NULL,
    latitude_sum numeric NOT NULL,
    longitude_sum numeric NOT NULL,
    CONSTRAINT registry_sitecell_pkey
        PRIMARY KEY (zoom, cell_row, cell_column, kind, participation)
);
-- The map reads bands of cells along a box's edges: rows first (the key) for the southern and
-- northern bands, columns first (this index) for the western and eastern ones.
CREATE INDEX registry_sitecell_columns ON registry_sitecell (zoom, cell_column, cell_row);

CREATE FUNCTION registry_site_cells_count() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    apply constant text := $apply${APPLY}$apply$;
    lock_owners constant text := $lock$
        SELECT count(*) FROM (
            SELECT 1 FROM %1$I.registry_participant
            WHERE id IN (%2$s) ORDER BY id FOR SHARE
        ) AS locked$lock$;
    searchable constant text := $rule$
        SELECT s.latitude, s.longitude, s.kind, s.participation, %3$s AS sign
        FROM %2$s AS s JOIN %1$I.registry_participant AS p ON p.id = s.participant_id
        WHERE NOT s.paused AND p.status = 'active'$rule$;
    changed constant text := $changed$
        SELECT s.* FROM %1$s AS s JOIN %2$s AS other ON other.id = s.id
        WHERE (s.paused, s.latitude, s.longitude, s.kind, s.participation, s.participant_id)
        IS DISTINCT FROM (other.paused, other.latitude, other.longitude, other.kind,
                          other.participation, other.participant_id)$changed$;
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format(lock_owners, TG_TABLE_SCHEMA, 'SELECT participant_id FROM new_sites');
        EXECUTE format(apply, TG_TABLE_SCHEMA,
                       format(searchable, TG_TABLE_SCHEMA, 'new_sites', '1'));
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format(lock_owners, TG_TABLE_SCHEMA, 'SELECT participant_id FROM old_sites');
        EXECUTE format(apply, TG_TABLE_SCHEMA,
                       format(searchable, TG_TABLE_SCHEMA, 'old_sites', '-1'));
    ELSE
        EXECUTE format(lock_owners, TG_TABLE_SCHEMA,
                       'SELECT participant_id FROM old_sites UNION '
                       'SELECT participant_id FROM new_sites');
        -- Only the rows whose place, kind, participation, pause or owner changed count.
        EXECUTE format(apply, TG_TABLE_SCHEMA,
            format(searchable, TG_TABLE_SCHEMA,
                   '(' || format(changed, 'old_sites', 'new_sites') || ')', '-1')
            || ' UNION ALL ' ||
            format(searchable, TG_TABLE_SCHEMA,
                   '(' || format(changed, 'new_sites', 'old_sites') || ')', '1'));
    END IF;
    RETURN NULL;
END;
$fn$;

CREATE FUNCTION registry_participant_cells_count() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    apply constant text := $apply${APPLY}$apply$;
    sites_of constant text := $sites$
        SELECT s.latitude, s.longitude, s.kind, s.participation, p.sign
        FROM (%2$s) AS p JOIN %1$I.registry_site AS s ON s.participant_id = p.id
        WHERE NOT s.paused$sites$;
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format(apply, TG_TABLE_SCHEMA, format(sites_of, TG_TABLE_SCHEMA,
            $q$SELECT id, 1 AS sign FROM new_participants WHERE status = 'active'$q$));
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format(apply, TG_TABLE_SCHEMA, format(sites_of, TG_TABLE_SCHEMA,
            $q$SELECT id, -1 AS sign FROM old_participants WHERE status = 'active'$q$));
    ELSE
        -- Only an owner whose registration became, or stopped being, confirmed counts.
        EXECUTE format(apply, TG_TABLE_SCHEMA, format(sites_of, TG_TABLE_SCHEMA,
            $q$SELECT n.id, CASE WHEN n.status = 'active' THEN 1 ELSE -1 END AS sign
               FROM old_participants AS o JOIN new_participants AS n ON n.id = o.id
               WHERE (o.status = 'active') <> (n.status = 'active')$q$));
    END IF;
    RETURN NULL;
END;
$fn$;

CREATE FUNCTION registry_site_cells_clear() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('DELETE FROM %I.registry_sitecell', TG_TABLE_SCHEMA);
    RETURN NULL;
END;
$fn$;

CREATE TRIGGER registry_site_cells_insert AFTER INSERT ON registry_site
    REFERENCING NEW TABLE AS new_sites
    FOR EACH STATEMENT EXECUTE FUNCTION registry_site_cells_count();
CREATE TRIGGER registry_site_cells_update AFTER UPDATE ON registry_site
    REFERENCING OLD TABLE AS old_sites NEW TABLE AS new_sites
    FOR EACH STATEMENT EXECUTE FUNCTION registry_site_cells_count();
CREATE TRIGGER registry_site_cells_delete AFTER DELETE ON registry_site
    REFERENCING OLD TABLE AS old_sites
    FOR EACH STATEMENT EXECUTE FUNCTION registry_site_cells_count();
CREATE TRIGGER registry_site_cells_truncate AFTER TRUNCATE ON registry_site
    FOR EACH STATEMENT EXECUTE FUNCTION registry_site_cells_clear();
CREATE TRIGGER registry_participant_cells_insert AFTER INSERT ON registry_participant
    REFERENCING NEW TABLE AS new_participants
    FOR EACH STATEMENT EXECUTE FUNCTION registry_participant_cells_count();
CREATE TRIGGER registry_participant_cells_update AFTER UPDATE ON registry_participant
    REFERENCING OLD TABLE AS old_participants NEW TABLE AS new_participants
    FOR EACH STATEMENT EXECUTE FUNCTION registry_participant_cells_count();
CREATE TRIGGER registry_participant_cells_delete AFTER DELETE ON registry_participant
    REFERENCING OLD TABLE AS old_participants
    FOR EACH STATEMENT EXECUTE FUNCTION registry_participant_cells_count();

-- The sites already registered (the triggers above hold both tables until this commits).
INSERT INTO registry_sitecell
    (zoom, cell_row, cell_column, kind, participation, sites, latitude_sum, longitude_sum)
SELECT z.zoom, {CELL.format(axis="latitude")}, {CELL.format(axis="longitude")},
       d.kind, d.participation, count(*), sum(d.latitude::numeric), sum(d.longitude::numeric)
FROM registry_site AS d JOIN registry_participant AS p ON p.id = d.participant_id
CROSS JOIN generate_series(0, 15) AS z(zoom)
WHERE NOT d.paused AND p.status = 'active'
GROUP BY 1, 2, 3, 4, 5;
"""

UNCOUNT = """
DROP TRIGGER IF EXISTS registry_participant_cells_delete ON registry_participant;
DROP TRIGGER IF EXISTS registry_participant_cells_update ON registry_participant;
DROP TRIGGER IF EXISTS registry_participant_cells_insert ON registry_participant;
DROP TRIGGER IF EXISTS registry_site_cells_truncate ON registry_site;
DROP TRIGGER IF EXISTS registry_site_cells_delete ON registry_site;
DROP TRIGGER IF EXISTS registry_site_cells_update ON registry_site;
DROP TRIGGER IF EXISTS registry_site_cells_insert ON registry_site;
DROP FUNCTION IF EXISTS registry_site_cells_clear();
DROP FUNCTION IF EXISTS registry_participant_cells_count();
DROP FUNCTION IF EXISTS registry_site_cells_count();
DROP TABLE IF EXISTS registry_sitecell;
"""


class Migration(migrations.Migration):
    dependencies = [("registry", "0016_download_failed_action")]

    operations = [migrations.RunSQL(COUNT, UNCOUNT)]
