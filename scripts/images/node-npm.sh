#!/usr/bin/env bash
# Adds npm to conveyor/node (built by node.sh) as a layer of its own, so `npm ci` works in steps (docs/runs.md,
# "Networks"). npm comes from its registry tarball, which bundles its dependencies; Debian's npm package would
# bring a few hundred node-* packages. The version and its integrity are pinned here; the tarball is kept in the
# cache directory, so a rebuild needs no network. Usage: node-npm.sh TAG RECIPE_HASH
set -euo pipefail
tag="$1"; recipe="$2"
npm_version=10.9.9
npm_integrity='sha512-1g+6jLQvaIuB4zwvHL7yrXuXcWZwDsCtBX8bbWDqbvJSSr9nPiDDWTHNgwXR27iIcTTW7v3A57hDW9RYv2W4Yg=='
cache="${CONVEYOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/conveyor}/downloads"
tarball="$cache/npm-$npm_version.tgz"
integrity_of() { node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"; }
work=$(mktemp -d)
container=''
cleanup() {
  [ -z "$container" ] || docker rm -f "$container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$cache"
if [ ! -f "$tarball" ] || [ "$(integrity_of "$tarball")" != "$npm_integrity" ]; then
  # npm's own client fetches it (honouring the user's registry and proxy settings).
  (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null)
  got=$(integrity_of "$work/npm-$npm_version.tgz")
  if [ "$got" != "$npm_integrity" ]; then
    echo "npm-$npm_version.tgz has integrity $got, expected $npm_integrity; not using it" >&2
    exit 1
  fi
  mv "$work/npm-$npm_version.tgz" "$tarball"
fi
mkdir -p "$work/root/usr/lib/node_modules/npm" "$work/root/usr/bin"
tar -xzf "$tarball" -C "$work/root/usr/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/root/usr/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/root/usr/bin/npx"
container=$(docker create "$tag")
docker cp "$work/root/usr/." "$container:/usr/"
docker commit --change "LABEL conveyor.image.npm=$recipe" "$container" "$tag" >/dev/null
