/*
 * Transparent huge pages for the Native AOT runtime's rehydrated data.
 *
 * At start the runtime decodes its compressed data ("dehydrated", in .rodata) into the executable's zero-filled
 * .hydrated section, about 20 MiB at the end of the writable segment. Written page by page, that is some 5,000 page
 * faults before Main, a quarter of the CPU time of a start on a two-core machine (perf, docs/performance.md). With
 * the range advised for huge pages, the kernel fills it with a few 2 MiB pages instead (when its transparent huge
 * page mode is "madvise" or "always"; with "never" the advice changes nothing).
 *
 * This constructor runs before main, so before the rehydration: it finds the executable's writable load segment,
 * takes the part past its file contents (.bss and .hydrated, mapped anonymous and zero-filled by the loader), and
 * advises its 2 MiB-aligned interior. No .NET API or library reaches code that runs before the runtime starts,
 * which is why this is C; it is linked into the binary by src/Bot/Bot.csproj (target HugePageAdvice).
 */
#define _GNU_SOURCE
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

static int advise_executable(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    const uintptr_t huge = (uintptr_t)2 << 20;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || !(segment->p_flags & PF_W) || segment->p_memsz <= segment->p_filesz) {
            continue;
        }

        uintptr_t start = info->dlpi_addr + segment->p_vaddr + segment->p_filesz;
        uintptr_t end = info->dlpi_addr + segment->p_vaddr + segment->p_memsz;
        start = (start + huge - 1) & ~(huge - 1);
        end &= ~(huge - 1);
        if (end > start) {
            /* Advice only: a kernel without it answers EINVAL, and the pages stay small. */
            madvise((void *)start, end - start, MADV_HUGEPAGE);
        }
    }

    /* The first object listed is the executable; the shared libraries are not the runtime's. */
    return 1;
}

__attribute__((constructor)) static void advise_hydrated_data(void)
{
    dl_iterate_phdr(advise_executable, NULL);
}
