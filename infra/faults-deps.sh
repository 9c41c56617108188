#!/usr/bin/env bash
# What the fault-injection suite (tests/faults, `pytest -m faults`) needs beyond Python and the
# embedded PostgreSQL: redis-server, which the suite starts, kills and starts again on a port of
# its own (tests/faults/harness.py: PrivateRedis). Idempotent; installs only what is missing,
# and only says what to do where it cannot install (not root, no apt-get).
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing redis-server (apt-get)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      redis-server >/dev/null
  else
    echo "The fault suite (tests/faults) needs redis-server: install it (Debian/Ubuntu:" \
      "apt-get install redis-server). Without it those tests fail." >&2
  fi
fi
