"""The map cells' triggers add an import's sites level by level from their finest cells.

0017's triggers grouped the changed sites once per zoom level (0 to 15): every site crossed
with the 16 levels, its latitude and longitude converted to numeric on each of the 16 copies.
An import of 30,000 sites made that 480,000 rows and took 3.8 s of its commit's 4.9 s
(EXPLAIN ANALYZE: `Trigger registry_site_cells_insert: time=3755`). The changed sites are now
grouped once into the finest level's cells (zoom 15), and the coarser levels are added from
those cells: 16 copies of each occupied finest cell instead of each site.

The same counts: a level's cell is floor(degrees / (90 / 2**zoom)), and that is the finest
cell's index divided by 2**(15 - zoom), rounded down. In floating point too: 90 / 2**zoom is
exact, dividing by it differs from dividing by 90 / 2**15 only by a power of two (exact
outside the subnormal range), and floor(floor(x) / n) = floor(x / n) for a whole n. The sums
are numeric, so adding a cell's sums level by level is exact.
tests/registry/test_site_cells.py compares the kept cells with a fresh count per level.

Only the function bodies change (CREATE OR REPLACE); the triggers and the table stay.
"""

from importlib import import_module

from django.db import migrations

# 0017's statement, which the reverse puts back.
counted = import_module("portal.registry.migrations.0017_site_cells_counted")

FINEST = 15
CELL = "floor(d.{axis} / (90::float8 / power(2::float8, {zoom})))::integer"

SHIFT = f"power(2::float8, {FINEST} - z.zoom)"

# Adds the signed rows of `(%2$s)` (latitude, longitude, kind, participation, sign) to the
# cells of every level, in key order (two writers then lock shared cells in the same order):
# grouped once into the finest cells, whose sums are then added to each level's cell.
APPLY = f"""
INSERT INTO %1$I.registry_sitecell AS cell
    (zoom, cell_row, cell_column, kind, participation, sites, latitude_sum, longitude_sum)
SELECT z.zoom, floor(f.cell_row / {SHIFT})::integer, floor(f.cell_column / {SHIFT})::integer,
       f.kind, f.participation, sum(f.sites)::integer, sum(f.latitude_sum), sum(f.longitude_sum)
FROM (
    SELECT {CELL.format(axis="latitude", zoom=FINEST)} AS cell_row,
           {CELL.format(axis="longitude", zoom=FINEST)} AS cell_column,
           d.kind, d.participation, sum(d.sign) AS sites,
           sum(d.sign * d.latitude::numeric) AS latitude_sum,
           sum(d.sign * d.longitude::numeric) AS longitude_sum
    FROM (%2$s) AS d
    GROUP BY 1, 2, 3, 4
) AS f CROSS JOIN generate_series(0, {FINEST}) AS z(zoom)
GROUP BY 1, 2, 3, 4, 5
HAVING sum(f.sites) <> 0 OR sum(f.latitude_sum) <> 0 OR sum(f.longitude_sum) <> 0
ORDER BY 1, 2, 3, 4, 5
ON CONFLICT (zoom, cell_row, cell_column, kind, participation) DO UPDATE SET
    sites = cell.sites + excluded.sites,
    latitude_sum = cell.latitude_sum + excluded.latitude_sum,
    longitude_sum = cell.longitude_sum + excluded.longitude_sum
"""


def functions_sql(apply: str) -> str:
    """0017's two counting functions, adding to the cells with `apply`."""
    return f"""
CREATE OR REPLACE FUNCTION registry_site_cells_count() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    apply constant text := $apply${apply}$apply$;
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

CREATE OR REPLACE FUNCTION registry_participant_cells_count() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    apply constant text := $apply${apply}$apply$;
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
"""


class Migration(migrations.Migration):
    dependencies = [("registry", "0023_audit_actions_all_of_issue_12")]

    operations = [migrations.RunSQL(functions_sql(APPLY), functions_sql(counted.APPLY))]
