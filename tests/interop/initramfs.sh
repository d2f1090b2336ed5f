#!/usr/bin/env bash
# initramfs.img against cpio and kmod: cpio lists and extracts it; /init is the static
# lethe-init; every module of the load list is in it, in dependency order by modinfo's
# depends=; the gzip header carries no time and no name; a second build is bit-identical
# (vmlinuz, initramfs.img, cmdline and disk.img).
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
need_cmd cpio gzip
modinfo=$(command -v modinfo || echo /usr/sbin/modinfo)
[ -x "$modinfo" ] || skip "'modinfo' (kmod) is not installed"

out=$(build_image_or_skip minimal)
img=$out/initramfs.img

# gzip: magic, no FNAME flag, MTIME 0.
[ "$(od -An -tx1 -N4 "$img" | tr -d ' ')" = "1f8b0800" ] || fail "not a gzip without a name"
[ "$(od -An -tu4 -j4 -N4 "$img" | tr -d ' ')" = 0 ] || fail "gzip header has a time"

gzip -dc "$img" | cpio -t --quiet >"$TMP/list" || fail "cpio cannot list initramfs.img"
for p in init etc/lethe/modules dev proc sys run newroot; do
	grep -qx "$p" "$TMP/list" || fail "initramfs.img has no '$p'"
done
LC_ALL=C sort -c "$TMP/list" || fail "entries are not sorted"

mkdir "$TMP/x"
(cd "$TMP/x" && gzip -dc "$img" | cpio -id --quiet) || fail "cpio cannot extract it"
cmp "$TMP/x/init" "$LETHE_INIT" || fail "/init is not lethe-init"
file -L "$TMP/x/init" | grep -qE 'static(-pie|ally) linked' || fail "/init is not static"
gzip -dc "$img" | cpio -tv --quiet | awk '$3 != "root" || $4 != "root" { bad = 1 } END { exit bad }' ||
	fail "an entry is not owned by root:root"

# The load list: absolute paths of files in the archive, each module after what it needs.
grep -v '^#' "$TMP/x/etc/lethe/modules" | grep . >"$TMP/mods"
[ -s "$TMP/mods" ] || fail "the module list is empty"
declare -A loaded=()
while read -r path; do
	f=$TMP/x$path
	[ -f "$f" ] || fail "listed module '$path' is not in the initramfs"
	name=$("$modinfo" -F name "$f") || fail "modinfo cannot read '$path'"
	IFS=, read -ra deps <<<"$("$modinfo" -F depends "$f")"
	for d in "${deps[@]}"; do
		[ -n "${loaded[${d//-/_}]:-}" ] || fail "'$name' is listed before its dependency '$d'"
	done
	loaded[${name//-/_}]=1
done <"$TMP/mods"
for m in virtio_ring virtio virtio_blk dm_mod dm_verity erofs overlay; do
	[ -n "${loaded[$m]:-}" ] || fail "module '$m' is not loaded"
done
note "${#loaded[@]} modules in dependency order"

# A second build from scratch: the same bytes.
"$LETHE" build --quiet "$LETHE_SRC/examples/minimal.yaml" -o "$TMP/again" \
	--key "$(test_key)" >/dev/null 2>"$TMP/build.err" || { cat "$TMP/build.err"; fail "second build failed"; }
for f in vmlinuz initramfs.img cmdline disk.img; do
	cmp "$out/$f" "$TMP/again/$f" || fail "$f differs between two builds"
done
echo "initramfs.img: $(wc -l <"$TMP/list") entries, ${#loaded[@]} modules, reproducible"
