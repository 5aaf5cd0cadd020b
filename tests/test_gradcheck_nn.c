/* test_gradcheck_nn.c: central finite-difference checks (double) of every nn kernel's backward
 * and of a two-layer GAT encoder composed from them, on a small graph with ghost rows.
 * Prints the relative error of every parameter and input; serial (kernels are rank-local). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/nn.h"
#include "erase/rng.h"
#include "testutil.h"

#define GC_TOL 1e-6     /* bound on every normwise relative error */
#define GC_STEP 1e-6    /* h = GC_STEP * max(|v|, floor) */
#define KINK_MIN 1e-4   /* inputs of kinks (ReLU, LeakyReLU, |x|) must stay this far from 0 */
#define TEST_STREAM 900 /* rng stream private to this test */

/* ---- small graph: 7 owned rows, 3 ghost columns (7, 8, 9), row 3 has no neighbour --------- */
enum { N_OWN = 7, N_TOT = 10 };
static const int64_t g_indptr[N_OWN + 1] = {0, 3, 6, 8, 8, 11, 15, 18};
static const er_lidx g_indices[18] = {1, 2, 7, 0, 4, 8, 0, 5, 1, 6, 9, 2, 6, 7, 8, 4, 5, 9};
static const er_lgraph G = {N_OWN, N_TOT, g_indptr, g_indices};
/* The ghost rows mirror these owned rows (a one-rank stand-in for the halo exchange). */
static const int g_ghost_of[N_TOT - N_OWN] = {3, 5, 0};

static uint64_t rnd_ctr = 0;
/* uniform in [-1, 1) */
static double rnd(void) { return 2.0 * er_rng_uniform(12345, TEST_STREAM, 0, rnd_ctr++) - 1.0; }
static void fill(double *a, int64_t m) {
  for (int64_t e = 0; e < m; e++) a[e] = rnd();
}
/* uniform magnitude in [0.1, 1), random sign: away from the kinks at 0 */
static void fill_away(double *a, int64_t m) {
  for (int64_t e = 0; e < m; e++) {
    double u = rnd();
    a[e] = (u < 0 ? -1.0 : 1.0) * (0.1 + 0.9 * fabs(u));
  }
}
static double *zeros(int64_t m) { return calloc((size_t)(m ? m : 1), sizeof(double)); }
static double dotv(const double *a, const double *b, int64_t m) {
  double s = 0;
  for (int64_t e = 0; e < m; e++) s += a[e] * b[e];
  return s;
}
static double min_abs(const double *a, int64_t m) {
  double s = INFINITY;
  for (int64_t e = 0; e < m; e++)
    if (fabs(a[e]) < s) s = fabs(a[e]);
  return s;
}

/* Smallest |a_src . h_j + a_dst . h_i| over all edges and heads (the attention LeakyReLU kink). */
static double gat_min_absz(const double *h, const double *as, const double *ad, int H, int C) {
  double m = INFINITY;
  int64_t HC = (int64_t)H * C;
  for (int64_t i = 0; i < G.n_own; i++)
    for (int64_t p = G.indptr[i] - 1; p < G.indptr[i + 1]; p++) {
      int64_t j = p < G.indptr[i] ? i : G.indices[p];
      for (int k = 0; k < H; k++) {
        double z = dotv(as + k * C, h + j * HC + k * C, C) + dotv(ad + k * C, h + i * HC + k * C, C);
        if (fabs(z) < m) m = fabs(z);
      }
    }
  return m;
}

/* Rows whose attention logits take both signs: only there does s_dst (hence a_dst) matter, since
 * a softmax is invariant to a shift common to the whole row. */
static int gat_mixed_rows(const double *h, const double *as, const double *ad, int H, int C) {
  int mixed = 0;
  int64_t HC = (int64_t)H * C;
  for (int64_t i = 0; i < G.n_own; i++)
    for (int k = 0; k < H; k++) {
      int pos = 0, neg = 0;
      for (int64_t p = G.indptr[i] - 1; p < G.indptr[i + 1]; p++) {
        int64_t j = p < G.indptr[i] ? i : G.indices[p];
        double z = dotv(as + k * C, h + j * HC + k * C, C) + dotv(ad + k * C, h + i * HC + k * C, C);
        pos += z > 0;
        neg += z < 0;
      }
      mixed += pos && neg;
    }
  return mixed;
}

/* ---- the checker ------------------------------------------------------------------------- */
typedef double (*objective_fn)(void *ctx);

