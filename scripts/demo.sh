#!/usr/bin/env bash
# make demo: build the default image, check the signed release the way a user would,
# then boot it under QEMU (TCG) and show from inside that its root is the dm-verity
# device, read-only EROFS, and that writes land in RAM; the guest then powers off.
# While the image cannot give a console shell, the demo checks its verity tree and
# signature from the outside instead.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$src/$build ;; esac
lethe=$build/src/lethe/lethe
out=$build/demo
keys=$build/demo-key
[ -x "$lethe" ] || { echo "demo: no '$lethe'; run 'make build' first" >&2; exit 2; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "a signing key for the demo (never use it for a release)"
mkdir -p "$keys"
[ -f "$keys/demo.key" ] || run "$lethe" keygen -W -p "$keys/demo.pub" -s "$keys/demo.key"

step "build examples/minimal.yaml"
run "$lethe" build "$src/examples/minimal.yaml" -o "$out" --key "$keys/demo.key"
run ls -l "$out"
rh=$(cat "$out/roothash")

step "check the release: signature, every file, every block of the root against its root hash"
run "$lethe" verify "$out" -p "$keys/demo.pub" --quiet
echo "release verified"
run cat "$out/cmdline"

if command -v systemd-dissect >/dev/null && [ "$(id -u)" -eq 0 ]; then
	step "systemd-dissect finds the root and its verity partition by the root hash"
	run systemd-dissect --root-hash="$rh" "$out/disk.img" | tail -n 3
fi

if grep -Eq '^\./bin/(sh|busybox) ' "$out/manifest.mtree" && command -v qemu-system-x86_64 >/dev/null; then
	step "boot it (QEMU, TCG) and look from inside"
	guest='echo "root device: /dev/dm-0 = $(cat /sys/block/dm-0/dm/name)";
grep -E " / | /run/lethe/" /proc/mounts;
grep -o "lethe.roothash=[0-9a-f]*" /proc/cmdline;
ls /sys/firmware/efi >/dev/null 2>&1 && echo "booted through UEFI firmware, systemd-boot and the UKI";
echo demo >/etc/written-in-this-session && echo "wrote /etc/written-in-this-session; it is in the RAM layer:";
ls -l /run/lethe/overlay/upper/etc/written-in-this-session;
touch /run/lethe/ro/x 2>/dev/null || echo "the verified root itself refuses writes (read-only)"'
	run "$lethe" run "$out" -p "$keys/demo.pub" --quiet --timeout 600 --exec "$(echo "$guest" | tr '\n' ' ')"
	echo "(the guest powered off; nothing it wrote exists anywhere now)"
else
	step "no console shell in this image: check the verity tree from the outside instead"
	run "$lethe" verity format "$out/rootfs.erofs" "$build/demo-tree.verity" \
		--salt-from "$(sha256sum "$out/rootfs.erofs" | cut -d' ' -f1)" --quiet \
		--root-hash-file "$build/demo-roothash"
	[ "$(tr -d '\n' <"$build/demo-roothash")" = "$rh" ] || { echo "demo: root hash differs" >&2; exit 1; }
	echo "recomputed root hash = the signed one: $rh"
	run "$lethe" verity verify "$out/rootfs.erofs" "$out/rootfs.verity" "$rh"
	run "$lethe" sign -q -s "$keys/demo.key" "$out/roothash" -x "$build/demo-roothash.minisig"
	run "$lethe" verify -p "$keys/demo.pub" -x "$build/demo-roothash.minisig" "$out/roothash"
fi
step "done"
