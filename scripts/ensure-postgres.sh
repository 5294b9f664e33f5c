#!/usr/bin/env bash
# Make sure PostgreSQL server binaries (initdb, pg_ctl) are on the PATH, for the store tests.
#
# The store's PostgreSQL tests (tests/airspace/conftest.py) start a throwaway cluster with
# initdb/pg_ctl unless AIRGRID_TEST_PG_URL names a server. This script installs Debian's
# postgresql package with apt-get when the binaries are missing, and links them into
# /usr/local/bin (Debian keeps them in /usr/lib/postgresql/<version>/bin). It needs root
# (or sudo) only when it has something to install. Idempotent.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

link_debian_bins() {
    local bindir
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$bindir" ] || return 1
    for b in initdb pg_ctl postgres; do
        if ! have "$b" && [ -x "$bindir/$b" ]; then
            $SUDO ln -sf "$bindir/$b" "/usr/local/bin/$b"
        fi
    done
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if have sudo; then SUDO="sudo"; fi
fi

if have initdb && have pg_ctl; then
    echo "ensure-postgres: $(initdb --version) already available"
    exit 0
fi

link_debian_bins || true
if have initdb && have pg_ctl; then
    echo "ensure-postgres: linked $(initdb --version) into /usr/local/bin"
    exit 0
fi

if ! have apt-get; then
    echo "ensure-postgres: initdb/pg_ctl missing and apt-get unavailable; install PostgreSQL or set AIRGRID_TEST_PG_URL" >&2
    exit 1
fi
echo "ensure-postgres: installing Debian's postgresql package"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
# Debian's package creates and starts a default cluster; the tests use their own, so stop it.
if have pg_ctlcluster; then
    for c in $(pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}'); do
        $SUDO pg_ctlcluster "${c%/*}" "${c#*/}" stop 2>/dev/null || true
    done
fi
link_debian_bins
if have initdb && have pg_ctl; then
    echo "ensure-postgres: installed $(initdb --version)"
else
    echo "ensure-postgres: installation finished but initdb/pg_ctl are still missing" >&2
    exit 1
fi
