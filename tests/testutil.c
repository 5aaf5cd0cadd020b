/* testutil.c: shared helpers for the C tests. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int er_test_failures = 0;

const char *er_test_cora_dir(void) {
  const char *d = getenv("ER_CORA_DIR");
  static char path[4096];
  if (!d) return NULL;
  snprintf(path, sizeof path, "%s/graph.edges", d);
  return access(path, R_OK) == 0 ? d : NULL;
}

void er_test_require_cora(void) {
  if (!er_test_cora_dir()) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) printf("SKIP: Cora data not found (ER_CORA_DIR)\n");
    MPI_Finalize();
    exit(77);
  }
}

const char *er_test_tmpdir(void) {
  static char dir[256];
  if (dir[0]) return dir;
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    snprintf(dir, sizeof dir, "/tmp/er_test_XXXXXX");
    if (!mkdtemp(dir)) dir[0] = '\0';
  }
  MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
  return dir;
}

int er_test_finish(const char *name) {
  int rank, total = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Allreduce(&er_test_failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) printf("%s: %s (%d failed checks)\n", name, total ? "FAIL" : "PASS", total);
  MPI_Finalize();
  return total ? 1 : 0;
}
