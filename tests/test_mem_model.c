/* test_mem_model.c: the memory model's structure and its tables. (1) No step of a training
 * rank grows with the graph (N, E) when the rank's own counts stay: a buffer-table row sized by N
 * or E (an owner array of N, a whole CSR) fails here. (2) The model grows with every count it
 * is given and falls with P for a fixed graph. (3) What the create functions of the optimizer,
 * the sparse input, a GAT cache and the loss allocate, tracked row by row
 * (ERASE_MEM_REPORT), is what their size functions sum. One rank. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/estimate.h"
#include "erase/loss.h"
#include "erase/nn.h"
#include "erase/optim.h"
#include "erase/sparse.h"
#include "testutil.h"

/* A rank of P on a graph of N nodes, E edges: n = N/P owned rows, G ghosts per row. */
static er_mem_counts counts(int64_t P, int64_t N, int64_t E, int64_t F, double G, double density) {
  er_mem_counts c;
  memset(&c, 0, sizeof c);
  c.P = P, c.N = N, c.E = E, c.F = F, c.K = 10;
  c.hidden = 256, c.heads = 8, c.embed = 512;
  c.split[0] = 200, c.split[1] = 500, c.split[2] = 1000;
  c.density = density, c.solver = ER_MCR2_AUTO, c.gamma1 = 1, c.runs = 1, c.epochs = 100;
  c.n = N / P, c.e = 2 * E / P, c.g = (int64_t)(G * (double)c.n), c.s = c.g, c.cut = c.g * 3 / 2;
  c.b = c.n, c.be = c.e, c.t = (c.split[0] + P - 1) / P;
  c.sub[0] = 1700 / P, c.sub[1] = c.n / 3, c.sub[2] = c.n / 2;
  return c;
}

static void structure(void) {
  const double density[2] = {1.0, 0.01};
  for (int s = 0; s < 2; ++s)
    for (int64_t P = 1; P <= 1024; P *= 4) {
      er_mem_counts c = counts(P, 1000000, 5000000, 128, P > 1 ? 1.5 : 0, density[s]);
      c.reorder = s; /* the sparse pass also with --reorder rcm's scratch */
      er_mem_train a, b;
      er_mem_train_model(&c, &a);
      /* the same rank in a graph 1000 times larger (its share of rows, ghosts, edges and
       * training rows kept) */
      c.N *= 1000, c.E *= 1000;
      for (int s2 = 0; s2 < 3; ++s2) c.split[s2] *= 1000;
      er_mem_train_model(&c, &b);
      for (int k = 0; k < ER_MEM_NSTEP; ++k)
        TEST_CHECK(a.step[k] == b.step[k], "step %s of a rank of %lld (density %g) changes with "
                   "N and E at fixed per-rank counts: %.0f -> %.0f B", er_mem_step_names[k],
                   (long long)P, density[s], a.step[k], b.step[k]);
    }
}

static void monotone(void) {
  er_mem_counts c0 = counts(4, 400000, 2000000, 128, 1.5, 1.0);
  er_mem_train a, b;
  er_mem_train_model(&c0, &a);
  int64_t *field[] = {&c0.n, &c0.g, &c0.e, &c0.s, &c0.cut, &c0.b, &c0.be, &c0.t};
  const char *name[] = {"n", "g", "e", "s", "cut", "b", "be", "t"};
  for (int f = 0; f < 8; ++f) {
    er_mem_counts c = c0;
    int64_t *p = (int64_t *)((char *)&c + ((char *)field[f] - (char *)&c0));
    *p += 1000;
    er_mem_train_model(&c, &b);
    TEST_CHECK(b.with_out >= a.with_out && b.setup >= a.setup, "more %s, less memory", name[f]);
  }
  /* a fixed graph: a rank's peak falls with P (ghosts 0.7, 1.6, 2.2 per row at 2, 4, 8) */
  const double G[4] = {0, 0.7, 1.6, 2.2};
  double prev = INFINITY;
  for (int k = 0; k < 4; ++k) {
    er_mem_counts c = counts(1 << k, 400000, 2000000, 128, G[k], 1.0);
    er_mem_train_model(&c, &b);
    TEST_CHECK(b.train < prev, "P=%d: %.0f B, not below P=%d", 1 << k, b.train, 1 << (k - 1));
    prev = b.train;
  }
}

/* the bytes a create call adds to the tables, against its size function (malloc may round each
 * buffer up: at most a page per row) */
#define TABLE_CHECK(what, make, bytes, rows)                                                 \
  do {                                                                                       \
    double before_ = er_mem_table_bytes();                                                   \
    TEST_OK(make);                                                                           \
    double got_ = er_mem_table_bytes() - before_, want_ = (bytes);                           \
    TEST_CHECK(got_ >= want_ && got_ <= want_ + 4096.0 * (rows), "%s: %.0f B allocated, "   \
               "its size function says %.0f B", what, got_, want_);                          \
  } while (0)

static void tables(void) {
  er_adam *adam = NULL;
  TABLE_CHECK("er_adam", er_adam_create(166144, 1e-3, 0.9, 0.999, 1e-8, 0, 1, &adam),
              er_adam_bytes(166144, 1), 3);
  er_adam_destroy(&adam);

  enum { N = 300, F = 40, H = 4, C = 8 };
  float *x = calloc((size_t)N * F, sizeof *x);
  int64_t nz = 0;
  for (int i = 0; i < N * F; i += 7) x[i] = 1.0f, ++nz;
  er_spmat sp;
  TABLE_CHECK("er_spmat", er_spmat_from_dense(&sp, x, N, F), er_spmat_bytes(N, nz), 3);
  er_spmat_free(&sp);
  free(x);

  /* a ring with chords over N owned rows and N/2 ghosts */
  int64_t indptr[N + 1], nnz = 0;
  er_lidx idx[3 * N];
  for (int i = 0; i < N; ++i) {
    indptr[i] = nnz;
    int nb[3] = {(i + 1) % N, (i + 7) % N, N + i / 2};
    for (int a = 0; a < 3; ++a)
      for (int b = a + 1; b < 3; ++b)
        if (nb[b] < nb[a]) { int t = nb[a]; nb[a] = nb[b]; nb[b] = t; }
    for (int a = 0; a < 3; ++a) idx[nnz++] = nb[a];
  }
  indptr[N] = nnz;
  er_lgraph lg = {N, N + N / 2, indptr, idx};
  er_gat_cache_f *gc = NULL;
  TABLE_CHECK("er_gat_cache", er_gat_cache_create_f(&lg, H, C, &gc),
              er_gat_cache_bytes_f(N, N + N / 2, nnz, H, C), 10);
  er_gat_cache_destroy_f(&gc);

  er_mcr2 *mcr = NULL;
  er_mem_counts c = counts(1, 1000, 5000, 16, 0, 1.0);
  c.embed = 64, c.K = 7, c.gamma1 = 0.5;
  TABLE_CHECK("er_mcr2", er_mcr2_create(MPI_COMM_SELF, 64, 7, 0.5, 2, 0.05, ER_MCR2_LAPACK, &mcr),
              er_mcr2_bytes(&c, 0), 14);
  er_mcr2_destroy(&mcr);
  TEST_CHECK(er_mem_table_bytes() == 0, "%.0f B of tables still live", er_mem_table_bytes());
}

int main(int argc, char **argv) {
  setenv("ERASE_MEM_REPORT", "1", 1); /* track the table rows (read at the first allocation) */
  MPI_Init(&argc, &argv);
  structure();
  monotone();
  tables();
  return er_test_finish("test_mem_model");
}
