#!/usr/bin/env bash
# Usage: ensure_debian_packages.sh COMMAND PACKAGE...
# Install Debian PACKAGEs with apt-get unless COMMAND is already on PATH (or is an
# executable path). Idempotent; uses sudo when not root. Fails if COMMAND is still
# missing afterwards.
set -euo pipefail

command_name=$1
shift

if command -v "$command_name" >/dev/null 2>&1; then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    SUDO=(sudo)
else
    SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "$@"

if ! command -v "$command_name" >/dev/null 2>&1; then
    echo "ensure_debian_packages: apt-get installed $* but $command_name is still missing" >&2
    exit 1
fi