/* Compare the analytic gradient ga (m) of f with respect to p (m) with central differences. */
static void gradcheck(const char *name, objective_fn f, void *ctx, double *p, const double *ga,
                      int64_t m, double floor) {
  double num2 = 0, ana2 = 0, diff2 = 0, maxabs = 0;
  for (int64_t e = 0; e < m; e++) {
    double v = p[e], h = GC_STEP * (fabs(v) > floor ? fabs(v) : floor);
    p[e] = v + h;
    double fp = f(ctx);
    p[e] = v - h;
    double fm = f(ctx);
    p[e] = v;
    double gn = (fp - fm) / (2 * h);
    num2 += gn * gn;
    ana2 += ga[e] * ga[e];
    diff2 += (gn - ga[e]) * (gn - ga[e]);
    if (fabs(gn - ga[e]) > maxabs) maxabs = fabs(gn - ga[e]);
  }
  double den = sqrt(num2 > ana2 ? num2 : ana2);
  double rel = den > 0 ? sqrt(diff2) / den : sqrt(diff2);
  printf("  %-28s n=%3lld  |g|=%9.3e  rel err %9.3e  max abs %9.3e\n", name, (long long)m,
         sqrt(ana2), rel, maxabs);
  TEST_CHECK(rel < GC_TOL, "%s: relative error %.3e >= %.1e", name, rel, GC_TOL);
  TEST_CHECK(den > 0, "%s: gradient is identically zero, the check proves nothing", name);
}

/* ---- 1. linear ----------------------------------------------------------------------------- */
enum { LN = 7, LFI = 4, LFO = 5 };
typedef struct {
  double x[LN * LFI], W[LFI * LFO], R[LN * LFO], h[LN * LFO];
} lin_ctx;
static double lin_obj(void *v) {
  lin_ctx *c = v;
  er_linear_forward_d(c->h, c->x, c->W, LN, LFI, LFO);
  return dotv(c->h, c->R, LN * LFO);
}
static void check_linear(void) {
  printf("linear h = x W (n %d, fin %d, fout %d)\n", LN, LFI, LFO);
  lin_ctx c;
  fill(c.x, LN * LFI);
  fill(c.W, LFI * LFO);
  fill(c.R, LN * LFO);
  double dx[LN * LFI] = {0}, dW[LFI * LFO] = {0};
  TEST_OK(er_linear_backward_d(dx, dW, c.R, c.x, c.W, LN, LFI, LFO));
  gradcheck("linear dW", lin_obj, &c, c.W, dW, LFI * LFO, 1.0);
  gradcheck("linear dx", lin_obj, &c, c.x, dx, LN * LFI, 1.0);
}

/* ---- 2. GAT aggregation -------------------------------------------------------------------- */
enum { GH = 2, GCW = 3, GHC = GH * GCW };
typedef struct {
  double h[N_TOT * GHC], as[GHC], ad[GHC], b[GHC], R[N_OWN * GHC], out[N_OWN * GHC];
  er_gat_cache_d *cache;
} gat_ctx;
static double gat_obj(void *v) {
  gat_ctx *c = v;
  TEST_OK(er_gat_forward_d(c->out, c->cache, c->h, c->as, c->ad, c->b, &G, GH, GCW));
  return dotv(c->out, c->R, N_OWN * GHC);
}
static void check_gat(void) {
  printf("GAT aggregation (H %d, C %d, n_own %d, n_tot %d, nnz %lld)\n", GH, GCW, N_OWN, N_TOT,
         (long long)g_indptr[N_OWN]);
  gat_ctx c;
  fill(c.h, N_TOT * GHC);
  fill(c.as, GHC);
  fill(c.ad, GHC);
  fill(c.b, GHC);
  fill(c.R, N_OWN * GHC);
  c.cache = NULL;
  TEST_OK(er_gat_cache_create_d(&G, GH, GCW, &c.cache));
  if (!c.cache) return;
  double mz = gat_min_absz(c.h, c.as, c.ad, GH, GCW);
  printf("  min |attention logit| %.3e\n", mz);
  TEST_CHECK(mz > KINK_MIN, "attention logit %.3e too close to the LeakyReLU kink", mz);
  int mixed = gat_mixed_rows(c.h, c.as, c.ad, GH, GCW);
  printf("  (row, head) pairs with logits of both signs: %d of %d\n", mixed, N_OWN * GH);
  TEST_CHECK(mixed > 0, "no row has logits of both signs: da_dst would be zero");
  double dh[N_TOT * GHC] = {0}, das[GHC] = {0}, dad[GHC] = {0}, db[GHC] = {0};
  gat_obj(&c);
  TEST_OK(er_gat_backward_d(dh, das, dad, db, c.R, c.h, c.as, c.ad, c.cache, &G, GH, GCW));
  gradcheck("gat dh (owned rows)", gat_obj, &c, c.h, dh, N_OWN * GHC, 1.0);
  gradcheck("gat dh (ghost rows)", gat_obj, &c, c.h + N_OWN * GHC, dh + N_OWN * GHC,
            (N_TOT - N_OWN) * GHC, 1.0);
  gradcheck("gat da_src", gat_obj, &c, c.as, das, GHC, 1.0);
  gradcheck("gat da_dst", gat_obj, &c, c.ad, dad, GHC, 1.0);
  gradcheck("gat dbias", gat_obj, &c, c.b, db, GHC, 1.0);
  er_gat_cache_destroy_d(&c.cache);
}

