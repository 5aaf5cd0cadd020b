/* bench_nn.c: timing of the GAT kernels (float, fast vs _ref) on a random local graph.
 * Not a test (asserts nothing, not registered with ctest): build target bench_nn, run by hand:
 *   OPENBLAS_NUM_THREADS=1 ./bench_nn [n_own=100000] [deg=10] [H=8] [C=32] [reps=3] [local=1]
 *                                     [bf16=0]
 * local=0 draws neighbours uniformly from all rows (like a CSBM graph, cache-hostile); bf16=1
 * times the _bf16 kernels (h and the gather's dout in bf16). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "erase/nn.h"
#include "erase/rng.h"

/* CPU seconds of this process: the machine is shared, wall time would measure the neighbours */
static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv) {
  int64_t n_own = argc > 1 ? atoll(argv[1]) : 100000;
  int deg = argc > 2 ? atoi(argv[2]) : 10, H = argc > 3 ? atoi(argv[3]) : 8;
  int C = argc > 4 ? atoi(argv[4]) : 32, reps = argc > 5 ? atoi(argv[5]) : 3;
  int local = argc > 6 ? atoi(argv[6]) : 1, bf16 = argc > 7 ? atoi(argv[7]) : 0;
  int64_t n_tot = n_own + n_own / 10, HC = (int64_t)H * C, nnz = n_own * deg;
  int64_t *indptr = malloc((n_own + 1) * sizeof *indptr);
  er_lidx *indices = malloc(nnz * sizeof *indices);
  float *h = malloc(n_tot * HC * sizeof *h), *dh = calloc(n_tot * HC, sizeof *dh);
  float *out = malloc(n_own * HC * sizeof *out), *dout = malloc(n_own * HC * sizeof *dout);
  float *as = malloc(HC * sizeof *as), *ad = malloc(HC * sizeof *ad), *b = calloc(HC, sizeof *b);
  float *das = calloc(HC, sizeof *das), *dad = calloc(HC, sizeof *dad), *db = calloc(HC, sizeof *db);
  /* huge pages as the trainer asks for them (src/core/mem.c): random row reads without them
   * measure TLB misses, not the kernels */
  er_mem_advise(h, (size_t)(n_tot * HC) * sizeof *h);
  er_mem_advise(dh, (size_t)(n_tot * HC) * sizeof *dh);
  er_mem_advise(out, (size_t)(n_own * HC) * sizeof *out);
  er_mem_advise(dout, (size_t)(n_own * HC) * sizeof *dout);
  /* rows draw deg distinct neighbours near themselves (locality like a partitioned graph), a
   * tenth of them ghosts; or (local=0) uniformly from all rows */
  indptr[0] = 0;
  for (int64_t i = 0; i < n_own; i++) {
    int64_t p0 = i * deg;
    for (int d = 0; d < deg; d++) {
      uint64_t r = er_rng_u64(1, 99, (uint64_t)i, (uint64_t)d);
      int64_t j = (r % 10 == 0) ? n_own + (int64_t)((r >> 8) % (uint64_t)(n_tot - n_own))
                  : local     ? (i + 1 + d * 37 + (int64_t)((r >> 8) % 31)) % n_own
                              : (int64_t)((r >> 8) % (uint64_t)n_own);
      if (j == i) j = (i + 1) % n_own;
      indices[p0 + d] = (er_lidx)j; /* duplicates possible; harmless for timing */
    }
    indptr[i + 1] = p0 + deg;
  }
  for (int64_t e = 0; e < n_tot * HC; e++) h[e] = (float)er_rng_uniform(2, 99, 0, (uint64_t)e) - 0.5f;
  for (int64_t e = 0; e < n_own * HC; e++) dout[e] = (float)er_rng_uniform(3, 99, 0, (uint64_t)e) - 0.5f;
  for (int64_t e = 0; e < HC; e++) as[e] = 0.1f, ad[e] = -0.05f;
  er_bf16 *hb = malloc(n_tot * HC * sizeof *hb), *doutb = malloc(n_own * HC * sizeof *doutb);
  er_bf16_from_f_array(hb, h, n_tot * HC);
  er_bf16_from_f_array(doutb, dout, n_own * HC);
  er_lgraph g = {n_own, n_tot, indptr, indices};
  er_gat_cache_f *c = NULL;
  if (er_gat_cache_create_f(&g, H, C, &c) != ER_OK) {
    fprintf(stderr, "%s\n", er_error_message());
    return 1;
  }
  /* best CPU time of each pass: scores, aggregate, backward gather, rows, sources */
  enum { NP = 5 };
  static const char *pass[NP] = {"scores", "aggregate", "bwd gather", "bwd rows", "bwd sources"};
  double best[NP] = {1e30, 1e30, 1e30, 1e30, 1e30}, tf, tb, tr;
  for (int r = 0; r < reps; r++) {
    double t[NP + 1];
    t[0] = cpu_s();
    if (bf16) {
      er_gat_scores_bf16(c, hb, as, ad, 0, n_tot, &g, H, C);
      t[1] = cpu_s();
      er_gat_aggregate_bf16(out, c, hb, as, b, NULL, n_own, &g, H, C);
      t[2] = cpu_s();
      er_gat_backward_gather_bf16(dh, doutb, hb, c, 0, n_tot, &g, H, C);
      t[3] = cpu_s();
      er_gat_backward_rows_f(db, dout, c, NULL, n_own, &g, H, C);
      t[4] = cpu_s();
      er_gat_backward_sources_bf16(dh, das, dad, hb, as, ad, c, 0, n_tot, &g, H, C);
      t[5] = cpu_s();
    } else {
      er_gat_scores_f(c, h, as, ad, 0, n_tot, &g, H, C);
      t[1] = cpu_s();
      er_gat_aggregate_f(out, c, h, as, b, NULL, n_own, &g, H, C);
      t[2] = cpu_s();
      er_gat_backward_gather_f(dh, dout, h, c, 0, n_tot, &g, H, C);
      t[3] = cpu_s();
      er_gat_backward_rows_f(db, dout, c, NULL, n_own, &g, H, C);
      t[4] = cpu_s();
      er_gat_backward_sources_f(dh, das, dad, h, as, ad, c, 0, n_tot, &g, H, C);
      t[5] = cpu_s();
    }
    for (int q = 0; q < NP; q++)
      if (t[q + 1] - t[q] < best[q]) best[q] = t[q + 1] - t[q];
  }
  tf = best[0] + best[1];
  tb = best[2] + best[3] + best[4];
  double t0 = cpu_s();
  er_gat_forward_ref_f(out, h, as, ad, b, &g, H, C);
  tr = cpu_s() - t0;
  double edges = (double)(nnz + n_own);
  printf("GAT float n_own %lld n_tot %lld deg %d H %d C %d %s (edges incl. self %.0f)\n",
         (long long)n_own, (long long)n_tot, deg, H, C, local ? "local" : "random", edges);
  printf("  forward  %.3f cpu s  (%.1f ns/edge, %.2f GB/s of h rows read)\n", tf, tf / edges * 1e9,
         edges * HC * 4 / tf / 1e9);
  printf("  backward %.3f cpu s  (%.1f ns/edge)\n", tb, tb / edges * 1e9);
  for (int q = 0; q < NP; q++)
    printf("    %-12s %.3f cpu s (%.1f ns/edge)\n", pass[q], best[q], best[q] / edges * 1e9);
  printf("  ref forward %.3f cpu s (fast is %.1fx)\n", tr, tr / tf);
  er_gat_cache_destroy_f(&c);
  free(indptr); free(indices); free(h); free(dh); free(out); free(dout);
  free(as); free(ad); free(b); free(das); free(dad); free(db);
  return 0;
}
