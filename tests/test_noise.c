/* test_noise.c: label noise is a pure function of (seed, gid, label): identical for any row
 * order and rank count; flip rates, flip targets, ratio 0, non-training / unlabelled rows and
 * bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/noise.h"
#include "testutil.h"

#define N 100000
#define K 7

static int32_t label_of(int64_t g) { return g % 97 == 0 ? -1 : (int32_t)((g * 7919 + 13) % K); }
static uint8_t train_of(int64_t g) { return g % 10 != 3; }

/* Serial run over all N nodes in natural order. */
static void full_run(er_noise_type type, double r, uint64_t seed, int32_t *clean, int64_t *gid,
                     uint8_t *tr, int32_t *noisy) {
  for (int64_t g = 0; g < N; g++) clean[g] = label_of(g), gid[g] = g, tr[g] = train_of(g);
  TEST_OK(er_noise_apply(clean, gid, tr, N, K, type, r, seed, noisy));
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int32_t *clean = malloc(N * sizeof *clean), *noisy = malloc(N * sizeof *noisy);
  int32_t *other = malloc(N * sizeof *other);
  int64_t *gid = malloc(N * sizeof *gid);
  uint8_t *tr = malloc(N);
  const er_noise_type types[2] = {ER_NOISE_ASYMM, ER_NOISE_SYMM};
  const double ratios[2] = {0.2, 0.45};

  for (int ti = 0; ti < 2; ti++) {
    for (int ri = 0; ri < 2; ri++) {
      er_noise_type type = types[ti];
      double r = ratios[ri];
      const uint64_t seed = 42 + ti;
      full_run(type, r, seed, clean, gid, tr, noisy);
      int32_t t[K];
      TEST_OK(er_noise_targets(K, seed, t));

      /* Flip rate, flip targets, untouched rows. */
      int64_t eligible = 0, flipped = 0, bad_target = 0, changed_other = 0;
      int64_t cnt[K][K];
      memset(cnt, 0, sizeof cnt);
      for (int64_t g = 0; g < N; g++) {
        if (clean[g] < 0 || !tr[g]) {
          changed_other += noisy[g] != clean[g];
          continue;
        }
        eligible++;
        TEST_CHECK(noisy[g] >= 0 && noisy[g] < K, "noisy label %d out of range", noisy[g]);
        if (noisy[g] == clean[g]) continue;
        flipped++;
        cnt[clean[g]][noisy[g]]++;
        if (type == ER_NOISE_ASYMM && noisy[g] != t[clean[g]]) bad_target++;
      }
      double rate = (double)flipped / (double)eligible;
      if (rank == 0)
        printf("%s r=%.2f: flip rate %.4f over %lld training labels\n", er_noise_types.names[type], r,
               rate, (long long)eligible);
      TEST_CHECK(fabs(rate - r) <= 0.01, "%s r=%g: flip rate %.4f", er_noise_types.names[type], r, rate);
      TEST_CHECK(changed_other == 0, "%lld non-training or unlabelled rows changed",
                 (long long)changed_other);
      TEST_CHECK(bad_target == 0, "%lld asymmetric flips went elsewhere than t(i)",
                 (long long)bad_target);
      if (type == ER_NOISE_SYMM) {
        /* Each class's flips spread evenly over the K-1 others: chi-square over the K(K-1)
         * cells, K(K-2) degrees of freedom; fail beyond dof + 6 sqrt(2 dof) (p < 1e-5). */
        double chi2 = 0;
        for (int c = 0; c < K; c++) {
          int64_t tot = 0;
          for (int o = 0; o < K; o++) tot += cnt[c][o];
          TEST_CHECK(cnt[c][c] == 0, "symmetric flip into the same class");
          for (int o = 0; o < K; o++) {
            if (o == c) continue;
            double ex = (double)tot / (K - 1), d = (double)cnt[c][o] - ex;
            chi2 += d * d / ex;
          }
        }
        const double dof = K * (K - 2), lim = dof + 6 * sqrt(2 * dof);
        if (rank == 0) printf("  symm spread: chi2 %.1f (dof %.0f, limit %.1f)\n", chi2, dof, lim);
        TEST_CHECK(chi2 < lim, "symmetric flips not uniform: chi2 %.1f > %.1f", chi2, lim);
      }

      /* Row order: reversed + interleaved permutation gives the same label per gid. */
      int64_t *perm_gid = malloc(N * sizeof *perm_gid);
      int32_t *perm_clean = malloc(N * sizeof *perm_clean);
      uint8_t *perm_tr = malloc(N);
      for (int64_t i = 0; i < N; i++) {
        int64_t g = (i * 7 + 3) % N; /* gcd(7, N) = 1: a permutation */
        perm_gid[i] = g, perm_clean[i] = clean[g], perm_tr[i] = tr[g];
      }
      TEST_OK(er_noise_apply(perm_clean, perm_gid, perm_tr, N, K, type, r, seed, other));
      int64_t mism = 0;
      for (int64_t i = 0; i < N; i++) mism += other[i] != noisy[perm_gid[i]];
      TEST_CHECK(mism == 0, "permuted rows: %lld labels differ", (long long)mism);

      /* Rank count: each rank corrupts a block of the permuted rows; gather and compare. */
      int64_t lo, hi;
      er_block_range(N, size, rank, &lo, &hi);
      int32_t *part = malloc((hi - lo + 1) * sizeof *part);
      TEST_OK(er_noise_apply(perm_clean + lo, perm_gid + lo, perm_tr + lo, hi - lo, K, type, r,
                             seed, part));
      int *counts = malloc(size * sizeof *counts), *displs = malloc(size * sizeof *displs);
      for (int q = 0; q < size; q++) {
        int64_t a, b;
        er_block_range(N, size, q, &a, &b);
        counts[q] = (int)(b - a), displs[q] = (int)a;
      }
      MPI_Gatherv(part, (int)(hi - lo), MPI_INT32_T, other, counts, displs, MPI_INT32_T, 0,
                  MPI_COMM_WORLD);
      if (rank == 0) {
        mism = 0;
        for (int64_t i = 0; i < N; i++) mism += other[i] != noisy[perm_gid[i]];
        TEST_CHECK(mism == 0, "%d ranks: %lld labels differ from the serial run", size,
                   (long long)mism);
      }
      free(part), free(counts), free(displs), free(perm_gid), free(perm_clean), free(perm_tr);

      /* In place gives the same; another seed gives a different corruption. */
      memcpy(other, clean, N * sizeof *other);
      TEST_OK(er_noise_apply(other, gid, tr, N, K, type, r, seed, other));
      TEST_CHECK(memcmp(other, noisy, N * sizeof *other) == 0, "in-place result differs");
      TEST_OK(er_noise_apply(clean, gid, tr, N, K, type, r, seed + 1000, other));
      TEST_CHECK(memcmp(other, noisy, N * sizeof *other) != 0, "seed has no effect");

      /* Ratio 0 and type none change nothing. */
      TEST_OK(er_noise_apply(clean, gid, tr, N, K, type, 0.0, seed, other));
      TEST_CHECK(memcmp(other, clean, N * sizeof *other) == 0, "ratio 0 changed labels");
      TEST_OK(er_noise_apply(clean, gid, tr, N, K, ER_NOISE_NONE, r, seed, other));
      TEST_CHECK(memcmp(other, clean, N * sizeof *other) == 0, "type none changed labels");
    }
  }

  /* is_train NULL: every labelled row is eligible. */
  TEST_OK(er_noise_apply(clean, gid, NULL, N, K, ER_NOISE_SYMM, 0.3, 7, other));
  int64_t nt_changed = 0;
  for (int64_t g = 0; g < N; g++) nt_changed += !tr[g] && other[g] != clean[g];
  TEST_CHECK(nt_changed > 0, "is_train = NULL should corrupt every labelled row");

  /* Asymmetric targets: never the class itself, all others reachable over seeds. */
  int seen[K][K];
  memset(seen, 0, sizeof seen);
  for (uint64_t s = 0; s < 300; s++) {
    int32_t t[K];
    TEST_OK(er_noise_targets(K, s, t));
    for (int c = 0; c < K; c++) {
      TEST_CHECK(t[c] >= 0 && t[c] < K && t[c] != c, "bad target t(%d) = %d", c, t[c]);
      if (t[c] >= 0 && t[c] < K) seen[c][t[c]]++;
    }
  }
  for (int c = 0; c < K; c++)
    for (int o = 0; o < K; o++)
      if (o != c) TEST_CHECK(seen[c][o] > 20, "target %d of class %d seen %d/300", o, c, seen[c][o]);
  int32_t t2[2];
  TEST_OK(er_noise_targets(2, 5, t2));
  TEST_CHECK(t2[0] == 1 && t2[1] == 0, "K = 2 targets must swap");

  /* Bad input. */
  const struct { double r; int k; er_noise_type ty; int32_t lab; const char *what; } bad[] = {
      {1.0, K, ER_NOISE_SYMM, 0, "ratio 1"},   {-0.1, K, ER_NOISE_SYMM, 0, "ratio < 0"},
      {NAN, K, ER_NOISE_ASYMM, 0, "ratio NaN"}, {0.1, 1, ER_NOISE_SYMM, 0, "K = 1"},
      {0.1, K, (er_noise_type)9, 0, "type 9"},  {0.1, K, ER_NOISE_SYMM, K, "label K"},
      {0.1, K, ER_NOISE_SYMM, -2, "label -2"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int32_t lab = bad[i].lab, out = 0;
    int64_t g = 5;
    er_error_clear();
    er_err e = er_noise_apply(&lab, &g, NULL, 1, bad[i].k, bad[i].ty, bad[i].r, 1, &out);
    TEST_CHECK(e == ER_ERR_INPUT, "%s: expected ER_ERR_INPUT, got %d", bad[i].what, e);
    if (rank == 0) printf("bad input (%s): %s\n", bad[i].what, er_error_message());
  }
  int ty;
  const er_enum_names *names = &er_noise_types;
  TEST_CHECK(er_parse_enum("symm", "--noise", names, &ty) == ER_OK && ty == ER_NOISE_SYMM,
             "parse symm");
  TEST_CHECK(er_parse_enum("asymm", "--noise", names, &ty) == ER_OK && ty == ER_NOISE_ASYMM,
             "parse asymm");
  TEST_CHECK(er_parse_enum("none", "--noise", names, &ty) == ER_OK && ty == ER_NOISE_NONE,
             "parse none");
  er_error_clear();
  TEST_CHECK(er_parse_enum("uniform", "--noise", names, &ty) == ER_ERR_INPUT,
             "parse rejects unknown names");
  /* Collective verdict: a bad label on the last rank only fails everywhere. */
  er_error_clear();
  int32_t lab = rank == size - 1 ? 99 : 1, out;
  int64_t g = rank;
  er_err e = er_agree(MPI_COMM_WORLD, er_noise_apply(&lab, &g, NULL, 1, K, ER_NOISE_SYMM, 0.2,
                                                     1, &out));
  TEST_CHECK(e == ER_ERR_INPUT, "agreed verdict %d", e);
  er_error_clear();

  free(clean), free(noisy), free(other), free(gid), free(tr);
  return er_test_finish("test_noise");
}
