#!/usr/bin/env bash
# On the booted default and privacy images, every applicable audit check passes;
# lethe-init ran the audit at boot and kept its JSON in /run/lethe/audit.json. Booted
# with 'init-on-free=0' appended (issue 10.6), the word init_on_free=1 is still on the
# cmdline but no longer in force: kernel.cmdline fails, and the kernel's own report
# (heap free:off) says so too.
. "$LETHE_SRC/tests/lib.sh"
need_cmd qemu-system-x86_64 python3
python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"

for spec in minimal privacy; do
	img=$(image_dir "$spec")
	# Services log to the same console, so every line of the report is written whole and
	# tagged, and only tagged lines are read back.
	"$LETHE" run "$img" --direct --timeout 300 \
		--exec 'lethe audit --json --no-color >/tmp/a.json; echo "RC $?"; while IFS= read -r l; do echo "J $l"; done </tmp/a.json; echo "BOOT-AUDIT $(wc -c </run/lethe/audit.json)"' \
		>"$TMP/out" 2>"$TMP/console" || { tail -n 40 "$TMP/console"; fail "lethe run failed"; }
	tr -d '\r' <"$TMP/out" >"$TMP/lines"
	grep -q '^BOOT-AUDIT [1-9]' "$TMP/lines" || { tail -n 40 "$TMP/console"; fail "no /run/lethe/audit.json from boot"; }
	rc=$(sed -n 's/^RC //p' "$TMP/lines")
	sed -n 's/^J //p' "$TMP/lines" >"$TMP/audit.json"

	python3 - "$LETHE_SRC/docs/schemas/audit.schema.json" "$TMP/audit.json" <<-'PY' || fail "audit on the booted $spec image did not pass"
	import json, sys
	import jsonschema
	report = json.load(open(sys.argv[2]))
	jsonschema.validate(report, json.load(open(sys.argv[1])))
	bad = [c for c in report["checks"] if c["verdict"] == "fail"]
	for c in report["checks"]:
	    print(f'{c["verdict"]:15} {c["id"]:22} {c["evidence"]}')
	assert report["lethe_system"], "the booted image does not count as a Lethe system"
	assert not bad, "failed: " + "; ".join(c["id"] + ": " + c["evidence"] for c in bad)
	na = {c["id"] for c in report["checks"] if c["verdict"] == "not-applicable"}
	# Direct kernel boot under QEMU has no UEFI and no TPM; these specs declare no
	# session: section (tests/vm/session.sh boots one that does); everything else applies.
	# lethe run gives the guest no network card (-nic none): network.mac has none to check;
	# network.none applies to air-gapped specs only (tests/vm/airgap.sh).
	assert na <= {"boot.secure-boot", "boot.measured", "session.unprivileged", "network.mac",
	        "network.none"}, na
	PY
	[ "$rc" -eq 0 ] || fail "lethe audit exited $rc inside the image"
	# The boot's own audit summary reached the console.
	grep -q 'audit: ' "$TMP/console" || fail "lethe-init printed no audit summary on the console"
	echo "audit: every applicable check passes on the $spec image"
done

img=$(image_dir minimal)
"$LETHE" run "$img" --direct --timeout 300 --append init-on-free=0 \
	--exec 'lethe audit --json --no-color --only kernel.cmdline >/tmp/a.json; echo "RC $?"; while IFS= read -r l; do echo "J $l"; done </tmp/a.json' \
	>"$TMP/out" 2>"$TMP/console" || { tail -n 40 "$TMP/console"; fail "lethe run --append failed"; }
tr -d '\r' <"$TMP/out" >"$TMP/lines"
[ "$(sed -n 's/^RC //p' "$TMP/lines")" = 1 ] || { cat "$TMP/lines"; fail "the audit passed with init-on-free=0 appended"; }
sed -n 's/^J //p' "$TMP/lines" >"$TMP/audit.json"
grep -q "'init-on-free=0' undoes init_on_free=1" "$TMP/audit.json" ||
	{ cat "$TMP/audit.json"; fail "kernel.cmdline does not name the word that undoes init_on_free"; }
grep -q 'heap free:off' "$TMP/audit.json" ||
	{ cat "$TMP/audit.json"; fail "kernel.cmdline does not report the kernel's heap free:off"; }
echo "audit: an appended init-on-free=0 fails kernel.cmdline, cmdline and kernel report alike"
