#!/usr/bin/env bash
# Builds conveyor/busybox: a tiny shell image from Debian's statically linked busybox, packed with `docker import`
# (no registry needed). Usage: busybox.sh TAG RECIPE_HASH
set -euo pipefail
tag="$1"; recipe="$2"
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static file >/dev/null
  busybox=/bin/busybox
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,etc,tmp,workspace,home/conveyor,root}
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nconveyor:x:1000:1000:conveyor:/home/conveyor:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nconveyor:x:1000:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
chown 1000:1000 "$rootfs/workspace" "$rootfs/home/conveyor"
tar -C "$rootfs" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/bin' \
  --change 'WORKDIR /workspace' \
  --change 'CMD ["/bin/sh"]' \
  --change "LABEL conveyor.image.recipe=$recipe" \
  - "$tag" >/dev/null
