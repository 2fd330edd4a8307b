#!/usr/bin/env bash
# Builds conveyor/nginx: Debian bookworm (minbase debootstrap from Debian's package archive) with Debian's nginx and
# Node.js, packed with `docker import`. nginx carries the traffic; Node.js runs Conveyor's router agent beside it
# (renders and checks the configuration, reloads nginx, serves per-version metrics from the access log; see
# docs/deployments.md). Usage: nginx.sh TAG RECIPE_HASH
set -euo pipefail
tag="$1"; recipe="$2"
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase --include=nginx,nodejs bookworm "$work/rootfs" "$mirror"
# The packaged site and its default server would listen on :80; Conveyor writes the whole configuration itself.
rm -rf "$work/rootfs"/etc/nginx/sites-enabled/* "$work/rootfs"/etc/nginx/conf.d/*
mkdir -p "$work/rootfs"/var/lib/conveyor-router
rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/usr/share/doc/* \
  "$work/rootfs"/usr/share/man/*
tar -C "$work/rootfs" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/usr/sbin/nginx", "-g", "daemon off;"]' \
  --change "LABEL conveyor.image.recipe=$recipe" \
  - "$tag" >/dev/null
