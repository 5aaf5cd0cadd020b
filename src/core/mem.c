/* mem.c: allocation of buffer-table rows (erase/mem.h) and the memory report. Large buffers are
 * backed by transparent huge pages where the kernel allows it (THP "madvise" mode, Debian's
 * default): the GAT kernels gather rows at random, and 2 MiB pages keep those gathers clear of
 * TLB misses (advice only: nothing fails if it is refused). It does not model memory (the size
 * functions of each module and src/train/estimate.c do). */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "erase/mem.h"

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

//---- the report ----------------------------------------------------------------------------

static struct {
  int mode;                   /* -1: ERASE_MEM_REPORT not read yet; 0 off; 1 at exit; 2 marks */
  double live, peak;          /* bytes in table rows now, and at most */
  double outside;             /* the largest allocation made outside the tables */
  char outside_at[96];
} rep = {-1, 0, 0, 0, ""};

static int report_mode(void) {
  if (rep.mode < 0) {
    const char *v = getenv("ERASE_MEM_REPORT");
    rep.mode = v && *v ? atoi(v) : 0;
  }
  return rep.mode;
}

static size_t usable(void *p) {
#ifdef __GLIBC__
  return p ? malloc_usable_size(p) : 0;
#else
  (void)p;
  return 0;
#endif
}

void er_mem_note(void *p, size_t bytes, const char *file, int line) {
  er_mem_advise(p, bytes);
  if (!report_mode() || (double)bytes <= rep.outside) return;
  rep.outside = (double)bytes;
  const char *base = strrchr(file, '/');
  snprintf(rep.outside_at, sizeof rep.outside_at, "%s:%d", base ? base + 1 : file, line);
}

void *er_buf_alloc(size_t count, size_t size, int zero, const char *file, int line) {
  if (er_fault_at(ER_FAULT_ALLOC, file, line)) return NULL;
  size_t n = count ? count : 1;
  void *p = zero ? calloc(n, size) : malloc(n * size);
  if (!p) return NULL;
  er_mem_advise(p, count * size);
  if (report_mode()) {
    rep.live += (double)usable(p);
    if (rep.live > rep.peak) rep.peak = rep.live;
  }
  return p;
}

/* A freed table buffer this large goes back to the system at once (the row exchange, for
 * example, frees the block's columns and features, then receives the rows). */
#define ER_TRIM_BYTES ((size_t)8 << 20)

void er_buf_free(void *p, int hot) {
  size_t bytes = usable(p);
  if (p && report_mode()) rep.live -= (double)bytes;
  free(p);
  if (!hot && bytes >= ER_TRIM_BYTES) er_mem_trim();
}

void *er_buf_grow(void *p, size_t bytes) {
  double before = report_mode() ? (double)usable(p) : 0;
  void *q = realloc(p, bytes ? bytes : 1);
  if (q && report_mode()) {
    rep.live += (double)usable(q) - before;
    if (rep.live > rep.peak) rep.peak = rep.live;
  }
  return q;
}

/* kB value of a /proc/self/status field ("VmHWM:", "VmRSS:"), -1 if absent */
static long long status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long long kb = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, field, strlen(field))) {
      kb = atoll(line + strlen(field));
      break;
    }
  fclose(f);
  return kb;
}

double er_mem_table_bytes(void) { return rep.live; }
double er_mem_table_peak(void) { return rep.peak; }
void er_mem_table_peak_reset(void) { rep.peak = rep.live; }

double er_mem_peak_rss(void) {
  long long kb = status_kb("VmHWM:");
  return kb > 0 ? 1024.0 * (double)kb : 0.0;
}

static int world_rank(void) {
  int init = 0, fin = 0, rank = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (init && !fin) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

void er_mem_mark(const char *where) {
  if (report_mode() < 2) return;
  fprintf(stderr, "erase-mpi: memory rank %d at %s: RSS %lld KB (anonymous %lld, shared %lld, "
          "files %lld), peak RSS %lld KB, tables %.0f B (peak %.0f B)\n", world_rank(), where,
          status_kb("VmRSS:"), status_kb("RssAnon:"), status_kb("RssShmem:"),
          status_kb("RssFile:"), status_kb("VmHWM:"), rep.live, rep.peak);
}

void er_mem_report(void) {
  if (!report_mode()) return;
  fprintf(stderr, "erase-mpi: memory rank %d: peak RSS %lld KB, tables peak %.0f B, largest "
          "allocation outside the tables %.0f B (%s)\n", world_rank(), status_kb("VmHWM:"),
          rep.peak, rep.outside, rep.outside_at[0] ? rep.outside_at : "none");
  fflush(stderr);
}
