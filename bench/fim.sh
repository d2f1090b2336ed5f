#!/usr/bin/env bash
# File integrity: `lethe fim init` (a baseline) and `lethe fim check` (of the unchanged
# tree) against AIDE 0.18 (--init, --check; the same attributes, SHA-256 only, its
# config written here) and `mtree -c -K sha256digest` / `mtree -f`, on the same tree
# with a warm page cache; and against the machine's SHA-256 floor: the bytes hashed
# divided by `openssl speed -evp sha256` at 16 KiB times the cores. Prints elapsed and
# CPU time, peak RSS (/usr/bin/time %M) and the ratios (> 1: lethe is faster).
# FIM_TREE (default /usr) is the tree; a small one (FIM_TREE=/usr/share/doc) for quick
# runs. FIM_PEERS=0 runs lethe and the floor only.
# Usage: bench/fim.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: bench/fim.sh BUILD_DIR}
tree=${FIM_TREE:-/usr}
peers=${FIM_PEERS:-1}
lethe=$(realpath "$build/src/lethe/lethe")
for c in /usr/bin/time openssl; do
	command -v "$c" >/dev/null || { echo "fim.sh: '$c' is not installed" >&2; exit 77; }
done
if [ "$peers" = 1 ]; then
	for c in aide mtree; do
		command -v "$c" >/dev/null || { echo "fim.sh: '$c' is not installed" >&2; exit 77; }
	done
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench-fim.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cores=$(nproc)

run() { # NAME CMD...: "NAME ELAPSED CPU RSS_KIB" into results; the command may exit 1
	local name=$1 e u s m rc=0
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$dir/t.out" "$@" >"$dir/$name.out" 2>"$dir/$name.err" || rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "failed ($rc): $*" >&2
		tail -5 "$dir/$name.err" >&2
		exit 1
	fi
	read -r e u s m <"$dir/t.out"
	echo "$name $e $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }') $m" >>"$dir/results"
}
: >"$dir/results"

# The rules: every attribute but mtime (lethe's default), nothing excluded.
printf 'attrs / default\n' >"$dir/lethe.rules"
# AIDE: the same attributes (type, permissions, owner, group, size, link count, link
# target) and SHA-256 only, on all cores (num_workers, AIDE 0.18).
cat >"$dir/aide.conf" <<EOF
database_in=file:$dir/aide.db
database_out=file:$dir/aide.db.new
database_new=file:$dir/aide.db.new
gzip_dbout=no
report_url=file:$dir/aide.report
num_workers=$cores
LETHE = ftype+p+u+g+s+n+l+sha256
$tree LETHE
EOF

echo "tree $tree, $cores cores; warming the page cache"
"$lethe" fim init "$tree" -o "$dir/warm.mtree" --rules "$dir/lethe.rules" -q 2>/dev/null || true
bytes=$(find "$tree" -xdev -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }')
files=$(find "$tree" -xdev -type f 2>/dev/null | wc -l)

run lethe-init "$lethe" fim init "$tree" -o "$dir/lethe.mtree" --rules "$dir/lethe.rules" -q
run lethe-check "$lethe" fim check "$dir/lethe.mtree" "$tree" --rules "$dir/lethe.rules" -q
if [ "$peers" = 1 ]; then
	run aide-init aide --init --config="$dir/aide.conf"
	mv "$dir/aide.db.new" "$dir/aide.db"
	run aide-check aide --check --config="$dir/aide.conf"
	run mtree-init sh -c "mtree -c -K sha256digest -p '$tree' >'$dir/netbsd.mtree'"
	run mtree-check mtree -f "$dir/netbsd.mtree" -p "$tree"
fi

# openssl speed: "sha256  ...  K/s at 16384 bytes" (the last column, in 1000s of bytes/s)
rate_k=$(openssl speed -seconds 2 -bytes 16384 -evp sha256 2>/dev/null | awk '/^sha256/ { v = $NF } END { sub(/k$/, "", v); print v }')
floor=$(awk -v b="$bytes" -v r="$rate_k" -v c="$cores" 'BEGIN { printf "%.2f", b / (r * 1000 * c) }')
# On a loaded machine elapsed time says more about the others; CPU time against the
# one-core floor (bytes / rate) says what the hashing itself costs.
cpu_floor=$(awk -v b="$bytes" -v r="$rate_k" 'BEGIN { printf "%.2f", b / (r * 1000) }')

echo
printf '%-12s %10s %10s %12s\n' what elapsed_s cpu_s peak_rss_MiB
while read -r name e c m; do
	printf '%-12s %10s %10s %12.1f\n' "$name" "$e" "$c" "$(awk -v m="$m" 'BEGIN { print m / 1024 }')"
done <"$dir/results"
gb=$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1e9 }')
echo "bytes hashed $gb GB in $files files; openssl sha256 ${rate_k}k B/s a core; floor ${floor} s"
t() { awk -v n="$1" '$1 == n { print $2 }' "$dir/results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
c() { awk -v n="$1" '$1 == n { print $3 }' "$dir/results"; }
echo "init:  lethe / floor $(ratio "$(t lethe-init)" "$floor")x elapsed (goal <= 1.5), $(ratio "$(c lethe-init)" "$cpu_floor")x in CPU time (floor ${cpu_floor} s of one core)"
echo "check: lethe / floor $(ratio "$(t lethe-check)" "$floor")x elapsed (goal <= 1.5), $(ratio "$(c lethe-check)" "$cpu_floor")x in CPU time"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $cores cores"
if [ "$peers" = 1 ]; then
	echo "init:  aide / lethe $(ratio "$(t aide-init)" "$(t lethe-init)")x elapsed (goal >= 10), $(ratio "$(c aide-init)" "$(c lethe-init)")x CPU; mtree / lethe $(ratio "$(t mtree-init)" "$(t lethe-init)")x elapsed, $(ratio "$(c mtree-init)" "$(c lethe-init)")x CPU"
	echo "check: aide / lethe $(ratio "$(t aide-check)" "$(t lethe-check)")x elapsed (goal >= 10), $(ratio "$(c aide-check)" "$(c lethe-check)")x CPU; mtree / lethe $(ratio "$(t mtree-check)" "$(t lethe-check)")x elapsed, $(ratio "$(c mtree-check)" "$(c lethe-check)")x CPU"
fi
