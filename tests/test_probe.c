/* test_probe.c: the distributed linear probe. Default mode: agreement across rank counts
 * (COMM_SELF, pairs, world), small gradient at the solution, 100% accuracy on a separable
 * problem, one-class / empty-rank / max_iter edge cases and collective bad-input verdicts.
 * "--ref FILE" mode: compare with scikit-learn (tests/ref_probe.py) on three problems. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/probe.h"
#include "erase/rng.h"
#include "testutil.h"

static int rank_, size_;

/* Random problem: K0 classes used out of K, Gaussian clusters, rows L2-normalized. Row i of
 * the problem is addressed by i (rank-independent). */
static void make_problem(uint64_t seed, int64_t n, int d, int K, int K0, double spread,
                         float *X, int32_t *y) {
  for (int64_t i = 0; i < n; i++) {
    y[i] = (int32_t)er_rng_below(seed, 100, (uint64_t)i, 0, (uint64_t)K0) * (K / K0);
    for (int j = 0; j < d; j++) {
      double mean = er_rng_normal(seed, 101, (uint64_t)y[i], (uint64_t)j);
      X[i * d + j] = (float)(mean + spread * er_rng_normal(seed, 102, (uint64_t)i, (uint64_t)j));
    }
  }
  TEST_OK(er_rows_l2_normalize(X, X, n, d));
}

static double max_diff(const double *a, const double *b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; i++) {
    if (isinf(a[i]) || isinf(b[i])) {
      if (a[i] != b[i]) return INFINITY;
      continue;
    }
    if (!(fabs(a[i] - b[i]) <= m)) m = fabs(a[i] - b[i]);
  }
  return m;
}

/* Fit on comm with the block of rows this rank owns within comm. */
static er_err fit_blocks(MPI_Comm comm, const float *X, const int32_t *y, int64_t n, int d,
                         int K, int max_iter, double *W, er_probe_info *info) {
  int r, s;
  MPI_Comm_rank(comm, &r);
  MPI_Comm_size(comm, &s);
  int64_t lo, hi;
  er_block_range(n, s, r, &lo, &hi);
  return er_probe_fit(comm, X + lo * d, y + lo, hi - lo, d, K, 1.0, max_iter, W, info);
}

static void print_info(const char *what, const er_probe_info *in) {
  if (rank_ == 0)
    printf("%-28s iters %3d evals %3d ending %d status %d present %d loss %.10g |g|inf %.2e\n",
           what, in->iterations, in->evaluations, (int)in->ending, in->lbfgs_status,
           in->n_present, in->loss, in->grad_inf);
}

