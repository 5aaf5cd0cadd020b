/* mem.c: large buffers are backed by transparent huge pages where the kernel allows it
 * (THP "madvise" mode, Debian's default): the GAT kernels gather rows at random, and 2 MiB pages
 * keep those gathers clear of TLB misses. Advice only: nothing fails if it is refused. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "erase/core.h"

#define ER_HUGE (2u << 20)

void er_mem_advise(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (!p || bytes < 2 * (size_t)ER_HUGE) return;
  uintptr_t a = ((uintptr_t)p + ER_HUGE - 1) & ~(uintptr_t)(ER_HUGE - 1);
  uintptr_t b = ((uintptr_t)p + bytes) & ~(uintptr_t)(ER_HUGE - 1);
  if (b > a) (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
  (void)p, (void)bytes;
#endif
}

/* Large buffers of a training rank come from the brk heap here (not from their own mappings:
 * the MPI runtime's allocator settings keep glibc from mapping them), so free() alone does not
 * lower the resident set unless the block sits at the top of the heap; malloc_trim(0) returns
 * every free page inside the heap. Measured on the 300K graph: without it the backward scratch
 * freed before the output phase (258 MB per rank) stayed resident. */
void er_mem_trim(void) {
#ifdef __GLIBC__
  (void)malloc_trim(0);
#endif
}
