#!/bin/sh
# The deployment's migration job: run once per release, before the new web and worker
# processes start, with the owner's login (DATABASE_OWNER_URL) and the release's environment.
# platform_setup migrates the public schema and the department template, then the departments
# in parallel (MIGRATION_PROCESSES processes, by default one per core; 1 migrates them one by
# one). See docs/operations.md, "Releasing".
set -eu
cd "$(dirname "$0")/.."
pybabel compile --domain django --directory portal/locale
python manage.py collectstatic --noinput
python manage.py platform_setup
