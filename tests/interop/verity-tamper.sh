#!/usr/bin/env bash
# lethe verity catches one flipped bit in the data, the hash tree and the superblock, and
# says what and where; bad input (truncated, oversized, empty files, absurd superblock
# fields, bad options) gives a clear one-line error and exit 1 or 2, never a crash.
# veritysetup serves as the control: it must agree on what is corrupt.
. "$LETHE_SRC/tests/lib.sh"
need_cmd veritysetup

cd "$TMP"
# 1000 blocks of 4096 bytes, SHA-256: superblock in hash block 0, the top level (1) in
# block 1 (offset 4096), level 0 in blocks 2..9 (offsets 8192..40959).
head -c $((1000 * 4096)) /dev/urandom >data
"$LETHE" verity format data tree --salt 0011223344 --root-hash-file root -q
ROOT=$(cat root)
expect_ok "$LETHE" verity verify data tree "$ROOT"
veritysetup verify data tree "$ROOT" || fail "control: veritysetup rejects the pristine tree"

# tampered FILE OFFSET BIT: a copy of FILE with one bit flipped, named FILE.bad.
tampered() {
	cp "$1" "$1.bad"
	flip_bit "$1.bad" "$2" "${3:-0}"
}

# put FILE OFFSET HEXBYTES: overwrite bytes (for superblock fields, little-endian).
put() {
	local file=$1 off=$2 hex=$3 esc=
	while [ -n "$hex" ]; do
		esc+="\\x${hex:0:2}"
		hex=${hex:2}
	done
	printf "$esc" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}

# --- one bit in the data: named by block number and byte offset
tampered data $((488 * 4096 + 1234)) 5
expect_fail 1 "'data.bad': data block 488 \(offset 1998848\) is corrupt" \
	"$LETHE" verity verify data.bad tree "$ROOT"
! veritysetup verify data.bad tree "$ROOT" 2>/dev/null || fail "control: veritysetup missed it"
# The first of two corrupt blocks is the one named, whatever the thread count.
cp data.bad data.bad2
flip_bit data.bad2 $((900 * 4096)) 0
flip_bit data.bad2 $((3 * 4096 + 7)) 0
for t in 1 2 4; do
	expect_fail 1 "data block 3 \(offset 12288\)" \
		"$LETHE" verity verify data.bad2 tree "$ROOT" --threads "$t"
done
# The first and the last data block.
tampered data 0 7
expect_fail 1 "data block 0 \(offset 0\)" "$LETHE" verity verify data.bad tree "$ROOT"
tampered data $((1000 * 4096 - 1)) 0
expect_fail 1 "data block 999 \(offset 4091904\)" "$LETHE" verity verify data.bad tree "$ROOT"

# --- one bit in the hash tree: level 0 (block 3 of the level, offset 20480), then the
# top block, then the zero padding after the last digest of level 0
tampered tree $((5 * 4096 + 100)) 1
expect_fail 1 "'tree.bad': hash block 3 of level 0 \(offset 20480\) is corrupt" \
	"$LETHE" verity verify data tree.bad "$ROOT"
! veritysetup verify data tree.bad "$ROOT" 2>/dev/null || fail "control: veritysetup missed it"
tampered tree $((4096 + 31)) 3
expect_fail 1 "'tree.bad': top hash block \(level 1, offset 4096\) does not match the root hash" \
	"$LETHE" verity verify data tree.bad "$ROOT"
tampered tree $((9 * 4096 + 4000)) 0 # 1000 = 7*128 + 104 digests: block 9 is padded
expect_fail 1 "hash block 7 of level 0 \(offset 36864\) is corrupt" \
	"$LETHE" verity verify data tree.bad "$ROOT"

# --- one bit in the superblock: salt (covered by the root hash), reserved bytes and
# fields that the strict parser refuses
tampered tree 89 0
expect_fail 1 "top hash block .* superblock" "$LETHE" verity verify data tree.bad "$ROOT"
! veritysetup verify data tree.bad "$ROOT" 2>/dev/null || fail "control: veritysetup missed it"
tampered tree 400 2
expect_fail 1 "'tree.bad' at offset 0: verity superblock offset 344: reserved bytes are not zero" \
	"$LETHE" verity verify data tree.bad "$ROOT"
tampered tree 0 0
expect_fail 1 "'tree.bad' at offset 0: no verity superblock \(offset 0: bad magic\)" \
	"$LETHE" verity verify data tree.bad "$ROOT"
tampered tree 65 0 # data block size 4096 (00 10 00 00) -> 4352
expect_fail 1 "offset 64: data block size 4352 is not a power of two" \
	"$LETHE" verity verify data tree.bad "$ROOT"
tampered tree 72 1 # 1000 -> 1002 data blocks
expect_fail 1 "is truncated|does not match" "$LETHE" verity verify data tree.bad "$ROOT"
tampered tree 32 1 # "sha256" -> "qha256"
expect_fail 1 "offset 32: unsupported hash algorithm 'qha256'" \
	"$LETHE" verity verify data tree.bad "$ROOT"

