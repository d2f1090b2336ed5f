#!/usr/bin/env bash
# lethe verity against veritysetup: for each geometry, the same root hash and the same
# hash file bytes, and each tool verifies what the other made; also the appended
# (--hash-offset) and header-less layouts, and the documented --salt-from derivation.
. "$LETHE_SRC/tests/lib.sh"
need_cmd veritysetup cmp sha256sum

UUID=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9
cd "$TMP"

# mkdata FILE BYTES: pseudo-random content, different for every file. Also removes the
# hash files: veritysetup leaves the tail of an existing, longer file in place.
mkdata() {
	rm -f l.hash v.hash l.root v.root
	head -c "$2" /dev/urandom >"$1"
}

# same DATA_BYTES DBS HBS HASH SALT [THREADS]: format with both tools, compare, cross-verify.
same() {
	local bytes=$1 dbs=$2 hbs=$3 hash=$4 salt=$5 threads=${6:-0} lroot vroot
	local what="$bytes bytes, blocks $dbs/$hbs, $hash, salt ${salt:0:12}, threads $threads"
	local opts=(--data-block-size "$dbs" --hash-block-size "$hbs" --hash "$hash"
		--salt "$salt" --uuid "$UUID")
	mkdata data "$bytes"
	"$LETHE" verity format data l.hash "${opts[@]}" --threads "$threads" \
		--root-hash-file l.root >l.out || fail "lethe format ($what)"
	veritysetup format data v.hash "${opts[@]}" --root-hash-file v.root >/dev/null ||
		fail "veritysetup format ($what)"
	lroot=$(cat l.root)
	vroot=$(cat v.root)
	[ "$lroot" = "$vroot" ] || fail "root hash differs ($what): lethe $lroot, veritysetup $vroot"
	grep -q "^Root hash:[[:space:]]*$vroot\$" l.out || fail "no 'Root hash:' line ($what)"
	cmp l.hash v.hash || fail "hash files differ ($what)"
	veritysetup verify data l.hash "$lroot" || fail "veritysetup rejects lethe's tree ($what)"
	expect_ok "$LETHE" verity verify data v.hash "$vroot"
	note "same: $what: $lroot"
}

