/* mem.c: large buffers are backed by transparent huge pages where the kernel allows it
 * (THP "madvise" mode, Debian's default): the GAT kernels gather rows at random, and 2 MiB pages
 * keep those gathers clear of TLB misses. Advice only: nothing fails if it is refused. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <sys/mman.h>

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