# --- a wrong root hash, or one of the wrong length
other=$(printf '%064x' 1)
expect_fail 1 "does not match the root hash" "$LETHE" verity verify data tree "$other"
expect_fail 1 "root hash has 64 bytes, sha256 needs 32" \
	"$LETHE" verity verify data tree "$ROOT$ROOT"
expect_fail 2 "root hash is not 64 or 128 hex digits" "$LETHE" verity verify data tree 12ab

# --- absurd superblock fields, each refused with its offset
absurd() { # OFFSET HEX PATTERN
	cp tree tree.bad
	put tree.bad "$1" "$2"
	expect_fail 1 "$3" "$LETHE" verity verify data tree.bad "$ROOT"
	expect_fail 1 "$3" "$LETHE" verity dump tree.bad
}
absurd 8 02000000 "offset 8: unsupported version 2"
absurd 12 00000000 "offset 12: unsupported hash type 0"
absurd 64 03000000 "offset 64: data block size 3 is not a power of two"
absurd 68 00000200 "offset 68: hash block size 131072 is not a power of two"
absurd 72 0000000000000080 "offset 72: 9223372036854775808 data blocks of 4096 bytes"
absurd 72 0000000000000001 "offset 72: 72057594037927936 data blocks of 4096 bytes"
absurd 72 0000000000000000 "offset 72: 0 data blocks"
absurd 80 1027 "offset 80: salt size 10000 is larger than 256"
absurd 86 01 "offset 82: reserved bytes are not zero"
absurd 93 ff "offset 93: bytes after the 5-byte salt are not zero"
absurd 32 6d6435000000 "unsupported hash algorithm 'md5'"
absurd 32 "$(printf 'a%.0s' {1..32} | od -An -tx1 -v | tr -d ' \n')" \
	"offset 32: algorithm name is not NUL-terminated"

# --- truncated, oversized and empty files
head -c $((999 * 4096)) data >short
expect_fail 1 "'short' is truncated: 4091904 bytes, the tree covers 1000 data blocks" \
	"$LETHE" verity verify short tree "$ROOT"
head -c 20000 tree >tree.short
expect_fail 1 "'tree.short' is truncated: 20000 bytes, the hash tree needs 40960" \
	"$LETHE" verity verify data tree.short "$ROOT"
head -c 100 tree >tree.tiny
expect_fail 1 "'tree.tiny' has no verity superblock at offset 0 \(file too short\)" \
	"$LETHE" verity verify data tree.tiny "$ROOT"
cp data long
head -c 5000 /dev/urandom >>long
expect_fail 0 "'long' has 5000 bytes after the 1000 protected blocks" \
	"$LETHE" verity verify long tree "$ROOT"
cp tree tree.long
head -c 4096 /dev/urandom >>tree.long
expect_ok "$LETHE" verity verify data tree.long "$ROOT"
: >empty
expect_fail 1 "'empty' is empty: there is no data block to protect" \
	"$LETHE" verity format empty empty.tree
[ ! -e empty.tree ] || fail "a failed format left a hash file behind"
expect_fail 1 "'empty' has no verity superblock at offset 0" \
	"$LETHE" verity verify data empty "$ROOT"
expect_fail 1 "'empty' is truncated: 0 bytes" "$LETHE" verity verify empty tree "$ROOT"
expect_fail 1 "no verity superblock at offset 0 \(file too short\)" "$LETHE" verity dump empty
expect_fail 1 "'data' is 4096000 bytes, too short for 2000 data blocks" \
	"$LETHE" verity format data t2 --data-blocks 2000

# --- usage errors (exit 2) and a missing file (exit 3)
expect_fail 2 "block size 3 is not a power of two" \
	"$LETHE" verity format data t2 --data-block-size 3
expect_fail 2 "block size 131072 is not a power of two|not a number from 0 to 65536" \
	"$LETHE" verity format data t2 --hash-block-size 131072
expect_fail 2 "salt 'zz' is not an even number of hex digits" \
	"$LETHE" verity format data t2 --salt zz
expect_fail 2 "salt '.*' is not an even number of hex digits \(at most 512\)" \
	"$LETHE" verity format data t2 --salt "$(printf '0%.0s' {1..514})"
expect_fail 2 "unsupported hash 'md5'" "$LETHE" verity format data t2 --hash md5
expect_fail 2 "hash offset 100 is not a multiple of 512" \
	"$LETHE" verity format data t2 --hash-offset 100
expect_fail 2 "expected DATA and HASH" "$LETHE" verity format data
expect_fail 2 "unknown subcommand 'frobnicate'" "$LETHE" verity frobnicate
expect_fail 3 "cannot open 'nonexistent'" "$LETHE" verity verify nonexistent tree "$ROOT"
[ ! -e t2 ] || fail "a failed format left a hash file behind"
"$LETHE" verity --help | grep -q "usage: lethe verity format" || fail "--help"
"$LETHE" verity verify --help | grep -q "Exit status" || fail "verify --help"
note "all checks passed"
