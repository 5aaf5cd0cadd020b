/* fuzz.h: what every libFuzzer harness of tests/fuzz shares: MPI and HDF5 set up once (one
 * process, MPI_COMM_SELF), a private scratch directory, a byte reader for structure-aware
 * recipes and the oracles every parser of user files must satisfy. It fuzzes nothing itself.
 *
 * A target is one file tests/fuzz/fuzz_NAME.c (built as fuzz_NAME, seeds in corpus/NAME/) that
 * defines fz_run() and, when it needs state made once, fz_init(). Inputs run one at a time; the
 * error slot is cleared before and after each. */
#ifndef ER_FUZZ_H
#define ER_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "erase/core.h"

/* The target: one input (data is not NUL-terminated). */
void fz_run(const uint8_t *data, size_t size);
/* Optional, once before the first input (MPI and HDF5 are up; argc/argv are libFuzzer's). */
void fz_init(int *argc, char ***argv) __attribute__((weak));

/* A file name in this process's scratch directory (tmpfs when available); the buffer is one of
 * a few static slots, valid until the same slot comes round again. */
const char *fz_path(const char *name);
/* Write bytes to path (truncating); aborts on failure (the harness's own fault). */
void fz_write_file(const char *path, const void *data, size_t size);
/* Read a whole file; *size receives its length. Caller frees. Aborts on failure. */
unsigned char *fz_read_file(const char *path, size_t *size);
/* A NUL-terminated copy of the input (caller frees). */
char *fz_strndup(const uint8_t *data, size_t size);

/* Structure-aware recipes read their choices from the input through this reader; once the
 * input is used up every read returns 0, so a recipe makes 0 mean "the valid, usual choice". */
typedef struct {
  const uint8_t *p;
  size_t n;
} fz_reader;
uint8_t fz_u8(fz_reader *r);
uint32_t fz_u32(fz_reader *r);
uint64_t fz_u64(fz_reader *r);
/* An integer in [0, n) (n >= 1). */
uint64_t fz_below(fz_reader *r, uint64_t n);

/* Oracles. A violation prints "fuzz oracle: ..." and aborts, which libFuzzer reports as a
 * crash with the input saved. */
#define FZ_ASSERT(cond, ...)                                                                 \
  do {                                                                                       \
    if (!(cond)) fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                            \
  } while (0)
_Noreturn void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The verdict of a call on untrusted input: ER_OK, or one of the codes in allowed (a mask of
 * 1u << code) with a recorded message that is not empty; newlines in the message are allowed
 * only when lines_ok (a message is one line unless it quotes raw input). With
 * ERASE_FUZZ_VERBOSE set, every verdict is printed (to review a corpus). */
void fz_check_verdict(er_err err, unsigned allowed, int lines_ok, const char *call);
#define FZ_CODE(c) (1u << (c))

#endif
