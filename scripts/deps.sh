#!/usr/bin/env bash
# Install every Debian package that Lethe's build, tests, benchmarks and demo need.
# Idempotent: runs apt-get only for what is missing, and `apt-get update` only then.
set -euo pipefail

packages=(
	# build
	meson ninja-build pkg-config gcc clang llvm clang-format
	libsodium-dev libssl-dev libarchive-dev libyaml-dev libcmocka-dev
	libnftables-dev libcryptsetup-dev libfdisk-dev libblkid-dev libjson-c-dev
	libclang-rt-14-dev libfuzzer-14-dev
	# image pipeline
	erofs-utils cpio zstd kmod fdisk dosfstools busybox-static
	# peers the tests check against
	cryptsetup-bin minisign mtree-netbsd libarchive-tools nftables systemd-container
	python3-jsonschema mmdebstrap
	# checks of our own binaries (RELRO, PIE, canary, FORTIFY)
	checksec
	# booting images
	qemu-system-x86 qemu-utils ovmf systemd-boot systemd-boot-efi binutils mtools
	# network tests
	iproute2 iputils-ping netcat-openbsd procps util-linux
	# benchmarks
	openssl hyperfine time
	# tests that need them: file(1) reads ELF headers, mkfs.ext4, /etc/protocols for nft,
	# gpg-agent for the throw-away archive keys of the lock tests
	file e2fsprogs netbase gpg gpg-agent
	# man pages, completion, the Debian package (issue 20)
	scdoc groff-base man-db bash-completion debhelper dpkg-dev fakeroot lintian
	# the zsh completion's test
	zsh
	# the persistence test decrypts the store with the volume key (AES-XTS)
	python3-cryptography
	# the build-time triggers' host tools (lib/rootfs/triggers.c; the desktop image)
	fontconfig libglib2.0-bin shared-mime-info gtk-update-icon-cache
	# ISO 9660 media (issue 11)
	xorriso
	# Secure Boot and measured boot (issue 12)
	sbsigntool efitools osslsigncode swtpm swtpm-tools tpm2-tools
	# fleet distribution: an OCI registry, its client, HTTP, auth (issue 18)
	libcurl4-openssl-dev curl docker-registry skopeo apache2-utils python3-jwt
	# file integrity: the peer benchmark (issue 17)
	aide
	# hardware tokens (issue 19)
	softhsm2 opensc libp11-dev libengine-pkcs11-openssl
	# PKCS#11 signing: p11-kit loads modules and parses URIs (libp11 0.4.12 has no EdDSA)
	libp11-kit-dev
	# network privacy tests: WireGuard peer, captures, DHCP server (issue 16)
	wireguard-tools tcpdump udhcpd
	# the WireGuard peer of tests/vm/network-vpn.sh, in user space (the host kernel may
	# have no wireguard)
	wireguard-go
)

# Node.js may come with the machine; take Debian's only where there is none.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#packages[@]} packages present"
else
	echo "deps: installing ${missing[*]}"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
	$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
fi

# The CycloneDX validator comes from npm, into a folder of the build tree (not the repo).
npm_dir=${LETHE_NPM_DIR:-"$(dirname "$0")/../build/npm"}
if [ ! -d "$npm_dir/node_modules/@cyclonedx/cyclonedx-library" ]; then
	mkdir -p "$npm_dir"
	(cd "$npm_dir" && npm install --silent --no-audit --no-fund --no-save \
		@cyclonedx/cyclonedx-library ajv ajv-formats ajv-formats-draft2019 >/dev/null) ||
		echo "deps: warning: npm install of the CycloneDX validator failed" >&2
fi
