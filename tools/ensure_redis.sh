#!/usr/bin/env bash
# Make sure a redis-server binary is available for the shared-database tests
# (tests/test_databases.py starts its own throw-away servers; nothing is started here).
# Idempotent: does nothing when redis-server is already on PATH.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    SUDO=(sudo)
else
    SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends redis-server

if ! command -v redis-server >/dev/null 2>&1; then
    echo "ensure_redis: apt-get finished but redis-server is still not on PATH" >&2
    exit 1
fi
