/* bench_stream.c: memory bandwidth of one process for the access patterns of an epoch: a STREAM
 * triad (a = b + s c, streaming) and a gather of W-float rows in random order (the GAT kernels'
 * neighbour rows), best of REPS. Run one copy alone and two at once (bench_stream.sh) to see
 * what a second rank on the same memory gets. The gather runs twice: plain, and with a software
 * prefetch of the row PF places ahead (all its cache lines, as the GAT kernels do). Not a test.
 * Usage: bench_stream [MFLOATS per array (100)] [REPS (5)] [W row width in floats (512)]
 *                     [PF prefetch distance in rows (2, the kernels' GAT_PF_DIST)] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  size_t n = (size_t)((argc > 1 ? atof(argv[1]) : 100.0) * 1e6);
  int reps = argc > 2 ? atoi(argv[2]) : 5, W = argc > 3 ? atoi(argv[3]) : 512;
  int pf = argc > 4 ? atoi(argv[4]) : 2;
  if (n < (size_t)W || reps < 1 || W < 1 || W > 4096 || pf < 1 || pf > 64) {
    fprintf(stderr, "usage: bench_stream [MFLOATS >= W/1e6] [REPS >= 1] [W in 1..4096] "
                    "[PF in 1..64]\n");
    return 2;
  }
  float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
  size_t rows = n / (size_t)W;
  uint32_t *idx = malloc(rows * sizeof *idx);
  float *acc = calloc((size_t)W, sizeof *acc);
  if (!a || !b || !c || !idx || !acc) {
    fprintf(stderr, "bench_stream: out of memory\n");
    return 1;
  }
  for (size_t i = 0; i < n; i++) a[i] = 0, b[i] = 1, c[i] = 2;
  uint32_t s = 12345;
  for (size_t i = 0; i < rows; i++) s = s * 1664525u + 1013904223u, idx[i] = (uint32_t)(s % rows);
  double best_t = 1e30, best_g = 1e30, best_p = 1e30;
  for (int r = 0; r < reps; r++) {
    double t = now();
    for (size_t i = 0; i < n; i++) a[i] = b[i] + 1.5f * c[i];
    t = now() - t;
    if (t < best_t) best_t = t;
    t = now();
    for (size_t i = 0; i < rows; i++) {
      const float *x = b + (size_t)idx[i] * W;
      for (int k = 0; k < W; k++) acc[k] += x[k];
    }
    t = now() - t;
    if (t < best_g) best_g = t;
    t = now();
    for (size_t i = 0; i < rows; i++) {
      if (i + (size_t)pf < rows) {
        const char *q = (const char *)(b + (size_t)idx[i + (size_t)pf] * W);
        for (size_t o = 0; o < (size_t)W * sizeof(float); o += 64) __builtin_prefetch(q + o, 0, 3);
      }
      const float *x = b + (size_t)idx[i] * W;
      for (int k = 0; k < W; k++) acc[k] += x[k];
    }
    t = now() - t;
    if (t < best_p) best_p = t;
  }
  printf("triad %.1f GB/s  gather(%d-float rows) %.1f GB/s, with prefetch %d ahead %.1f GB/s"
         "  [check %g %g]\n",
         3.0 * 4.0 * (double)n / best_t / 1e9, W, 4.0 * (double)W * (double)rows / best_g / 1e9,
         pf, 4.0 * (double)W * (double)rows / best_p / 1e9, (double)a[n / 2], (double)acc[W / 2]);
  free(a), free(b), free(c), free(idx), free(acc);
  return 0;
}
