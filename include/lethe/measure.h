/* Measured boot: the TPM PCR values that booting a Lethe image leaves, predicted at build
 * time and written into the signed release as pcr.json (the JSON of `systemd-measure
 * calculate --json=short`), and the Authenticode digest of a PE image, which the firmware
 * checks against db under Secure Boot and measures into PCR 4. docs/secure-boot.md
 * ("Measured boot") says what each PCR covers. */
#ifndef LETHE_MEASURE_H
#define LETHE_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LETHE_MEASURE_PCRS	     24
#define LETHE_MEASURE_PCR_BOOT_APPS  4	/* firmware: every EFI application it starts */
#define LETHE_MEASURE_PCR_KERNEL_UKI 11 /* systemd-stub: the UKI's sections */
#define LETHE_MEASURE_JSON_MAX	     (64u * 1024)

/* A set of predicted SHA-256 PCR values. */
struct lethe_measure_pcrs {
	bool has[LETHE_MEASURE_PCRS];
	uint8_t sha256[LETHE_MEASURE_PCRS][32];
};

/* The UKI sections systemd-stub (252) measures into PCR 11, in its order. Do not
 * reorder: the order is the measurement. .uname and .sbat are not measured. */
extern const char *const lethe_measure_uki_sections[7];

/* new = SHA-256(pcr || digest), in place. */
void lethe_measure_extend(uint8_t pcr[32], const uint8_t digest[32]);

/* PCR 11 as systemd-stub leaves it booting the UKI held in data (untrusted bytes; what
 * names it in messages): starting from zeros, for each section of
 * lethe_measure_uki_sections present, extend SHA-256 of its name with the NUL, then
 * SHA-256 of its content (VirtualSize bytes, zeros beyond its raw data). No phase is
 * measured (Lethe runs no systemd-pcrphase). -LETHE_E_INVALID when data is no PE image
 * or has no .linux. */
int lethe_measure_pcr11(const void *data, size_t len, const char *what, uint8_t ret[32]);

/* The Authenticode SHA-256 of a PE32+ image (untrusted bytes): the headers without the
 * CheckSum field and the Certificate Table entry, the sections in file order, and what
 * follows them up to the certificate table. A signed image and the same image unsigned
 * (padded to 8 bytes, as lethe_pe_normalize() leaves it) have the same digest. */
int lethe_measure_authenticode(const void *data, size_t len, const char *what, uint8_t ret[32]);

/* PCR 4 as OVMF leaves it when its boot option starts apps[0] (the boot loader), which
 * starts apps[1] (the UKI), with Secure Boot on: the EV_EFI_ACTION "Calling EFI
 * Application from Boot Option", the EV_SEPARATOR, then one EV_EFI_BOOT_SERVICES_
 * APPLICATION per Authenticode digest. */
void lethe_measure_pcr4(const uint8_t (*apps)[32], size_t n, uint8_t ret[32]);

/* pcr.json: {"sha256":[{"pcr":N,"hash":"HEX"},...]} in PCR order, one line with a
 * newline. The caller frees *ret. */
int lethe_measure_json_format(const struct lethe_measure_pcrs *p, char **ret);
/* Parse pcr.json (untrusted: a release file; what names it in messages). Exactly that
 * shape: a "sha256" array of objects with an integer "pcr" below 24 and a 64-digit
 * "hash", each PCR once; other banks and keys are refused. *ret untouched on error. */
int lethe_measure_json_parse(const char *data, size_t len, const char *what,
			     struct lethe_measure_pcrs *ret);

#endif
