/* The verbs, in the order `lethe --help` lists them. A verb exists when its
 * cmd-<verb>.c does: the build defines HAVE_CMD_<VERB> for each one it finds. */
#ifdef HAVE_CMD_SPEC
VERB(spec, "validate an image spec")
#endif
#ifdef HAVE_CMD_LOCK
VERB(lock, "resolve a spec's packages and write lethe.lock")
#endif
#ifdef HAVE_CMD_BUILD
VERB(build, "build a signed, reproducible image from a spec")
#endif
#ifdef HAVE_CMD_RUN
VERB(run, "boot a built image under QEMU")
#endif
#ifdef HAVE_CMD_WRITE
VERB(write, "write a verified image to a USB stick or other device")
#endif
#ifdef HAVE_CMD_VERIFY
VERB(verify, "verify a signature, a signed SHA256SUMS, a release or a medium")
#endif
#ifdef HAVE_CMD_AUDIT
VERB(audit, "check the running system's security posture")
#endif
#ifdef HAVE_CMD_FIREWALL
VERB(firewall, "show, apply or check a spec's nftables ruleset")
#endif
#ifdef HAVE_CMD_POWEROFF
VERB(poweroff, "wipe and power off a running Lethe system")
#endif
#ifdef HAVE_CMD_VERITY
VERB(verity, "format, verify and dump dm-verity hash trees")
#endif
#ifdef HAVE_CMD_KEYGEN
VERB(keygen, "create a minisign key pair")
#endif
#ifdef HAVE_CMD_SIGN
VERB(sign, "sign files with a minisign key")
#endif
#ifdef HAVE_CMD_SUMS
VERB(sums, "write or check a SHA256SUMS file")
#endif
#ifdef HAVE_CMD_INSTALL
VERB(install, "install a verified release on a disk as A/B slots")
#endif
#ifdef HAVE_CMD_UPDATE
VERB(update, "write a newer signed release into the inactive slot")
#endif
#ifdef HAVE_CMD_STATUS
VERB(status, "show the A/B slots of an installed disk")
#endif
#ifdef HAVE_CMD_ROLLBACK
VERB(rollback, "boot the other good slot next")
#endif
#ifdef HAVE_CMD_BLESS
VERB(bless, "mark the booted, counted image good")
#endif
#ifdef HAVE_CMD_FIM
VERB(fim, "baseline, check and watch file integrity")
#endif
#ifdef HAVE_CMD_PERSIST
VERB(persist, "make and manage the opt-in encrypted persistent store")
#endif
#ifdef HAVE_CMD_PUSH
VERB(push, "publish a release to an OCI registry")
#endif
#ifdef HAVE_CMD_PULL
VERB(pull, "fetch and verify a release from an OCI registry or HTTP(S)")
#endif
#ifdef HAVE_CMD_DIFF
VERB(diff, "show what changed between two releases")
#endif
