/* error.c: per-process error slot, collective agreement on errors, rank-0 logging.
 * Does not exit or abort: callers decide what to do with an agreed error. */
#include "erase/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#define ER_MSG_LEN 1024
static char er_msg[ER_MSG_LEN];
static er_err er_code = ER_OK;
static int er_agreed = 0; /* the recorded error has been agreed on */

er_err er_error_set(er_err code, const char *file, int line, const char *fmt, ...) {
  if (er_code != ER_OK) return code; /* keep the first (root-cause) message */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(er_msg, sizeof er_msg, fmt, ap);
  va_end(ap);
  (void)file;
  (void)line;
  if (code != ER_ERR_INPUT && code != ER_INTERRUPTED) { /* internal failures carry their origin */
    size_t len = strlen(er_msg);
    snprintf(er_msg + len, sizeof er_msg - len, " [%s:%d]", file, line);
  }
  er_code = code;
  er_agreed = 0;
  return code;
}

er_err er_mpi_error(int rc, const char *call, const char *file, int line) {
  char what[MPI_MAX_ERROR_STRING] = "";
  int len = 0;
  if (MPI_Error_string(rc, what, &len) != MPI_SUCCESS) snprintf(what, sizeof what, "code %d", rc);
  return er_error_set(ER_ERR_MPI, file, line, "MPI call failed (%s): %s", what, call);
}

int er_error_agreed(void) { return er_code != ER_OK && er_agreed; }

const char *er_error_message(void) { return er_code == ER_OK ? "no error" : er_msg; }

void er_error_clear(void) {
  er_code = ER_OK;
  er_agreed = 0;
  er_msg[0] = '\0';
}

/* The agreement itself failed: no verdict can be shared, so no rank may go on. */
static void agree_failed(MPI_Comm comm) {
  fprintf(stderr, "erase-mpi: error: the ranks could not agree on an error (MPI failed); "
                  "aborting. Last error here: %s\n", er_code != ER_OK ? er_msg : "none");
  fflush(stderr);
  MPI_Abort(comm, 1);
  exit(1);
}

er_err er_agree(MPI_Comm comm, er_err err) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int in[2] = {err, err != ER_OK ? rank : size}, out[2];
  /* max code and min failing rank in one reduction: negate the rank for MPI_MAX */
  int pair[2] = {in[0], -in[1]};
  if (MPI_Allreduce(pair, out, 2, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS) agree_failed(comm);
  er_err verdict = out[0];
  int src = -out[1];
  if (verdict == ER_OK) return ER_OK;
  char buf[ER_MSG_LEN];
  if (rank == src) {
    if (er_code == ER_OK) snprintf(er_msg, sizeof er_msg, "unknown failure (code %d)", err);
    memcpy(buf, er_msg, sizeof buf);
  }
  if (MPI_Bcast(buf, ER_MSG_LEN, MPI_CHAR, src, comm) != MPI_SUCCESS) agree_failed(comm);
  memcpy(er_msg, buf, sizeof er_msg);
  er_msg[ER_MSG_LEN - 1] = '\0';
  er_code = verdict;
  int world;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  er_agreed = size == world; /* known to every rank only when every rank took part */
  return verdict;
}

er_err er_barrier_sleeping(MPI_Comm comm, long poll_ns) {
  er_err err = ER_OK;
  MPI_Request req;
  int done = 0;
  ER_CALL_MPI(MPI_Ibarrier(comm, &req));
  ER_CALL_MPI(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
  /* the polls: as many as the wait takes, so not fault sites (a rank's sites are the same in
   * every run, and a fault-injection sweep counted once reaches each of them) */
  while (!done) {
    nanosleep(&(struct timespec){0, poll_ns}, NULL);
    const int rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
      err = er_mpi_error(rc, "MPI_Test(&req, &done, MPI_STATUS_IGNORE)", __FILE__, __LINE__);
      goto cleanup;
    }
  }
cleanup:
  return err;
}

void er_report(MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    fprintf(stderr, "erase-mpi: error: %s\n", er_error_message());
    fflush(stderr);
  }
}

void er_log(MPI_Comm comm, const char *fmt, ...) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fflush(stdout);
}

double er_wtime(void) { return MPI_Wtime(); }

void er_block_range(int64_t n, int size, int rank, int64_t *lo, int64_t *hi) {
  int64_t q = n / size, r = n % size;
  *lo = rank * q + (rank < r ? rank : r);
  *hi = *lo + q + (rank < r ? 1 : 0);
}
