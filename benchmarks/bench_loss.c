/* bench_loss.c: times the MCR² forward+backward (float Z) for both solvers over a list of d and
 * K, median over repetitions, one "RESULT" line per configuration for bench_loss_crossover.sh.
 * Not a test: it checks only that both solvers agree on the loss (to catch a broken build).
 * Usage: bench_loss N REPS K1[,K2..] D1[,D2..]  (N global rows, block-distributed) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/loss.h"
#include "erase/rng.h"

#define MAXL 16

static int parse_list(const char *s, int64_t *v, const char *name) {
  char buf[256];
  int n = 0;
  snprintf(buf, sizeof buf, "%s", s);
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < MAXL; t = strtok_r(NULL, ",", &save))
    if (er_parse_i64(t, name, 1, 1 << 16, &v[n++]) != ER_OK) return -1;
  return n;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank, size, rc = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int64_t N = 0, reps = 0, Ks[MAXL], ds[MAXL];
  int nK = -1, nd = -1;
  if (argc == 5 && er_parse_i64(argv[1], "N", 1, INT64_C(1) << 40, &N) == ER_OK &&
      er_parse_i64(argv[2], "REPS", 1, 1000, &reps) == ER_OK)
    nK = parse_list(argv[3], Ks, "K"), nd = parse_list(argv[4], ds, "d");
  if (nK <= 0 || nd <= 0) {
    if (rank == 0) fprintf(stderr, "usage: bench_loss N REPS K1[,K2..] D1[,D2..] (%s)\n", er_error_message());
    MPI_Finalize();
    return 2;
  }
  int64_t lo, hi;
  er_block_range(N, size, rank, &lo, &hi);
  int64_t n = hi - lo;
  for (int ik = 0; ik < nK; ik++)
    for (int id = 0; id < nd; id++) {
      int K = (int)Ks[ik], d = (int)ds[id];
      float *Z = malloc(sizeof(float) * (size_t)(n ? n : 1) * d);
      float *dZ = malloc(sizeof(float) * (size_t)(n ? n : 1) * d);
      int32_t *L = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
      double *t = malloc(sizeof(double) * reps), *ts = malloc(sizeof(double) * reps);
      double *tc = malloc(sizeof(double) * reps);
      double loss[3] = {0};
      /* encoder-like rows: nonnegative, L1-normalized; labels uniform over K */
      for (int64_t r = 0; r < n; r++) {
        double s = 0.0;
        L[r] = (int32_t)er_rng_below(5, 900, (uint64_t)(lo + r), 0, (uint64_t)K);
        for (int c = 0; c < d; c++) {
          double v = er_rng_normal(5, 901, (uint64_t)(lo + r), (uint64_t)c) +
                     0.5 * er_rng_normal(5, 902, (uint64_t)L[r], (uint64_t)c);
          Z[r * d + c] = (float)(v > 0 ? v : 0);
          s += Z[r * d + c];
        }
        for (int c = 0; c < d; c++) Z[r * d + c] = (float)(Z[r * d + c] / (s > 0 ? s : 1));
      }
      for (int solver = ER_MCR2_LAPACK; solver <= ER_MCR2_SCALAPACK; solver++) {
        er_mcr2 *h = NULL;
        er_mcr2_result res;
        if (er_mcr2_create(comm, d, K, 1.0, 2.0, 0.05, solver, &h) != ER_OK) goto fail;
        for (int64_t it = -1; it < reps; it++) { /* it = -1: warm-up, not timed */
          MPI_Barrier(comm);
          double t0 = MPI_Wtime();
          if (er_mcr2_forward_f(h, Z, L, n, &res) != ER_OK) goto fail;
          if (er_agree(comm, er_mcr2_backward_f(h, dZ, Z, L, n)) != ER_OK) goto fail;
          double dt = MPI_Wtime() - t0, v[3] = {dt, res.solve_s, res.comm_s};
          MPI_Allreduce(MPI_IN_PLACE, v, 3, MPI_DOUBLE, MPI_MAX, comm);
          if (it >= 0) t[it] = v[0], ts[it] = v[1], tc[it] = v[2];
        }
        loss[solver] = res.loss;
        er_mcr2_destroy(&h);
        double mt = median(t, (int)reps), mn = t[0], ms = median(ts, (int)reps),
               mc = median(tc, (int)reps);
        if (rank == 0)
          printf("RESULT P=%d d=%d K=%d N=%lld solver=%s median_s=%.6f min_s=%.6f solve_s=%.6f "
                 "comm_s=%.6f\n",
                 size, d, K, (long long)N, solver == ER_MCR2_LAPACK ? "lapack" : "scalapack", mt,
                 mn, ms, mc);
        fflush(stdout);
      }
      if (fabs(loss[1] - loss[2]) > 1e-8 * fabs(loss[1])) {
        if (rank == 0) fprintf(stderr, "bench_loss: solvers disagree: %.17g vs %.17g\n", loss[1], loss[2]);
        goto fail;
      }
      free(Z);
      free(dZ);
      free(L);
      free(t);
      free(ts);
      free(tc);
    }
  rc = 0;
fail:
  if (rc && rank == 0) fprintf(stderr, "bench_loss: %s\n", er_error_message());
  MPI_Finalize();
  return rc;
}
