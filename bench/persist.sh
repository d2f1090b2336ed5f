#!/usr/bin/env bash
# Unlocking the persistent store: the Argon2id KDF of a keyslot at 256 MiB, 4 iterations,
# 1 thread (docs/persistence.md), opened without device-mapper (test-passphrase does
# the whole keyslot open: Argon2id, keyslot decryption, AF merge, digest check).
#   guest  `lethe-persist persist test-passphrase` in a 1 GiB QEMU TCG guest (the image
#          of tests/vm/persistence.sh), timed by busybox time -v: wall time, peak RSS
#   host   `lethe persist test-passphrase` and `cryptsetup open --test-passphrase` on
#          the same store, by /usr/bin/time: wall time, peak RSS
# Prints the ratios guest/host and lethe/cryptsetup (on the host). TCG is an emulator:
# compare ratios of one run, not absolute times. Usage: bench/persist.sh [BUILD_DIR]
set -euo pipefail
export LETHE_BUILD=${LETHE_BUILD:-$(cd "${1:-build}" && pwd)}
export LETHE_SRC=${LETHE_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
export LETHE=${LETHE:-$LETHE_BUILD/src/lethe/lethe} LETHE_INIT=${LETHE_INIT:-$LETHE_BUILD/src/init/lethe-init}
for c in cryptsetup qemu-system-x86_64 sfdisk /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "persist bench: '$c' missing, skipped" >&2; exit 0; }
done
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/vm/init-vm.bash"
spec=$LETHE_SRC/tests/vm/persistence.yaml
img=$LETHE_BUILD/test-images/persistence
if [ ! -f "$img/SHA256SUMS" ]; then
	echo "persist: building $spec"
	"$LETHE" build --quiet "$spec" -o "$img" --key "$(test_key)" >/dev/null
fi

# The store, at the default cost, for a 1 GiB image.
sed -e 's/kdf: {memory: 32m, iterations: 4, parallel: 1}/kdf: {memory: 256m, iterations: 4, parallel: 1}/' \
	-e '$a memory: 1g' "$spec" >"$TMP/spec.yaml"
head -c 24 /dev/urandom | od -An -tx1 -v | tr -d ' \n' >"$TMP/pw"
sectors=196608
truncate -s $((sectors * 512)) "$TMP/part.img"
"$LETHE" persist init "$TMP/part.img" --spec "$TMP/spec.yaml" --yes --passphrase-file "$TMP/pw" >/dev/null
truncate -s $(((sectors + 4096) * 512)) "$TMP/store.disk"
printf 'label: gpt\nstart=2048, size=%d, name=lethe-store\n' $sectors | sfdisk -q "$TMP/store.disk"
dd if="$TMP/part.img" of="$TMP/store.disk" bs=512 seek=2048 conv=notrunc status=none
cryptsetup luksDump "$TMP/part.img" | grep -E 'PBKDF|Time cost|Memory|Threads' | sed 's/^/persist: keyslot /'

host() { # host NAME CMD...: wall seconds and peak RSS (KiB) of the best of 3
	local best_w=999999 best_m=0 w m
	for _ in 1 2 3; do
		/usr/bin/time -f '%e %M' -o "$TMP/t" "$@" >/dev/null 2>&1 || { echo "persist: $1 failed" >&2; exit 1; }
		read -r w m <"$TMP/t"
		if awk -v a="$w" -v b="$best_w" 'BEGIN { exit !(a < b) }'; then best_w=$w best_m=$m; fi
	done
	echo "$best_w $best_m"
}
read -r cs_w cs_m < <(host cryptsetup open --test-passphrase --key-file "$TMP/pw" "$TMP/part.img")
read -r le_w le_m < <(host "$LETHE" persist test-passphrase "$TMP/part.img" --passphrase-file "$TMP/pw")

VM_MEM=1024 vm_start "$img" "$img/disk.img" "$(cat "$img/cmdline")" -drive "file=$TMP/store.disk,if=virtio,format=raw"
vm_wait "lethe-init: stage 2 ready" 400
sleep 1
vm_send "dmesg -n 1; printf '%s' '$(cat "$TMP/pw")' >/tmp/pw"
g_w= g_m=
for i in 1 2; do
	vm_send "time -v /usr/lib/lethe/lethe-persist persist test-passphrase /dev/vdb1 --passphrase-file /tmp/pw 2>&1 | grep -E 'Elapsed|Maximum resident' | tr '\\n' ' ' && echo RUN-\$((40+$i))"
	vm_wait "RUN-$((40 + i))" 600
done
vm_send "lethe poweroff"
sleep 3
vm_kill
# busybox time -v: "Elapsed (wall clock) time (h:mm:ss or m:ss): 0m 14.52s ... Maximum resident set size (kbytes): 263000"
read -r g_w g_m < <(tr -d '\r' <"$TMP/serial.log" | grep -E 'RUN-4[12]' |
	/usr/bin/python3 -c '
import re, sys
best = None
for line in sys.stdin:
    t = re.search(r"Elapsed.*?\):\s*(?:(\d+)m\s*)?([\d.]+)s", line)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", line)
    if not t or not m:
        continue
    w = int(t.group(1) or 0) * 60 + float(t.group(2))
    if best is None or w < best[0]:
        # busybox 1.35 time -v takes ru_maxrss (KiB) for pages: 4 times too large.
        best = (w, int(m.group(1)) // 4)
print(*(best or ("?", "?")))')
echo "persist: host  cryptsetup open --test-passphrase: ${cs_w} s, peak ${cs_m} KiB"
echo "persist: host  lethe persist test-passphrase:     ${le_w} s, peak ${le_m} KiB"
echo "persist: guest lethe-persist (1 GiB, TCG):         ${g_w} s, peak ${g_m} KiB"
awk -v a="$le_w" -v b="$cs_w" -v g="$g_w" -v gm="$g_m" -v cm="$cs_m" 'BEGIN {
	printf "persist: ratio lethe/cryptsetup on the host: %.2f (time)\n", a / b
	if (g != "?") printf "persist: ratio guest/host cryptsetup: %.1f (time), %.2f (peak memory)\n", g / b, gm / cm }'
