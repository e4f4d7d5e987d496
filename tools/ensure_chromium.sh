#!/usr/bin/env bash
# Make sure headless Chromium is available for the browser rendering test.
# Idempotent: does nothing when /usr/bin/chromium already exists.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    SUDO=(sudo)
else
    SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends chromium fonts-dejavu-core

if [[ ! -x /usr/bin/chromium ]]; then
    echo "ensure_chromium: apt-get finished but /usr/bin/chromium is still missing" >&2
    exit 1
fi