/* ---- 3. elementwise and row kernels --------------------------------------------------------- */
enum { EN = 7, EF = 5, EM = EN * EF };
typedef struct {
  int kind; /* 0 leakyrelu, 1 relu, 2 l1norm, 3 dropout */
  int64_t n;
  double x[EM], R[EM], y[EM], norm[EN];
  int64_t gid[EN];
} elt_ctx;
static double elt_obj(void *v) {
  elt_ctx *c = v;
  int64_t m = c->n * EF;
  switch (c->kind) {
    case 0: er_leakyrelu_forward_d(c->y, c->x, 0.01, m); break;
    case 1: er_relu_forward_d(c->y, c->x, m); break;
    case 2: er_l1norm_forward_d(c->y, c->norm, c->x, c->n, EF); break;
    default: TEST_OK(er_dropout_forward_d(c->y, c->x, 7, 3, c->gid, 0.5, c->n, EF)); break;
  }
  return dotv(c->y, c->R, m);
}
static void check_elementwise(void) {
  static const char *names[] = {"leakyrelu(0.01) dx", "relu dx", "l1norm dx", "dropout(0.5) dx"};
  printf("elementwise / row kernels (n %d, F %d)\n", EN, EF);
  for (int kind = 0; kind < 4; kind++) {
    elt_ctx c;
    c.kind = kind;
    c.n = EN;
    fill_away(c.x, EM);
    fill(c.R, EM);
    for (int i = 0; i < EN; i++) c.gid[i] = 1000 + 37 * i;
    double dx[EM] = {0};
    elt_obj(&c);
    switch (kind) {
      case 0: er_leakyrelu_backward_d(dx, c.R, c.x, 0.01, EM); break;
      case 1: er_relu_backward_d(dx, c.R, c.x, EM); break;
      case 2: er_l1norm_backward_d(dx, c.R, c.y, c.norm, EN, EF); break;
      default: TEST_OK(er_dropout_backward_d(dx, c.R, 7, 3, c.gid, 0.5, EN, EF)); break;
    }
    gradcheck(names[kind], elt_obj, &c, c.x, dx, EM, 1.0);
  }
  /* rows whose L1 norm is below 1e-12: the clamp is constant, y = x / 1e-12 */
  elt_ctx c;
  c.kind = 2;
  c.n = 2;
  fill_away(c.x, 2 * EF);
  for (int e = 0; e < 2 * EF; e++) c.x[e] *= 1e-14;
  fill(c.R, 2 * EF);
  double dx[2 * EF] = {0};
  elt_obj(&c);
  TEST_CHECK(c.norm[0] < ER_L1_EPS && c.norm[1] < ER_L1_EPS, "rows are not below eps");
  er_l1norm_backward_d(dx, c.R, c.y, c.norm, 2, EF);
  gradcheck("l1norm dx (norm < 1e-12)", elt_obj, &c, c.x, dx, 2 * EF, 1e-16);
}

/* ---- 4. two-layer encoder --------------------------------------------------------------------
 * x -> linear W1 -> [halo] -> gat1 (H1, C1) -> leakyrelu 0.01 -> l1norm -> linear W2 -> [halo]
 *   -> gat2 (1, C2) -> l1norm -> relu -> out;  objective sum(out * R). */
enum { F0 = 5, H1 = 2, C1 = 3, HC1 = H1 * C1, H2 = 1, C2 = 4, HC2 = H2 * C2 };
typedef struct {
  double x[N_OWN * F0], W1[F0 * HC1], as1[HC1], ad1[HC1], b1[HC1];
  double W2[HC1 * HC2], as2[HC2], ad2[HC2], b2[HC2], R[N_OWN * HC2];
  /* activations */
  double h1[N_TOT * HC1], g1[N_OWN * HC1], a1[N_OWN * HC1], z1[N_OWN * HC1], n1[N_OWN];
  double h2[N_TOT * HC2], g2[N_OWN * HC2], z2[N_OWN * HC2], n2[N_OWN], out[N_OWN * HC2];
  er_gat_cache_d *c1, *c2;
} enc_ctx;

