#!/usr/bin/env bash
# Builds conveyor/node: Debian bookworm (minbase debootstrap from Debian's package archive) with a shell, coreutils,
# and Node.js, packed with `docker import`. Usage: node.sh TAG RECIPE_HASH
set -euo pipefail
tag="$1"; recipe="$2"
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase --include=nodejs bookworm "$work/rootfs" "$mirror"
chroot "$work/rootfs" /bin/sh -c 'groupadd -g 1000 conveyor && useradd -m -u 1000 -g 1000 -s /bin/bash conveyor'
mkdir -p "$work/rootfs/workspace"
chown 1000:1000 "$work/rootfs/workspace"
rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/usr/share/doc/* \
  "$work/rootfs"/usr/share/man/*
tar -C "$work/rootfs" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'WORKDIR /workspace' \
  --change 'CMD ["/bin/bash"]' \
  --change "LABEL conveyor.image.recipe=$recipe" \
  - "$tag" >/dev/null