//---------------------------------------------------------------------------------------------
static void test_rank_agreement(void) {
  const int64_t n = 700;
  const int d = 24, K = 6, nw = K * (d + 1);
  float *X = malloc(n * d * sizeof *X);
  int32_t *y = malloc(n * sizeof *y);
  double *W1 = malloc(nw * sizeof *W1), *W2 = malloc(nw * sizeof *W2), *Ww = malloc(nw * sizeof *Ww);
  double *G = malloc(nw * sizeof *G);
  /* classes 0, 2, 4 used? no: K0 = 5 of K = 6 -> class 5 absent (stride K/K0 = 1) */
  make_problem(7, n, d, K, 5, 1.2, X, y);
  er_probe_info i1, i2, iw;
  TEST_OK(fit_blocks(MPI_COMM_SELF, X, y, n, d, K, 1000, W1, &i1));
  print_info("1 rank (COMM_SELF):", &i1);
  MPI_Comm pair;
  MPI_Comm_split(MPI_COMM_WORLD, rank_ / 2, rank_, &pair);
  TEST_OK(fit_blocks(pair, X, y, n, d, K, 1000, W2, &i2));
  print_info("pairs of ranks:", &i2);
  MPI_Comm_free(&pair);
  TEST_OK(fit_blocks(MPI_COMM_WORLD, X, y, n, d, K, 1000, Ww, &iw));
  print_info("all ranks:", &iw);
  double d12 = max_diff(W1, W2, nw), d1w = max_diff(W1, Ww, nw);
  if (rank_ == 0) printf("W max diff: 1 vs pair %.3g, 1 vs %d ranks %.3g\n", d12, size_, d1w);
  TEST_CHECK(d12 <= 1e-5 && d1w <= 1e-5, "W differs across rank counts: %g %g", d12, d1w);
  TEST_CHECK(i1.n_present == 5 && iw.n_present == 5, "present classes %d", iw.n_present);
  TEST_CHECK(isinf(Ww[5 * (d + 1) + d]) && Ww[5 * (d + 1) + d] < 0, "absent class not masked");
  TEST_CHECK(fabs(i1.loss - iw.loss) <= 1e-9 * i1.loss, "loss %.12g vs %.12g", i1.loss, iw.loss);

  /* Every rank holds the same W (bitwise). */
  double *W0 = malloc(nw * sizeof *W0);
  memcpy(W0, Ww, nw * sizeof *W0);
  MPI_Bcast(W0, nw, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  TEST_CHECK(memcmp(W0, Ww, nw * sizeof *W0) == 0, "W differs between ranks of one fit");

  /* Gradient at the solution, independently evaluated. */
  int64_t lo, hi;
  er_block_range(n, size_, rank_, &lo, &hi);
  double f, ginf = 0;
  TEST_OK(er_probe_objective(MPI_COMM_WORLD, Ww, X + lo * d, y + lo, hi - lo, d, K, 1.0, &f, G));
  for (int k = 0; k < nw; k++) ginf = fmax(ginf, fabs(G[k]));
  if (rank_ == 0) printf("objective at solution %.10g, max|grad| %.3g\n", f, ginf);
  TEST_CHECK(fabs(f - iw.loss) <= 1e-12 * f, "objective %.15g vs info %.15g", f, iw.loss);
  /* scipy's stopping rule: max|g| <= 1e-4, or a relative reduction of f below 2.2e-9 (which
   * can leave max|g| a few times 1e-4 on this problem). */
  TEST_CHECK(iw.ending == ER_PROBE_END_GTOL || iw.ending == ER_PROBE_END_FTOL, "ending %d",
             (int)iw.ending);
  TEST_CHECK(ginf <= (iw.ending == ER_PROBE_END_GTOL ? 1e-4 : 1e-3),
             "gradient at the solution %.3g", ginf);
  TEST_CHECK(fabs(ginf - iw.grad_inf) <= 1e-12, "info grad %.3g vs %.3g", iw.grad_inf, ginf);
  /* A perturbed W has a larger objective (it is a minimum). */
  Ww[3] += 1e-2;
  double f2;
  TEST_OK(er_probe_objective(MPI_COMM_WORLD, Ww, X + lo * d, y + lo, hi - lo, d, K, 1.0, &f2,
                             NULL));
  TEST_CHECK(f2 > f, "perturbation lowered the objective");
  free(X), free(y), free(W1), free(W2), free(Ww), free(W0), free(G);
}

//---------------------------------------------------------------------------------------------
static void test_separable(void) {
  const int64_t n = 400;
  const int d = 8, K = 4, nw = K * (d + 1);
  float *X = malloc(n * d * sizeof *X);
  int32_t *y = malloc(n * sizeof *y), *pred = malloc(n * sizeof *pred);
  double *W = malloc(nw * sizeof *W);
  for (int64_t i = 0; i < n; i++) { /* class c: direction e_c plus small noise */
    y[i] = (int32_t)(i % K);
    for (int j = 0; j < d; j++)
      X[i * d + j] = (float)((j == y[i] ? 3.0 : 0.0) + 0.3 * er_rng_normal(5, 1, i, j));
  }
  TEST_OK(er_rows_l2_normalize(X, X, n, d));
  const int64_t ntr = n / 2; /* first half trains, second half tests */
  er_probe_info in;
  TEST_OK(fit_blocks(MPI_COMM_WORLD, X, y, ntr, d, K, 1000, W, &in));
  print_info("separable:", &in);
  TEST_OK(er_probe_predict(W, X, n, d, K, pred));
  int64_t ok_tr = 0, ok_te = 0;
  for (int64_t i = 0; i < n; i++) *(i < ntr ? &ok_tr : &ok_te) += pred[i] == y[i];
  if (rank_ == 0) printf("separable: train %lld/%lld, test %lld/%lld correct\n",
                         (long long)ok_tr, (long long)ntr, (long long)ok_te, (long long)(n - ntr));
  TEST_CHECK(ok_tr == ntr && ok_te == n - ntr, "separable problem not 100%% accurate");
  /* Distributed accuracy helper agrees (test half, masked by a flag). */
  int64_t lo, hi;
  er_block_range(n, size_, rank_, &lo, &hi);
  uint8_t *mask = malloc(n);
  for (int64_t i = 0; i < n; i++) mask[i] = i >= ntr;
  double acc;
  TEST_OK(er_probe_accuracy(MPI_COMM_WORLD, W, X + lo * d, y + lo, mask + lo, hi - lo, d, K, &acc));
  TEST_CHECK(acc == 1.0, "accuracy helper %g", acc);
  y[n - 1] = (y[n - 1] + 1) % K; /* one wrong label among the 200 test rows */
  TEST_OK(er_probe_accuracy(MPI_COMM_WORLD, W, X + lo * d, y + lo, mask + lo, hi - lo, d, K, &acc));
  TEST_CHECK(fabs(acc - 199.0 / 200.0) < 1e-12, "accuracy helper %g", acc);
  free(X), free(y), free(pred), free(W), free(mask);
}

//---------------------------------------------------------------------------------------------
static void test_edges(void) {
  const int64_t n = 90;
  const int d = 5, K = 3, nw = K * (d + 1);
  float *X = malloc(n * d * sizeof *X);
  int32_t *y = malloc(n * sizeof *y), *pred = malloc(n * sizeof *pred);
  double *W = malloc(nw * sizeof *W), *Wa = malloc(nw * sizeof *Wa);
  make_problem(3, n, d, K, K, 1.0, X, y);
  er_probe_info in;

  /* All rows on rank 0 (others empty) == blocks. */
  TEST_OK(fit_blocks(MPI_COMM_WORLD, X, y, n, d, K, 1000, W, &in));
  TEST_OK(er_probe_fit(MPI_COMM_WORLD, X, y, rank_ == 0 ? n : 0, d, K, 1.0, 1000, Wa, &in));
  TEST_CHECK(max_diff(W, Wa, nw) <= 1e-6, "empty ranks change W by %g", max_diff(W, Wa, nw));

  /* max_iter stops exactly there. */
  TEST_OK(fit_blocks(MPI_COMM_WORLD, X, y, n, d, K, 2, Wa, &in));
  TEST_CHECK(in.iterations == 2 && in.ending == ER_PROBE_END_MAXITER, "max_iter 2: %d iters, "
             "ending %d", in.iterations, (int)in.ending);

  /* One present class: constant predictor. */
  for (int64_t i = 0; i < n; i++) y[i] = 1;
  TEST_OK(fit_blocks(MPI_COMM_WORLD, X, y, n, d, K, 1000, W, &in));
  TEST_CHECK(in.n_present == 1 && in.ending == ER_PROBE_END_TRIVIAL, "one class: present %d",
             in.n_present);
  TEST_OK(er_probe_predict(W, X, n, d, K, pred));
  int64_t ones = 0;
  for (int64_t i = 0; i < n; i++) ones += pred[i] == 1;
  TEST_CHECK(ones == n, "one class: %lld of %lld predicted as it", (long long)ones, (long long)n);

  /* Bad input, agreed on every rank. */
  int64_t lo, hi;
  er_block_range(n, size_, rank_, &lo, &hi);
  const int64_t nl = hi - lo;
  er_error_clear();
  y[lo] = (rank_ == size_ - 1) ? K : 0; /* bad label on the last rank only */
  er_err e = er_probe_fit(MPI_COMM_WORLD, X + lo * d, y + lo, nl, d, K, 1.0, 100, W, NULL);
  TEST_CHECK(e == ER_ERR_INPUT, "label K: got %d", e);
  if (rank_ == 0) printf("bad label: %s\n", er_error_message());
  y[lo] = 0;
  er_error_clear();
  e = er_probe_fit(MPI_COMM_WORLD, X + lo * d, y + lo, nl, d, K, 0.0, 100, W, NULL);
  TEST_CHECK(e == ER_ERR_INPUT, "C = 0: got %d", e);
  er_error_clear();
  e = er_probe_fit(MPI_COMM_WORLD, X + lo * d, y + lo, nl, d, 1, 1.0, 100, W, NULL);
  TEST_CHECK(e == ER_ERR_INPUT, "K = 1: got %d", e);
  er_error_clear();
  e = er_probe_fit(MPI_COMM_WORLD, X + lo * d, y + lo, 0, d, K, 1.0, 100, W, NULL);
  TEST_CHECK(e == ER_ERR_INPUT, "no rows anywhere: got %d", e);
  if (rank_ == 0) printf("no rows: %s\n", er_error_message());
  er_error_clear();
  float keep = X[lo * d];
  if (rank_ == 0) X[lo * d] = NAN;
  e = er_probe_fit(MPI_COMM_WORLD, X + lo * d, y + lo, nl, d, K, 1.0, 100, W, NULL);
  TEST_CHECK(e == ER_ERR_NUM, "NaN embedding: got %d", e);
  if (rank_ == 0) printf("NaN: %s\n", er_error_message());
  X[lo * d] = keep;
  er_error_clear();
  e = er_probe_fit(MPI_COMM_WORLD, X + lo * d, y + lo, nl, d, K, rank_ == 0 ? 1.0 : 2.0, 100,
                   W, NULL);
  TEST_CHECK(size_ == 1 || e == ER_ERR_INPUT, "C differing between ranks: got %d", e);
  er_error_clear();

  /* Normalization: unit rows, zero rows stay zero. */
  float r[6] = {3, 4, 0, 0, 0, 0}, o[6];
  TEST_OK(er_rows_l2_normalize(o, r, 2, 3));
  TEST_CHECK(o[0] == 0.6f && o[1] == 0.8f && o[2] == 0 && o[3] == 0 && o[5] == 0, "normalize");
  free(X), free(y), free(pred), free(W), free(Wa);
}

//---------------------------------------------------------------------------------------------
static int read_exact(FILE *f, void *buf, size_t bytes) { return fread(buf, 1, bytes, f) == bytes; }

static int test_reference(const char *path) {
  FILE *f = fopen(path, "rb");
  TEST_CHECK(f != NULL, "cannot open reference %s (did the probe_ref fixture run?)", path);
  if (!f) return 0;
  char magic[4];
  TEST_CHECK(read_exact(f, magic, 4), "empty reference");
  if (memcmp(magic, "SKIP", 4) == 0) {
    char why[256] = {0};
    size_t got = fread(why, 1, sizeof why - 1, f);
    (void)got;
    if (rank_ == 0) printf("SKIP: scikit-learn unavailable for the reference: %s\n", why);
    fclose(f);
    return 77;
  }
  TEST_CHECK(memcmp(magic, "PROB", 4) == 0, "bad reference magic");
  int64_t np = 0;
  TEST_CHECK(read_exact(f, &np, 8) && np == 3, "reference has %lld problems", (long long)np);
  for (int p = 0; p < np; p++) {
    int64_t h[5];
    double skl_loss;
    if (!read_exact(f, h, sizeof h) || !read_exact(f, &skl_loss, 8)) {
      TEST_CHECK(0, "short reference (problem %d)", p);
      break;
    }
    const int64_t n = h[0], nt = h[1];
    const int d = (int)h[2], K = (int)h[3], skl_iter = (int)h[4], nw = K * (d + 1);
    float *X = malloc(n * d * 4), *Xt = malloc(nt * d * 4), *raw = malloc(n * d * 4);
    int32_t *y = malloc(n * 4), *yt = malloc(nt * 4), *sp = malloc(n * 4), *spt = malloc(nt * 4);
    int32_t *pr = malloc(n * 4), *prt = malloc(nt * 4);
    double *Ws = malloc(nw * 8), *W = malloc(nw * 8), *G = malloc(nw * 8);
    float *Xn = malloc(n * d * 4);
    int ok = read_exact(f, X, n * d * 4) && read_exact(f, y, n * 4) &&
             read_exact(f, Xt, nt * d * 4) && read_exact(f, yt, nt * 4) &&
             read_exact(f, Ws, nw * 8) && read_exact(f, sp, n * 4) && read_exact(f, spt, nt * 4) &&
             read_exact(f, raw, n * d * 4);
    TEST_CHECK(ok, "short reference (problem %d)", p);
    if (ok) {
      /* Our normalization of the raw rows vs sklearn.preprocessing.normalize. */
      TEST_OK(er_rows_l2_normalize(Xn, raw, n, d));
      double nd = 0;
      for (int64_t i = 0; i < n * d; i++) nd = fmax(nd, fabs((double)Xn[i] - X[i]));
      TEST_CHECK(nd <= 1e-7, "normalize differs from sklearn by %g", nd);

      int64_t lo, hi;
      er_block_range(n, size_, rank_, &lo, &hi);
      er_probe_info in;
      TEST_OK(er_probe_fit(MPI_COMM_WORLD, X + lo * d, y + lo, hi - lo, d, K, 1.0, 1000, W, &in));
      TEST_OK(er_probe_predict(W, X, n, d, K, pr));
      TEST_OK(er_probe_predict(W, Xt, nt, d, K, prt));
      int64_t agree = 0, acc_us = 0, acc_sk = 0;
      for (int64_t i = 0; i < n; i++) agree += pr[i] == sp[i];
      for (int64_t i = 0; i < nt; i++) {
        agree += prt[i] == spt[i];
        acc_us += prt[i] == yt[i], acc_sk += spt[i] == yt[i];
      }
      const double agr = (double)agree / (double)(n + nt);
      const double rel = fabs(in.loss - skl_loss) / skl_loss;
      /* sklearn's solution under our objective (C/2 for the binary problem, see probe.h). */
      double fs, gs = 0;
      TEST_OK(er_probe_objective(MPI_COMM_WORLD, Ws, X + lo * d, y + lo, hi - lo, d, K,
                                 in.n_present == 2 ? 0.5 : 1.0, &fs, G));
      for (int k = 0; k < nw; k++) gs = fmax(gs, fabs(G[k]));
      if (rank_ == 0)
        printf("problem %d (n=%lld d=%d K=%d present=%d): ours %d iters loss %.10g |g| %.1e; "
               "sklearn %d iters loss %.10g |g| %.1e; rel loss diff %.2e; W max diff %.2e; "
               "prediction agreement %.4f; test acc ours %.4f sklearn %.4f\n",
               p, (long long)n, d, K, in.n_present, in.iterations, in.loss, in.grad_inf,
               skl_iter, skl_loss, gs, rel, max_diff(W, Ws, nw), agr,
               (double)acc_us / nt, (double)acc_sk / nt);
      TEST_CHECK(fabs(fs - skl_loss) <= 1e-9 * skl_loss, "objective of sklearn's W %.12g vs %.12g",
                 fs, skl_loss);
      TEST_CHECK(rel <= 1e-4, "problem %d: loss %.10g vs sklearn %.10g", p, in.loss, skl_loss);
      TEST_CHECK(agr >= 0.99, "problem %d: prediction agreement %.4f", p, agr);
      TEST_CHECK(in.loss <= skl_loss * (1 + 1e-6), "problem %d: worse optimum than sklearn", p);
    }
    free(X), free(Xt), free(raw), free(y), free(yt), free(sp), free(spt), free(pr), free(prt);
    free(Ws), free(W), free(G), free(Xn);
  }
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (argc >= 2 && strcmp(argv[1], "--ref") == 0) {
    if (argc < 3) {
      if (rank_ == 0) printf("SKIP: no reference file (no /usr/bin/python3)\n");
      MPI_Finalize();
      return 77;
    }
    if (test_reference(argv[2]) == 77) {
      MPI_Finalize();
      return 77;
    }
    return er_test_finish("test_probe --ref");
  }
  test_rank_agreement();
  test_separable();
  test_edges();
  return er_test_finish("test_probe");
}
