"""The console serves htmx from its own static files (no CDN: the Content-Security-Policy
allows only our origin): the vendored copy is the version package.json pins through npm."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "portal" / "department" / "static" / "department" / "vendor" / "htmx.min.js"


def test_the_vendored_htmx_is_the_version_npm_locks():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/htmx.org"]["version"]
    vendored = re.search(r'version:"([0-9.]+)"', VENDORED.read_text()).group(1)
    assert vendored == locked
    installed = ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
    if installed.exists():
        assert installed.read_bytes() == VENDORED.read_bytes()
