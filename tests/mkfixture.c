/* mkfixture.c: writes a small dataset for the shell tests and benchmarks via the test fixture.
 *   mkfixture OUT.h5 ROWS COLS              4-neighbour grid, ROWS*COLS nodes
 *   mkfixture --random OUT.h5 N EDGES SEED  random graph from EDGES seeded draws
 * Environment MKFIXTURE_VARIANT makes a broken dataset for bad-input tests: nolabels (all -1),
 * notrain (empty training split), missingclass (no training node of class 2).
 * Features are 4 zeros per node, labels id % 3, splits id % 10 == 0 / 1 / 2. Not a generator
 * of realistic data: use `erase-mpi generate` for that. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/cli.h"
#include "fixture.h"

static er_err mkfixture_run(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  int64_t a = 0, b = 0, seed = 0, n = 0, *indptr = NULL, *indices = NULL;
  int64_t *split[3] = {NULL, NULL, NULL}, nsplit[3] = {0, 0, 0};
  int32_t *labels = NULL;
  const char *out;
  int random = argc == 6 && !strcmp(argv[1], "--random");
  ER_CHECK(argc == 4 || random, ER_ERR_INPUT,
           "usage: mkfixture OUT.h5 ROWS COLS | mkfixture --random OUT.h5 N EDGES SEED");
  out = argv[random ? 2 : 1];
  ER_CALL(er_parse_i64(argv[random ? 3 : 2], random ? "N" : "ROWS", 1, INT64_C(1) << 40, &a));
  ER_CALL(er_parse_i64(argv[random ? 4 : 3], random ? "EDGES" : "COLS", random ? 0 : 1,
                       INT64_C(1) << 40, &b));
  if (random) ER_CALL(er_parse_i64(argv[5], "SEED", 0, INT64_MAX, &seed));
  if (random) {
    n = a;
    er_test_random_graph(n, b, (uint64_t)seed, &indptr, &indices);
  } else {
    n = a * b;
    er_test_grid_graph(a, b, &indptr, &indices);
  }
  ER_CHECK(indptr && indices, ER_ERR_MEM, "out of memory building the graph");
  ER_MALLOC(labels, n);
  for (int s = 0; s < 3; ++s) ER_MALLOC(split[s], n / 10 + 1);
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = (int32_t)(i % 3);
    if (i % 10 < 3) split[i % 10][nsplit[i % 10]++] = i;
  }
  const char *variant = getenv("MKFIXTURE_VARIANT");
  if (variant && !strcmp(variant, "nolabels"))
    for (int64_t i = 0; i < n; ++i) labels[i] = -1;
  if (variant && !strcmp(variant, "notrain")) nsplit[0] = 0;
  if (variant && !strcmp(variant, "missingclass"))
    for (int64_t k = 0; k < nsplit[0]; ++k) labels[split[0][k]] = (int32_t)(k % 2);
  ER_CALL(er_test_write_dataset(comm, out, n, indptr, indices, 4, NULL, labels, 3, split[0],
                                nsplit[0], split[1], nsplit[1], split[2], nsplit[2]));
  er_log(comm, "mkfixture: wrote %s: N=%lld, E=%lld\n", out, (long long)n,
         (long long)(indptr[n] / 2));
cleanup:
  free(indptr);
  free(indices);
  free(labels);
  for (int s = 0; s < 3; ++s) free(split[s]);
  return err;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  er_err err = er_agree(MPI_COMM_WORLD, mkfixture_run(MPI_COMM_WORLD, argc, argv));
  if (err != ER_OK) er_report(MPI_COMM_WORLD);
  MPI_Finalize();
  return err == ER_OK ? 0 : 1;
}
