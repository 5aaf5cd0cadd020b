/* bench_gemm.c: the sgemm rate behind the epoch floor, measured on the shapes one training rank
 * runs per epoch at the reference widths (F = 128, 8 x 32 heads, d = 512), with the OpenBLAS
 * kernels this process loaded (OPENBLAS_CORETYPE is honoured, never changed). Every buffer is
 * touched before timing; each shape runs REPS times and its best time counts. Prints one line per
 * shape and a "RATE" line: all shapes' flops over all shapes' time, weighted as in an epoch
 * (two layer-1 products, three layer-2 products, the MCR² Grams and gradient in 256-row
 * blocks as src/loss/mcr2.c forms them; the evaluation forward, which runs on a subset of rows,
 * is left out). Run one copy alone and two at once (bench_gemm.sh):
 * the floor uses the rate each of two concurrent ranks gets. Not a test.
 * Usage: bench_gemm [ROWS per rank (500000)] [REPS (3)] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *fill(size_t n, float scale) {
  float *p = malloc(n * sizeof *p);
  if (!p) {
    fprintf(stderr, "bench_gemm: out of memory (%zu floats)\n", n);
    exit(1);
  }
  for (size_t i = 0; i < n; i++) p[i] = scale * (float)((i * 2654435761u) % 1000) * 1e-3f;
  return p;
}

enum { L1, L2F, L2W, L2X, GRAM, GRAD, NSHAPE };
static const char *names[NSHAPE] = {"layer1 x W1 (n x 128 x 256)", "layer2 u W2 (n x 256 x 512)",
                                    "layer2 dW2 = u^T do (256 x n x 512)",
                                    "layer2 du = do W2^T (n x 512 x 256)",
                                    "MCR2 Gram ssyrk (256-row blocks, d 512)",
                                    "MCR2 gradient ssymm (256-row blocks, d 512)"};

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 500000;
  int reps = argc > 2 ? atoi(argv[2]) : 3;
  if (n < 256 || reps < 1) {
    fprintf(stderr, "usage: bench_gemm [ROWS >= 256] [REPS >= 1]\n");
    return 2;
  }
  const int F = 128, Hd = 256, d = 512, B = 256;
  float *x = fill((size_t)n * F, 1), *W1 = fill((size_t)F * Hd, 0.01f);
  float *u = fill((size_t)n * Hd, 1), *W2 = fill((size_t)Hd * d, 0.01f);
  float *o = fill((size_t)n * d, 1), *h = fill((size_t)n * Hd, 1), *dW = fill((size_t)Hd * d, 0);
  float *S = fill((size_t)d * d, 0.01f), *G = fill((size_t)d * d, 0), *blk = fill((size_t)B * d, 0);
  double flops[NSHAPE] = {2.0 * n * F * Hd, 2.0 * n * Hd * d, 2.0 * n * Hd * d, 2.0 * n * Hd * d,
                          (double)(n / B) * B * d * (d + 1.0), 2.0 * (n / B) * B * d * d};
  /* per epoch on one rank: layer 1 in the training forward and dW1, layer 2's three products,
   * the Grams and the gradient once (the evaluation forward runs on a subset, left out) */
  const double per_epoch[NSHAPE] = {2, 1, 1, 1, 1, 1};
  double best[NSHAPE];
  for (int s = 0; s < NSHAPE; s++) {
    best[s] = 1e30;
    for (int r = 0; r < reps; r++) {
      double t0 = now();
      switch (s) {
      case L1:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, Hd, F, 1, x, F, W1, Hd, 0,
                    h, Hd);
        break;
      case L2F:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, d, Hd, 1, u, Hd, W2, d, 0,
                    o, d);
        break;
      case L2W:
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Hd, d, (int)n, 1, u, Hd, o, d, 0,
                    dW, d);
        break;
      case L2X:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, Hd, d, 1, o, d, W2, d, 0, u,
                    Hd);
        break;
      case GRAM: /* rows copied into a block first, as the loss gathers them by class */
        for (long b = 0; b + B <= n; b += B) {
          memcpy(blk, o + (size_t)b * d, (size_t)B * d * sizeof *blk);
          cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, d, B, 1, blk, d, 0, G, d);
        }
        break;
      case GRAD:
        for (long b = 0; b + B <= n; b += B) {
          memcpy(blk, o + (size_t)b * d, (size_t)B * d * sizeof *blk);
          cblas_ssymm(CblasRowMajor, CblasRight, CblasUpper, B, d, 1, S, d, blk, d, 0,
                      o + (size_t)b * d, d);
        }
        break;
      }
      double t = now() - t0;
      if (t < best[s]) best[s] = t;
    }
  }
  const char *core = openblas_get_corename(), *env = getenv("OPENBLAS_CORETYPE");
  printf("kernels: OpenBLAS %s (OPENBLAS_CORETYPE=%s), rows %ld, best of %d\n",
         core ? core : "?", env ? env : "unset", n, reps);
  double ft = 0, tt = 0;
  for (int s = 0; s < NSHAPE; s++) {
    printf("  %-45s %7.1f GF/s\n", names[s], flops[s] / best[s] / 1e9);
    ft += per_epoch[s] * flops[s];
    tt += per_epoch[s] * best[s];
  }
  printf("RATE %.1f GF/s (epoch mix: %.0f GF in %.2f s)\n", ft / tt / 1e9, ft / 1e9, tt);
  free(x), free(W1), free(u), free(W2), free(o), free(h), free(dW), free(S), free(G), free(blk);
  return 0;
}
