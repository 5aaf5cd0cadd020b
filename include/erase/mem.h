/* mem.h: buffer tables and the counts the per-rank memory model evaluates them on. Each module
 * of a training rank lists the buffers it allocates once, as rows X(lvalue, count, type, flags)
 * of a table macro: its create (or a step's start) allocates the rows with ER_BUF_ALLOC, its
 * destroy (or the step's cleanup) frees them with ER_BUF_FREE, and its size function sums them
 * with ER_BUF_BYTES over the same count expressions, whose names it binds from er_mem_counts.
 * A buffer that is not in a table is not allocated; one that is, is counted (erase-mpi
 * estimate). Which tables are live together is each size function's part. Not collective. */
#ifndef ERASE_MEM_H
#define ERASE_MEM_H

#include "erase/core.h"

/* The shape of a run and one rank's share of it: everything the model is a function of. */
typedef struct {
  /* the run (the same on every rank) */
  int64_t P, N, E, F, K;        /* ranks, nodes, undirected edges, input features, classes */
  int64_t hidden, heads, embed; /* model widths */
  int64_t split[3];             /* training, validation and test rows over all ranks */
  double density;               /* fraction of the input features that are nonzero */
  int solver;                   /* the MCR2 solver option (ER_MCR2_*, AUTO resolved as training) */
  double gamma1;                /* MCR2 gamma1 (!= 1 adds a matrix) */
  int64_t runs, epochs;
  int checkpoint;               /* 1: checkpoints are written */
  int floor;                    /* 1: train --floor measures its rates around the epochs */
  int gather_bf16;              /* 1: train --gather-precision bf16 (the encoder's bf16 rows) */
  int reorder;                  /* 1: train --reorder rcm (its scratch at setup) */
  /* this rank */
  int64_t n;      /* owned rows */
  int64_t g;      /* ghost rows */
  int64_t e;      /* CSR entries of the owned rows (directed edges) */
  int64_t s;      /* rows sent per halo exchange, over all neighbours */
  int64_t cut;    /* entries of the owned rows whose column is a ghost */
  int64_t t;      /* owned training rows (the probe's share) */
  int64_t b, be;  /* rows and CSR entries of the rank's contiguous block of the dataset */
  int64_t sub[3]; /* rows of the encoder's evaluation subsets (er_encoder_eval_rows): wanted,
                     layer 1, layer-1 input; 0 when no subset is planned */
} er_mem_counts;

/* Row flags: zeroed (calloc); optional (not allocated, left NULL, when the count is 0); lazy
 * (counted here but grown where it is used, e.g. to the widest halo exchange); hot (made and
 * freed every epoch: its pages stay with the process when it is freed, see er_buf_free). */
enum { ER_BUF_ZERO = 1, ER_BUF_OPT = 2, ER_BUF_LAZY = 4, ER_BUF_HOT = 8 };

/* Allocation of one table row (ER_MALLOC semantics: fault site, ER_ERR_MEM and goto cleanup,
 * huge-page advice); lazy rows are left alone. */
void *er_buf_alloc(size_t count, size_t size, int zero, const char *file, int line);
#define ER_BUF_ALLOC(lv, count, T, flags)                                                    \
  do {                                                                                       \
    _Static_assert(sizeof(*(lv)) == sizeof(T), "buffer table: " #lv " is not " #T);          \
    if (((flags) & ER_BUF_LAZY) || (((flags) & ER_BUF_OPT) && (count) == 0)) break;          \
    (lv) = er_buf_alloc((size_t)(count), sizeof(T), (flags) & ER_BUF_ZERO, __FILE__,         \
                        __LINE__);                                                           \
    if (!(lv)) {                                                                             \
      err = ER_ERROR(ER_ERR_MEM, "out of memory allocating %.0f bytes for %s",               \
                     (double)(count) * (double)sizeof(T), #lv);                              \
      goto cleanup;                                                                          \
    }                                                                                        \
  } while (0);
/* Allocation of one row that records a failure in the enclosing `er_err local` and goes on,
 * for code that agrees on `local` before its next collective. */
#define ER_BUF_TRY(lv, count, T, flags)                                                      \
  do {                                                                                       \
    _Static_assert(sizeof(*(lv)) == sizeof(T), "buffer table: " #lv " is not " #T);          \
    if (((flags) & ER_BUF_LAZY) || (((flags) & ER_BUF_OPT) && (count) == 0)) break;          \
    (lv) = er_buf_alloc((size_t)(count), sizeof(T), (flags) & ER_BUF_ZERO, __FILE__,         \
                        __LINE__);                                                           \
    if (!(lv) && local == ER_OK)                                                             \
      local = ER_ERROR(ER_ERR_MEM, "out of memory allocating %.0f bytes for %s",             \
                       (double)(count) * (double)sizeof(T), #lv);                            \
  } while (0);
/* Bytes of one row: `double bytes = 0 TABLE(ER_BUF_BYTES);` */
#define ER_BUF_BYTES(lv, count, T, flags) +(double)(count) * (double)sizeof(T)
/* Free of one row (any buffer of a table, also alone: ER_BUF_RELEASE(p)). A large buffer goes
 * back to the system at once (er_mem_trim) unless it is hot: otherwise its pages stay resident
 * as a hole in the heap that a later, larger buffer cannot use, and the resident set is the
 * heap's extent rather than the bytes live in the tables. */
void er_buf_free(void *p, int hot);
#define ER_BUF_RELEASE(lv)                                                                   \
  do {                                                                                       \
    er_buf_free((lv), 0);                                                                    \
    (lv) = NULL;                                                                             \
  } while (0)
#define ER_BUF_FREE(lv, count, T, flags)                                                     \
  do {                                                                                       \
    er_buf_free((lv), ((flags) & ER_BUF_HOT) != 0);                                          \
    (lv) = NULL;                                                                             \
  } while (0);
/* Growth of a lazy row to bytes (realloc; NULL on failure, p kept). */
void *er_buf_grow(void *p, size_t bytes);

/* Objects a module creates inside its own (their tables are theirs): rows
 * Y(condition, create call, bytes) of a parts table, made with ER_PART_MAKE and summed with
 * ER_PART_BYTES. */
#define ER_PART_MAKE(cond, make, bytes) if (cond) ER_CALL(make);
#define ER_PART_BYTES(cond, make, bytes) +((cond) ? (double)(bytes) : 0.0)

/* ERASE_MEM_REPORT=1: at exit (er_mem_report) every rank prints one line on stderr: its peak
 * resident set (VmHWM), the peak of the bytes live in buffer tables, and the largest single
 * allocation made outside them (ER_MALLOC / ER_CALLOC) with its site. ERASE_MEM_REPORT=2 also
 * prints the resident set and the table bytes at each er_mem_mark(). */
void er_mem_mark(const char *where);
void er_mem_report(void);
/* Bytes live in table rows now, and at most since the last er_mem_table_peak_reset (counted
 * only under ERASE_MEM_REPORT; tests). */
double er_mem_table_bytes(void);
double er_mem_table_peak(void);
void er_mem_table_peak_reset(void);
/* The process's peak resident set in bytes (VmHWM of /proc/self/status; 0 if unknown). */
double er_mem_peak_rss(void);

#endif
