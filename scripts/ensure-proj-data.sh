#!/usr/bin/env bash
# Make sure the worldwide EGM96 grid (/usr/share/proj/egm96_15.gtx, Debian's proj-data) is present,
# for the geoid tests that check NGA's published test points outside the packaged Hunan clip.
# airgrid itself never needs it: airgrid/data/egm96_15_hunan.tif is what it reads. Installs Debian's
# proj-data with apt-get when missing (root or sudo). Idempotent; never fails the caller.
set -uo pipefail
GTX=/usr/share/proj/egm96_15.gtx
if [ -f "$GTX" ]; then
    echo "ensure-proj-data: $GTX present"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends proj-data >/dev/null 2>&1 \
        || { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 \
             && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends proj-data >/dev/null 2>&1; }
fi
if [ -f "$GTX" ]; then
    echo "ensure-proj-data: installed $GTX"
else
    echo "ensure-proj-data: $GTX not available; the worldwide geoid tests will be skipped" >&2
fi
exit 0
