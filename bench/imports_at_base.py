"""Issue 14's base's own bench/imports.py, for bench/against_base.py, with its database made as
the base's other benches make theirs (tenants.database.throwaway_database: created by the owner,
migrated by platform_setup). The base's bench made it through Django's test runner, which
neither creates a department's template schema nor may create a database as the application's
role on the embedded server. Run inside a worktree of the base; arguments are the bench's."""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")


def main() -> None:
    import django

    django.setup()
    import django.test.utils as test_utils

    from tenants.database import throwaway_database

    def setup_databases(**_options: object) -> object:
        database = throwaway_database()
        database.__enter__()
        return database

    def teardown_databases(database: object, **_options: object) -> None:
        database.__exit__(None, None, None)  # type: ignore[attr-defined]

    test_utils.setup_databases = setup_databases  # type: ignore[assignment]
    test_utils.teardown_databases = teardown_databases  # type: ignore[assignment]
    sys.argv = [str(ROOT / "bench" / "imports.py"), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
