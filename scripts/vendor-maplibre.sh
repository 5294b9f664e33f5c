#!/usr/bin/env bash
# Vendor MapLibre GL JS for the map page (airgrid/api/http/web/vendor/maplibre-gl/).
#
# Fetches the npm package with `npm pack` (no node_modules, no build), checks the tarball's
# SHA-256, and copies the browser bundle, its stylesheet and its licence next to the page.
# Users need neither npm nor a build step: the copied files are committed.
# Usage: scripts/vendor-maplibre.sh [version sha256]
set -euo pipefail

VERSION="${1:-5.24.1}"
SHA256="${2:-b84d7fdf7fba5922fd3fff9a92733936c7a03b99165afc6c84f41c311bdbfa9d}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/airgrid/api/http/web/vendor/maplibre-gl"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "maplibre-gl@$VERSION" >/dev/null
tarball="maplibre-gl-$VERSION.tgz"
echo "$SHA256  $tarball" | sha256sum --check --quiet
tar xzf "$tarball"

mkdir -p "$DEST"
cp package/dist/maplibre-gl.js package/dist/maplibre-gl.css package/LICENSE.txt "$DEST/"
cat > "$DEST/SOURCE.md" <<MD
# MapLibre GL JS, vendored

- package: \`maplibre-gl\` from the npm registry, version $VERSION
- tarball SHA-256: \`$SHA256\`
- licence: BSD-3-Clause (\`LICENSE.txt\`, copied from the package)
- files: \`dist/maplibre-gl.js\` (the UMD browser bundle, its worker inlined),
  \`dist/maplibre-gl.css\`, \`LICENSE.txt\`; unmodified
- reproduce: \`scripts/vendor-maplibre.sh $VERSION $SHA256\`
MD
echo "vendor-maplibre: maplibre-gl $VERSION copied to $DEST"
