/* testutil.h: tiny assertion helpers for the C tests (collective verdicts, skip code 77).
 * A failed check prints on the failing rank and makes every rank exit 1 at er_test_finish. */
#ifndef ER_TESTUTIL_H
#define ER_TESTUTIL_H

#include <mpi.h>
#include <stdio.h>

#include "erase/core.h"

extern int er_test_failures;

#define TEST_CHECK(cond, ...)                                                                \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      int r_;                                                                                \
      MPI_Comm_rank(MPI_COMM_WORLD, &r_);                                                    \
      fprintf(stderr, "[rank %d] CHECK FAILED %s:%d: %s: ", r_, __FILE__, __LINE__, #cond);  \
      fprintf(stderr, __VA_ARGS__);                                                          \
      fprintf(stderr, "\n");                                                                 \
      er_test_failures++;                                                                    \
    }                                                                                        \
  } while (0)

/* Fail the test if an er_err is not ER_OK (prints the agreed message). */
#define TEST_OK(call)                                                                        \
  do {                                                                                       \
    er_err e_ = (call);                                                                      \
    TEST_CHECK(e_ == ER_OK, "%s -> %d: %s", #call, e_, er_error_message());                  \
  } while (0)

/* Cora directory or NULL; er_test_require_cora exits 77 (skip) on every rank when absent. */
const char *er_test_cora_dir(void);
void er_test_require_cora(void);
/* Temporary directory for this test run (created once, same path on all ranks). */
const char *er_test_tmpdir(void);
/* Agrees on failures across ranks, prints PASS/FAIL on rank 0, finalizes MPI; returns exit code. */
int er_test_finish(const char *name);

#endif
