#!/usr/bin/env bash
# What the browser tests need beyond Python: Chromium (Debian's package; Playwright's own
# browser download is not used) and axe-core from npm. Idempotent; installs only what is
# missing, and only says what to do where it cannot install (not root, no apt-get, no npm).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Chromium (apt-get)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Browser tests need Chromium: install it (Debian/Ubuntu: apt-get install chromium;" \
      "elsewhere set CHROMIUM=/path/to/chromium). Without it they are skipped." >&2
  fi
fi

if [ ! -f node_modules/axe-core/axe.min.js ]; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    echo "Browser tests need axe-core from npm: install Node.js and npm. Without it they are" \
      "skipped." >&2
  fi
fi
