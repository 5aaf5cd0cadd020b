/* gen_text_graph.c: writes a random graph in the text inputs of `erase-mpi import` for
 * bench_import.sh: DIR/graph.edges ("u v", each node draws D/2 random neighbours, so some
 * repeats and self loops occur), DIR/features.mtx (Matrix Market coordinate real, each cell
 * present with probability DENSITY, values with 6 significant digits), DIR/labels.txt (K
 * classes), DIR/train.idx, val.idx, test.idx (1%, 1% and 2% of the nodes, disjoint).
 * Deterministic for a seed; not a model of real graphs (erase-mpi generate is).
 * usage: gen_text_graph DIR N D F DENSITY K [SEED] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state;
static uint64_t next(void) { /* splitmix64 */
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double uniform(void) { return (double)(next() >> 11) * (1.0 / 9007199254740992.0); }

static FILE *open_out(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(1);
  }
  setvbuf(f, NULL, _IOFBF, 1 << 20);
  return f;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: %s DIR N D F DENSITY K [SEED]\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  const long long n = atoll(argv[2]), half = atoll(argv[3]) / 2, f = atoll(argv[4]);
  const double density = atof(argv[5]);
  const int k = atoi(argv[6]);
  state = argc > 7 ? strtoull(argv[7], NULL, 10) : 1;
  if (n < 2 || f < 1 || k < 1 || density <= 0 || density > 1) return 2;

  FILE *e = open_out(dir, "graph.edges");
  fprintf(e, "# random graph: %lld nodes, %lld draws per node\n", n, half);
  for (long long u = 0; u < n; ++u)
    for (long long d = 0; d < half; ++d)
      fprintf(e, "%lld %llu\n", u, (unsigned long long)(next() % (uint64_t)n));
  fclose(e);

  /* the entry count goes first: count the cells of the same draw sequence twice */
  uint64_t saved = state;
  long long nnz = 0;
  for (long long i = 0; i < n * f; ++i) {
    nnz += uniform() < density;
    (void)next();
  }
  state = saved;
  FILE *x = open_out(dir, "features.mtx");
  fprintf(x, "%%%%MatrixMarket matrix coordinate real general\n%lld %lld %lld\n", n, f, nnz);
  for (long long i = 0; i < n; ++i)
    for (long long j = 0; j < f; ++j) {
      int keep = uniform() < density;
      double v = uniform() * 4.0 - 2.0;
      if (keep) fprintf(x, "%lld %lld %.6g\n", i + 1, j + 1, v);
    }
  fclose(x);

  FILE *y = open_out(dir, "labels.txt");
  for (long long i = 0; i < n; ++i) fprintf(y, "%d\n", (int)(next() % (uint64_t)k));
  fclose(y);
  const char *names[3] = {"train.idx", "val.idx", "test.idx"};
  for (int s = 0; s < 3; ++s) { /* node i is in split s when i % 100 is s (test: 2 and 3) */
    FILE *t = open_out(dir, names[s]);
    for (long long i = 0; i < n; ++i)
      if (i % 100 == s || (s == 2 && i % 100 == 3)) fprintf(t, "%lld\n", i);
    fclose(t);
  }
  return 0;
}
