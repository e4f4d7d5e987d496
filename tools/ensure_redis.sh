#!/usr/bin/env bash
# Make sure a redis-server binary is available for the shared-database tests
# (tests/test_databases.py starts its own throw-away servers; nothing is started here).
exec bash "$(dirname "$0")/ensure_debian_packages.sh" redis-server redis-server
