/* graph_common.h: builds the test datasets shared by the graph/halo/propagation tests
 * (Cora imported from ../shared/data/cora when present, and a generated CSBM graph). */
#ifndef ER_GRAPH_COMMON_H
#define ER_GRAPH_COMMON_H

#include <stdio.h>

#include "erase/dataset.h"
#include "testutil.h"

/* Collective. Writes tmpdir/cora.h5 (returns 0 if Cora is absent) */
static inline int er_test_make_cora(char *path, size_t len) {
  const char *d = er_test_cora_dir();
  if (!d) return 0;
  char f[6][4096];
  const char *names[6] = {"graph.edges", "features.mtx", "labels.txt", "train.idx", "val.idx", "test.idx"};
  for (int i = 0; i < 6; ++i) snprintf(f[i], sizeof f[i], "%s/%s", d, names[i]);
  snprintf(path, len, "%s/cora.h5", er_test_tmpdir());
  er_import_opts o = {.edges = f[0], .features = f[1], .labels = f[2], .train = f[3],
                      .val = f[4], .test = f[5], .out = path};
  TEST_OK(er_import(MPI_COMM_WORLD, &o));
  return 1;
}

/* Collective. Writes tmpdir/gen.h5: a small CSBM graph. */
static inline void er_test_make_generated(char *path, size_t len, int64_t nodes) {
  snprintf(path, len, "%s/gen.h5", er_test_tmpdir());
  er_generate_opts o = {.nodes = nodes, .avg_degree = 8, .classes = 5, .features = 16,
                        .homophily = 0.7, .feature_snr = 1.0, .train_per_class = 20,
                        .val = 100, .test = 200, .seed = 7, .out = path};
  TEST_OK(er_generate(MPI_COMM_WORLD, &o));
}

#endif
