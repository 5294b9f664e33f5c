#!/usr/bin/env bash
# Make sure Debian's chromium is installed, for the map page's browser tests.
#
# tests/api/test_map_page.py drives /usr/bin/chromium headless through Playwright for
# Python (the `test` extra installs the driver, not a browser: Playwright's own browser
# download fails here). This script installs Debian's chromium package with apt-get when
# it is missing. It needs root (or sudo) only when it has something to install. Idempotent.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if have sudo; then SUDO="sudo"; fi
fi

if [ -x /usr/bin/chromium ]; then
    echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n 1) already available"
    exit 0
fi
if ! have apt-get; then
    echo "ensure-chromium: /usr/bin/chromium missing and apt-get unavailable; install chromium" >&2
    exit 1
fi
echo "ensure-chromium: installing Debian's chromium package"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
if [ -x /usr/bin/chromium ]; then
    echo "ensure-chromium: installed $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
else
    echo "ensure-chromium: installation finished but /usr/bin/chromium is still missing" >&2
    exit 1
fi
