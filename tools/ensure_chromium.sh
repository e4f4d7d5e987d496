#!/usr/bin/env bash
# Make sure headless Chromium is available for the browser rendering test.
exec bash "$(dirname "$0")/ensure_debian_packages.sh" /usr/bin/chromium chromium fonts-dejavu-core
