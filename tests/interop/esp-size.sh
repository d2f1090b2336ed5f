#!/usr/bin/env bash
# An ESP too small for the UKI (issue 11, bad input): boot.esp_size below what
# systemd-boot, the stub and the kernel package's vmlinuz need is refused at the
# esp-check stage, right after the packages are fetched: no package is unpacked and no
# root is made, one line names the spec, the size and the need. A size that passes that
# floor but not the real need (the initramfs on top) is still refused at the ESP with
# the exact figure; a size that fits gives an ESP of exactly that size.
. "$LETHE_SRC/tests/lib.sh"
. "$LETHE_SRC/tests/interop/build-common.bash"
need_cmd sfdisk

ref=$(build_image_or_skip minimal)
key=$(test_key)
spec_with() { # spec_with MIB: examples/minimal.yaml with boot.esp_size MIB
	{ cat "$LETHE_SRC/examples/minimal.yaml"; printf '\nboot:\n  esp_size: %s\n' "$1"; } >"$TMP/esp-$1.yaml"
	echo "$TMP/esp-$1.yaml"
}
build() { # build MIB: exit status; stdout+stderr in $TMP/log
	local rc=0
	"$LETHE" build "$(spec_with "$1")" -o "$TMP/out-$1" --lock "$ref/lethe.lock" --key "$key" \
		>"$TMP/log" 2>&1 || rc=$?
	return $rc
}
# The minimal image's ESP, as built: the real need.
need=$(($(sfdisk -d "$ref/disk.img" | sed -n 's/.*disk.img3 : .*size= *\([0-9]*\),.*/\1/p') / 2048))
note "the minimal image's ESP: $need MiB"

# Far too small: refused after the fetch, before anything is unpacked.
rc=0
build 4 || rc=$?
cat "$TMP/log"
[ "$rc" -eq 3 ] || fail "esp_size 4: exit $rc, expected 3"
grep -q "spec '$TMP/esp-4.yaml': boot.esp_size 4 MiB cannot hold the ESP: systemd-boot (twice), the UKI's stub and vmlinuz-[^ ]* ([0-9]* KiB) alone need [0-9]* MiB" "$TMP/log" ||
	fail "esp_size 4: no clear message"
ran=$(sed -nE 's/^([a-z-]+) +[0-9.]+ s( .*)?$/\1/p' "$TMP/log" | tr '\n' ' ')
[ "$ran" = "resolve fetch " ] || fail "esp_size 4: the stages that ran were '$ran', not only resolve and fetch"
[ ! -e "$TMP/out-4" ] || fail "a refused build left its output directory"

# Short of the need by the initramfs: passes the floor, refused at the ESP, exactly.
short=$((need - 2))
rc=0
build "$short" || rc=$?
[ "$rc" -eq 3 ] || { cat "$TMP/log"; fail "esp_size $short: exit $rc, expected 3"; }
grep -q "boot.esp_size $short MiB is too small for the ESP: systemd-boot and the UKI need [0-9]* MiB" "$TMP/log" ||
	{ cat "$TMP/log"; fail "esp_size $short: no exact message at the ESP"; }

# Control: a size that fits is that size.
fits=$((need + 5))
build "$fits" || { cat "$TMP/log"; fail "esp_size $fits: the build failed"; }
got=$(($(sfdisk -d "$TMP/out-$fits/disk.img" | sed -n 's/.*disk.img3 : .*size= *\([0-9]*\),.*/\1/p') / 2048))
[ "$got" -eq "$fits" ] || fail "esp_size $fits gave an ESP of $got MiB"
echo "esp-size: $need MiB needed; 4 refused before unpacking, $short refused at the ESP, $fits built"