static void halo_forward(double *h, int64_t ncols) {
  for (int t = 0; t < N_TOT - N_OWN; t++)
    memcpy(h + (N_OWN + t) * ncols, h + g_ghost_of[t] * ncols, (size_t)ncols * sizeof(double));
}
static void halo_reverse(double *dh, int64_t ncols) {
  for (int t = 0; t < N_TOT - N_OWN; t++)
    for (int64_t q = 0; q < ncols; q++) dh[g_ghost_of[t] * ncols + q] += dh[(N_OWN + t) * ncols + q];
}

static double enc_obj(void *v) {
  enc_ctx *c = v;
  TEST_OK(er_linear_forward_d(c->h1, c->x, c->W1, N_OWN, F0, HC1));
  halo_forward(c->h1, HC1);
  TEST_OK(er_gat_forward_d(c->g1, c->c1, c->h1, c->as1, c->ad1, c->b1, &G, H1, C1));
  er_leakyrelu_forward_d(c->a1, c->g1, 0.01, N_OWN * HC1);
  er_l1norm_forward_d(c->z1, c->n1, c->a1, N_OWN, HC1);
  TEST_OK(er_linear_forward_d(c->h2, c->z1, c->W2, N_OWN, HC1, HC2));
  halo_forward(c->h2, HC2);
  TEST_OK(er_gat_forward_d(c->g2, c->c2, c->h2, c->as2, c->ad2, c->b2, &G, H2, C2));
  er_l1norm_forward_d(c->z2, c->n2, c->g2, N_OWN, HC2);
  er_relu_forward_d(c->out, c->z2, N_OWN * HC2);
  return dotv(c->out, c->R, N_OWN * HC2);
}

