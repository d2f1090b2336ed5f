/* Fuzz target: the ELF64 header parser of lib/elf on arbitrary bytes (package files). */
#include <stdint.h>
#include <stdlib.h>

#include <lethe/elf.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_elf_info info;

	lethe_elf_parse(data, size, "fuzz", &info);
	lethe_elf_info_release(&info);
	return 0;
}
