# Shared by the Secure Boot tests (sb-*.sh, tests/vm/secure-boot.sh; not a test itself).
# sb_keys NAME: a key directory of lethe keygen --secure-boot, made once per build tree.
sb_keys() {
	local dir="$LETHE_BUILD/test-sb-keys/$1"
	mkdir -p "$LETHE_BUILD/test-sb-keys"
	(
		flock 9
		[ -f "$dir/db.auth" ] || "$LETHE" keygen --secure-boot "$dir" --name "Lethe test $1" >&2
	) 9>"$LETHE_BUILD/test-sb-keys/.lock"
	echo "$dir"
}

# sb_image NAME KEYDIR [BUILD ARGS...]: examples/minimal.yaml built with --sb-key KEYDIR
# into $LETHE_BUILD/test-images/NAME (rebuilt when lethe or the spec is newer), or skip
# when the apt repository cannot be reached.
sb_image() {
	local name=$1 keys=$2 out="$LETHE_BUILD/test-images/$1"
	shift 2
	mkdir -p "$LETHE_BUILD/test-images"
	(
		flock 9
		if image_stale "$out" "$LETHE_SRC/examples/minimal.yaml"; then
			rm -rf "$out"
			"$LETHE" build --quiet "$LETHE_SRC/examples/minimal.yaml" -o "$out" \
				--key "$(test_key)" --sb-key "$keys" "$@" >&2 2>"$TMP/sb-build.err" ||
				{ cat "$TMP/sb-build.err" >&2; exit 1; }
		fi
	) 9>"$LETHE_BUILD/test-images/.lock" || {
		grep -Eqi 'could not resolve|temporary failure|failed to fetch|unable to connect' \
			"$TMP/sb-build.err" 2>/dev/null && skip "the apt repository cannot be reached"
		fail "lethe build --sb-key failed"
	}
	echo "$out"
}

# esp_extract IMAGE PATH DEST: copy a file out of disk.img's ESP with mtools.
esp_extract() {
	local start
	start=$(sfdisk -d "$1" | sed -n 's/.*start= *\([0-9]*\),.*type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B.*/\1/p')
	[ -n "$start" ] || fail "'$1' has no ESP"
	MTOOLS_SKIP_CHECK=1 mcopy -n -i "$1@@$((start * 512))" "::/$2" "$3"
}

# sb_snakeoil_keys: a key directory whose db is Debian's snakeoil key (enrolled in
# OVMF_VARS_4M.snakeoil.fd), the key decrypted (passphrase snakeoil) for sbsign.
sb_snakeoil_keys() {
	local dir="$LETHE_BUILD/test-sb-keys/snakeoil"
	mkdir -p "$LETHE_BUILD/test-sb-keys"
	(
		flock 9
		if [ ! -f "$dir/db.key" ]; then
			mkdir -p "$dir.tmp"
			openssl rsa -in /usr/share/ovmf/PkKek-1-snakeoil.key -passin pass:snakeoil \
				-out "$dir.tmp/db.key" 2>/dev/null
			cp /usr/share/ovmf/PkKek-1-snakeoil.pem "$dir.tmp/db.crt"
			mv "$dir.tmp" "$dir"
		fi
	) 9>"$LETHE_BUILD/test-sb-keys/.lock"
	echo "$dir"
}

# esp_replace DIR PATH FILE: put FILE at PATH on the ESP of DIR/disk.img and make DIR's
# SHA256SUMS match again (a tampered medium: only the firmware can notice).
esp_replace() {
	local start
	start=$(sfdisk -d "$1/disk.img" | sed -n 's/.*start= *\([0-9]*\),.*type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B.*/\1/p')
	MTOOLS_SKIP_CHECK=1 mcopy -o -i "$1/disk.img@@$((start * 512))" "$3" "::/$2"
	(cd "$1" && sha256sum $(awk '{print $2}' SHA256SUMS) >SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS)
}