static void check_encoder(void) {
  printf("two-layer encoder (F %d -> GAT %dx%d -> GAT %dx%d, ghosts mirrored)\n", F0, H1, C1, H2,
         C2);
  enc_ctx *c = calloc(1, sizeof *c);
  fill(c->x, N_OWN * F0);
  fill(c->W1, F0 * HC1);
  fill(c->as1, HC1);
  fill(c->ad1, HC1);
  fill(c->b1, HC1);
  fill(c->W2, HC1 * HC2);
  fill(c->as2, HC2);
  fill(c->ad2, HC2);
  fill(c->b2, HC2);
  fill(c->R, N_OWN * HC2);
  /* Layer 2 sees L1-normalized inputs (|z1|_1 = 1): scale W2 so its logits are O(1), and let
   * the source scores vary more than the destination score so rows mix logit signs. */
  for (int e = 0; e < HC1 * HC2; e++) c->W2[e] *= 4.0;
  for (int e = 0; e < HC2; e++) {
    c->as2[e] *= 3.0;
    c->ad2[e] *= 0.3;
  }
  TEST_OK(er_gat_cache_create_d(&G, H1, C1, &c->c1));
  TEST_OK(er_gat_cache_create_d(&G, H2, C2, &c->c2));
  if (!c->c1 || !c->c2) goto done;
  /* Rows of h2 are alike (they come from L1-normalized rows), so a random a_src2 scores every
   * neighbour with the same sign and a_dst2 gets a zero gradient (the softmax is invariant to a
   * shift shared by the row). Make a_src2 orthogonal to the mean row of h2 so scores mix signs. */
  enc_obj(c);
  {
    double mean[HC2] = {0}, am = 0, mm = 0;
    for (int j = 0; j < N_TOT; j++)
      for (int q = 0; q < HC2; q++) mean[q] += c->h2[j * HC2 + q] / N_TOT;
    am = dotv(c->as2, mean, HC2);
    mm = dotv(mean, mean, HC2);
    for (int q = 0; q < HC2; q++) c->as2[q] -= am / mm * mean[q];
  }
  enc_obj(c);

  /* kinks stay away from the finite-difference steps */
  double kink[6] = {gat_min_absz(c->h1, c->as1, c->ad1, H1, C1), min_abs(c->g1, N_OWN * HC1),
                    min_abs(c->a1, N_OWN * HC1), gat_min_absz(c->h2, c->as2, c->ad2, H2, C2),
                    min_abs(c->g2, N_OWN * HC2), min_abs(c->z2, N_OWN * HC2)};
  static const char *kname[6] = {"gat1 logit", "leakyrelu in", "l1norm1 in", "gat2 logit",
                                 "l1norm2 in", "relu in"};
  for (int q = 0; q < 6; q++) {
    printf("  min |%s| %.3e\n", kname[q], kink[q]);
    TEST_CHECK(kink[q] > KINK_MIN, "%s %.3e too close to a kink", kname[q], kink[q]);
  }
  int mixed1 = gat_mixed_rows(c->h1, c->as1, c->ad1, H1, C1);
  int mixed2 = gat_mixed_rows(c->h2, c->as2, c->ad2, H2, C2);
  printf("  (row, head) pairs with logits of both signs: gat1 %d of %d, gat2 %d of %d\n", mixed1,
         N_OWN * H1, mixed2, N_OWN * H2);
  TEST_CHECK(mixed1 > 0 && mixed2 > 0, "a GAT layer has no row with logits of both signs");
  int pos = 0;
  for (int e = 0; e < N_OWN * HC2; e++) pos += c->z2[e] > 0;
  TEST_CHECK(pos > 0 && pos < N_OWN * HC2, "relu input all one sign (%d positive)", pos);

  /* backward, in exact reverse order */
  double dW1[F0 * HC1] = {0}, das1[HC1] = {0}, dad1[HC1] = {0}, db1[HC1] = {0};
  double dW2[HC1 * HC2] = {0}, das2[HC2] = {0}, dad2[HC2] = {0}, db2[HC2] = {0};
  double dx[N_OWN * F0] = {0};
  double *dz2 = zeros(N_OWN * HC2), *dg2 = zeros(N_OWN * HC2), *dh2 = zeros(N_TOT * HC2);
  double *dz1 = zeros(N_OWN * HC1), *da1 = zeros(N_OWN * HC1), *dg1 = zeros(N_OWN * HC1);
  double *dh1 = zeros(N_TOT * HC1);
  er_relu_backward_d(dz2, c->R, c->z2, N_OWN * HC2);
  er_l1norm_backward_d(dg2, dz2, c->z2, c->n2, N_OWN, HC2);
  TEST_OK(er_gat_backward_d(dh2, das2, dad2, db2, dg2, c->h2, c->as2, c->ad2, c->c2, &G, H2, C2));
  halo_reverse(dh2, HC2);
  TEST_OK(er_linear_backward_d(dz1, dW2, dh2, c->z1, c->W2, N_OWN, HC1, HC2));
  er_l1norm_backward_d(da1, dz1, c->z1, c->n1, N_OWN, HC1);
  er_leakyrelu_backward_d(dg1, da1, c->g1, 0.01, N_OWN * HC1);
  TEST_OK(er_gat_backward_d(dh1, das1, dad1, db1, dg1, c->h1, c->as1, c->ad1, c->c1, &G, H1, C1));
  halo_reverse(dh1, HC1);
  TEST_OK(er_linear_backward_d(dx, dW1, dh1, c->x, c->W1, N_OWN, F0, HC1));

  gradcheck("encoder dx", enc_obj, c, c->x, dx, N_OWN * F0, 1.0);
  gradcheck("encoder dW1", enc_obj, c, c->W1, dW1, F0 * HC1, 1.0);
  gradcheck("encoder da_src1", enc_obj, c, c->as1, das1, HC1, 1.0);
  gradcheck("encoder da_dst1", enc_obj, c, c->ad1, dad1, HC1, 1.0);
  gradcheck("encoder dbias1", enc_obj, c, c->b1, db1, HC1, 1.0);
  gradcheck("encoder dW2", enc_obj, c, c->W2, dW2, HC1 * HC2, 1.0);
  gradcheck("encoder da_src2", enc_obj, c, c->as2, das2, HC2, 1.0);
  gradcheck("encoder da_dst2", enc_obj, c, c->ad2, dad2, HC2, 1.0);
  gradcheck("encoder dbias2", enc_obj, c, c->b2, db2, HC2, 1.0);
  free(dz2);
  free(dg2);
  free(dh2);
  free(dz1);
  free(da1);
  free(dg1);
  free(dh1);
done:
  er_gat_cache_destroy_d(&c->c1);
  er_gat_cache_destroy_d(&c->c2);
  free(c);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  printf("finite-difference gradient checks, double, step %.0e * max(|v|, 1), bound %.0e\n",
         GC_STEP, GC_TOL);
  check_linear();
  check_gat();
  check_elementwise();
  check_encoder();
  return er_test_finish("test_gradcheck_nn");
}