SALT_HEX=00112233445566778899aabbccddeeff
SALT_256=$(head -c 256 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
[ ${#SALT_256} -eq 512 ] || fail "cannot make a 256-byte salt"

same 4096 4096 4096 sha256 -                   # one data block: root = its hash
same 8192 4096 4096 sha256 -
same $((129 * 4096)) 4096 4096 sha256 "$SALT_HEX" 2  # just over one hash block
same $((1000 * 512)) 512 512 sha256 "$SALT_HEX" 3    # 16 hashes per block: 3 levels
same $((4097 * 512)) 512 512 sha256 "$SALT_256" 4    # 4 levels, 256-byte salt
same $((40 * 65536)) 65536 4096 sha256 "$SALT_256" 2
same $((33 * 65536)) 65536 65536 sha256 "$SALT_HEX"
same $((300 * 4096)) 4096 4096 sha512 "$SALT_HEX" 2
same $((700 * 1024)) 1024 512 sha512 -               # 8 hashes per block: 4 levels
same $((3000 * 4096)) 4096 4096 sha256 "$SALT_HEX" 1
same $((3000 * 4096)) 4096 4096 sha256 "$SALT_HEX" 4

# --salt-from SEED is SHA-256("lethe-verity-salt-v1" NUL SEED), as docs/formats.md says.
mkdata data $((64 * 4096))
derived=$(printf 'lethe-verity-salt-v1\0%s' "rootfs 2026" | sha256sum | cut -d' ' -f1)
"$LETHE" verity format data l.hash --salt-from "rootfs 2026" --uuid "$UUID" \
	--root-hash-file l.root >/dev/null || fail "lethe format --salt-from"
veritysetup format data v.hash --salt "$derived" --uuid "$UUID" --root-hash-file v.root \
	>/dev/null || fail "veritysetup format with the derived salt"
cmp l.root v.root || fail "--salt-from does not derive the documented salt"
cmp l.hash v.hash || fail "--salt-from: hash files differ"
"$LETHE" verity dump l.hash | grep -q "^Salt:[[:space:]]*$derived\$" || fail "dump shows another salt"

# Without a UUID, lethe derives one from the root hash: two runs give the same bytes.
"$LETHE" verity format data a.hash -q
"$LETHE" verity format data b.hash -q --threads 1
cmp a.hash b.hash || fail "format is not reproducible without --uuid"
# ... namely SHA-256("lethe-verity-uuid-v1" NUL ROOT), version 4 and variant bits set.
"$LETHE" verity format data a.hash -q --root-hash-file a.root
u=$( (printf 'lethe-verity-uuid-v1\0'; printf "$(sed 's/../\\x&/g' a.root)") | sha256sum)
u=${u:0:12}4${u:13:3}$(printf '%x' $((0x${u:16:1} & 3 | 8)))${u:17:15}
u=${u:0:8}-${u:8:4}-${u:12:4}-${u:16:4}-${u:20:12}
"$LETHE" verity dump a.hash | grep -q "^UUID:[[:space:]]*$u\$" ||
	fail "UUID is not the documented derivation $u: $("$LETHE" verity dump a.hash | grep UUID)"

# --json carries the same root hash and geometry.
"$LETHE" verity format data j.hash --json >j.out
grep -q "\"root_hash\": \"$(cat a.root)\"" j.out || fail "format --json: no or another root hash"
grep -q '"data_blocks": 64,' j.out || fail "format --json: data_blocks"

# A size that is not a multiple of the block size: veritysetup drops the partial last
# block silently; lethe refuses unless --data-blocks says which blocks to protect.
mkdata data 10000
expect_fail 1 "'data' is 10000 bytes, not a multiple of the data block size 4096" \
	"$LETHE" verity format data l.hash
vroot=$(veritysetup format data v.hash --salt - --uuid "$UUID" | sed -n 's/^Root hash:[[:space:]]*//p')
"$LETHE" verity format data l.hash --data-blocks 2 --root-hash-file l.root -q --uuid "$UUID"
[ "$(cat l.root)" = "$vroot" ] || fail "--data-blocks 2 of a 10000-byte file: root differs"
cmp l.hash v.hash || fail "--data-blocks 2: hash files differ"

# The tree in a separate file at an offset.
mkdata data $((200 * 4096))
"$LETHE" verity format data l.hash --hash-offset 8192 --uuid "$UUID" --root-hash-file l.root \
	-q || fail "lethe format --hash-offset into a separate file"
veritysetup format data v.hash --hash-offset 8192 --salt - --uuid "$UUID" \
	--root-hash-file v.root >/dev/null
cmp l.root v.root || fail "--hash-offset (separate file): root differs"
cmp l.hash v.hash || fail "--hash-offset (separate file): hash files differ"
veritysetup verify data l.hash "$(cat l.root)" --hash-offset 8192 ||
	fail "veritysetup rejects lethe's tree at an offset"

# Appended: the tree inside the data file, after the data (veritysetup --hash-offset on
# the data device), both ways.
blocks=300 off=$((300 * 4096))
mkdata data $((blocks * 4096))
cp data lf
cp data vf
"$LETHE" verity format lf lf --hash-offset "$off" --uuid "$UUID" --root-hash-file l.root -q ||
	fail "lethe format, appended"
veritysetup format vf vf --hash-offset "$off" --data-blocks "$blocks" --salt - --uuid "$UUID" \
	--root-hash-file v.root >/dev/null || fail "veritysetup format, appended"
cmp l.root v.root || fail "appended: root differs"
cmp lf vf || fail "appended: files differ"
veritysetup verify lf lf "$(cat l.root)" --hash-offset "$off" ||
	fail "veritysetup rejects lethe's appended tree"
expect_ok "$LETHE" verity verify vf vf "$(cat v.root)" --hash-offset "$off"
cmp data <(head -c $((blocks * 4096)) lf) || fail "appended format changed the data"
# The tree may not overlap the data.
cp data of
expect_fail 1 "overlaps the hash tree" "$LETHE" verity format of of --hash-offset 4096 \
	--data-blocks 10

# Without a superblock: the parameters travel out of band.
mkdata data $((100 * 4096))
opts=(--no-superblock --hash sha512 --salt "$SALT_HEX" --data-block-size 4096
	--hash-block-size 4096)
"$LETHE" verity format data l.hash "${opts[@]}" --root-hash-file l.root -q ||
	fail "lethe format --no-superblock"
veritysetup format data v.hash "${opts[@]}" --root-hash-file v.root >/dev/null
cmp l.root v.root || fail "--no-superblock: root differs"
cmp l.hash v.hash || fail "--no-superblock: hash files differ"
veritysetup verify data l.hash "$(cat l.root)" "${opts[@]}" ||
	fail "veritysetup rejects lethe's header-less tree"
expect_ok "$LETHE" verity verify data v.hash --root-hash-file v.root "${opts[@]}"

# dump reads veritysetup's superblock the way veritysetup does.
mkdata data $((50 * 4096))
veritysetup format data v.hash --salt "$SALT_HEX" --hash sha512 >/dev/null
for field in UUID "Hash type" "Data blocks" "Data block size" "Hash block size" \
	"Hash algorithm" Salt; do
	a=$(veritysetup dump v.hash | grep "^$field:" | tr -s ' \t' ' ')
	b=$("$LETHE" verity dump v.hash | grep "^$field:" | tr -s ' \t' ' ')
	[ -n "$a" ] && [ "$a" = "$b" ] || fail "dump differs on '$field': '$a' vs '$b'"
done
"$LETHE" verity dump v.hash --json | grep -q '"hash_algorithm": "sha512"' ||
	fail "dump --json lacks the algorithm"
note "all checks passed"
