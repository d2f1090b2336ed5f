#!/usr/bin/env bash
# bench/build.sh [BUILD_DIR]: `lethe build examples/minimal.yaml` with a warm package
# cache (per stage, from --json), and mmdebstrap with the same package list into a
# tarball (its own .deb cache warm too), in one run; prints the ratio. mmdebstrap runs
# --variant=extract: like Lethe it unpacks without running maintainer scripts
# (--variant=custom would need dpkg itself in the set, to run them in a chroot).
set -euo pipefail
build=$(cd "${1:-${LETHE_BUILD:-build}}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
LETHE=${LETHE:-$build/src/lethe/lethe}
export LETHE_INIT=${LETHE_INIT:-$build/src/init/lethe-init}
export LETHE_IMAGE_TOOL=${LETHE_IMAGE_TOOL:-$build/src/lethe/lethe-image}
spec=$src/examples/minimal.yaml
T=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-build.XXXXXX")
trap 'rm -rf "$T"' EXIT

now() { date +%s.%N; }
"$LETHE" keygen -W -p "$T/k.pub" -s "$T/k.key" >/dev/null

# Warm Lethe's cache (apt lists and .debs), then the measured builds: resolving with apt
# as a user would, and from the lock (--locked).
"$LETHE" build "$spec" -o "$T/warm" --key "$T/k.key" --quiet
# CPU time (user + system, children included) is the steadier figure on a shared machine.
cpu() { /usr/bin/time -f '%U %S' -o "$1" "${@:2}"; }
cpu "$T/lethe.cpu" "$LETHE" build "$spec" -o "$T/out" --key "$T/k.key" --quiet --json \
	>"$T/lethe.json"
cpu "$T/locked.cpu" "$LETHE" build "$spec" -o "$T/locked" --lock "$T/out/lethe.lock" \
	--key "$T/k.key" --quiet --json >"$T/locked.json"
pkgs=$(awk '$6 == "root" { print $1 }' "$T/out/lethe.lock" | paste -sd, -)

mm_wall=
if command -v mmdebstrap >/dev/null && [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$T/cache"
	mm() {
		cpu "$T/mm.cpu" mmdebstrap --quiet --variant=extract --include="$pkgs" --skip=essential/unlink \
			--setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
			--setup-hook="sync-in $T/cache /var/cache/apt/archives/" \
			--customize-hook="sync-out /var/cache/apt/archives $T/cache" \
			bookworm "$1" >/dev/null 2>"$T/mm.err"
	}
	if mm "$T/mm-warm.tar"; then
		t0=$(now)
		mm "$T/mm.tar"
		mm_wall=$(echo "$(now) - $t0" | bc)
	else
		echo "mmdebstrap failed: $(tail -1 "$T/mm.err")" >&2
	fi
else
	echo "mmdebstrap not run (not installed, or not root)" >&2
fi

python3 - "$T" "${mm_wall:-}" <<'PY'
import json, os, sys
t, mm_wall = sys.argv[1], sys.argv[2]
def cpu(name):
    try:
        return sum(float(x) for x in open(os.path.join(t, name)).read().split()[-2:])
    except (OSError, ValueError):
        return float("nan")
res = json.load(open(os.path.join(t, "lethe.json")))
locked = json.load(open(os.path.join(t, "locked.json")))
size = {a["name"]: a["size"] for a in res["artifacts"]}
print(f"lethe build examples/minimal.yaml (warm cache): {res['seconds']:.2f} s wall, "
      f"{cpu('lethe.cpu'):.2f} s CPU (--locked: {locked['seconds']:.2f} s wall, "
      f"{cpu('locked.cpu'):.2f} s CPU)")
root_only = ("resolve", "fetch", "extract", "tools", "elf")
print(f"  root tree only ({', '.join(root_only)}): "
      f"{sum(res['stage_seconds'].get(k, 0) for k in root_only):.2f} s wall")
print("  stage        resolving  --locked")
for name, sec in res["stage_seconds"].items():
    print(f"  {name:<11} {sec:8.2f} s {locked['stage_seconds'].get(name, 0):8.2f} s")
print(f"  packages {res['packages']} (+{res['kernel_packages']} kernel), dropped {len(res['dropped'])}; "
      f"{res['files']} files, {res['directories']} directories, {res['symlinks']} symlinks, "
      f"{res['content_bytes'] / 1e6:.1f} MB of file content")
print(f"  rootfs.erofs {size['rootfs.erofs'] / 1e6:.2f} MB, rootfs.verity "
      f"{size['rootfs.verity'] / 1e3:.1f} kB"
      + (f", disk.img {size['disk.img'] / 1e6:.1f} MB" if 'disk.img' in size else ""))
goal_t = "met" if res["seconds"] < 10 else "NOT met"
goal_s = "met" if size["rootfs.erofs"] < 15e6 else "NOT met"
print(f"  goals: total under 10 s {goal_t}; rootfs under 15 MB {goal_s}")
if mm_wall:
    tar = os.path.getsize(os.path.join(t, "mm.tar"))
    print(f"mmdebstrap --variant=extract, same {res['packages']} packages, warm .deb cache: "
          f"{float(mm_wall):.2f} s wall, {cpu('mm.cpu'):.2f} s CPU, tarball {tar / 1e6:.1f} MB")
    print(f"ratio mmdebstrap/lethe wall time: {float(mm_wall) / res['seconds']:.2f} "
          f"(--locked: {float(mm_wall) / locked['seconds']:.2f}); CPU time: "
          f"{cpu('mm.cpu') / cpu('lethe.cpu'):.2f}; "
          f"size tarball/rootfs.erofs: {tar / size['rootfs.erofs']:.2f}")
PY
