/* test_nn_kernels.c: the nn kernels against their _ref twins (float and double), the split-phase
 * GAT (gather / rows / sources passes) against the whole one, attention normalization, dropout
 * mask properties, Glorot statistics, feature/L1 normalization values, input validation. Serial. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/nn.h"
#include "erase/rng.h"
#include "testutil.h"

#define TEST_STREAM 901
#define TOL_F 1e-5
#define TOL_D 1e-12

static uint64_t rnd_ctr = 0;
static double rnd(void) { return 2.0 * er_rng_uniform(777, TEST_STREAM, 0, rnd_ctr++) - 1.0; }

/* ---- random local graph with ghost columns ------------------------------------------------ */
typedef struct {
  er_lgraph g;
  int64_t *indptr;
  er_lidx *indices;
  er_lidx *interior, *boundary; /* rows without / with a ghost neighbour */
  int64_t n_interior, n_boundary;
} tgraph;

/* Row i gets up to 2*avg distinct neighbours != i drawn from [0, n_tot), sorted; every 11th row
 * has none (only its self loop). */
static void tgraph_make(tgraph *t, int64_t n_own, int64_t n_tot, int avg) {
  t->indptr = malloc((size_t)(n_own + 1) * sizeof(int64_t));
  t->indices = malloc((size_t)n_own * 2 * avg * sizeof(er_lidx));
  t->interior = malloc((size_t)n_own * sizeof(er_lidx));
  t->boundary = malloc((size_t)n_own * sizeof(er_lidx));
  char *seen = calloc((size_t)n_tot, 1);
  int64_t nnz = 0;
  t->n_interior = t->n_boundary = 0;
  t->indptr[0] = 0;
  for (int64_t i = 0; i < n_own; i++) {
    int deg = i % 11 == 5 ? 0 : (int)((rnd() + 1.0) * avg);
    int64_t p0 = nnz;
    for (int d = 0; d < deg; d++) {
      int64_t j = (int64_t)((rnd() + 1.0) * 0.5 * (double)n_tot);
      if (j >= n_tot) j = n_tot - 1;
      if (j == i || seen[j]) continue;
      seen[j] = 1;
      t->indices[nnz++] = (er_lidx)j;
    }
    /* sort ascending (insertion sort, rows are short) and clear the marks */
    for (int64_t p = p0 + 1; p < nnz; p++)
      for (int64_t q = p; q > p0 && t->indices[q - 1] > t->indices[q]; q--) {
        er_lidx tmp = t->indices[q];
        t->indices[q] = t->indices[q - 1];
        t->indices[q - 1] = tmp;
      }
    int ghost = 0;
    for (int64_t p = p0; p < nnz; p++) {
      seen[t->indices[p]] = 0;
      ghost |= t->indices[p] >= n_own;
    }
    if (ghost)
      t->boundary[t->n_boundary++] = (er_lidx)i;
    else
      t->interior[t->n_interior++] = (er_lidx)i;
    t->indptr[i + 1] = nnz;
  }
  free(seen);
  t->g = (er_lgraph){n_own, n_tot, t->indptr, t->indices};
}
static void tgraph_free(tgraph *t) {
  free(t->indptr);
  free(t->indices);
  free(t->interior);
  free(t->boundary);
}

/* ---- comparisons ------------------------------------------------------------------------- */
static double relerr_d(const double *a, const double *b, int64_t m) {
  double d = 0, n = 0;
  for (int64_t e = 0; e < m; e++) {
    d += (a[e] - b[e]) * (a[e] - b[e]);
    n += b[e] * b[e];
  }
  return n > 0 ? sqrt(d / n) : sqrt(d);
}
static double relerr_f(const float *a, const float *b, int64_t m) {
  double d = 0, n = 0;
  for (int64_t e = 0; e < m; e++) {
    d += ((double)a[e] - b[e]) * ((double)a[e] - b[e]);
    n += (double)b[e] * b[e];
  }
  return n > 0 ? sqrt(d / n) : sqrt(d);
}
static void report(const char *what, double rel, double tol) {
  printf("  %-44s rel err %9.3e (bound %.0e)\n", what, rel, tol);
  TEST_CHECK(rel < tol, "%s: relative error %.3e >= %.0e", what, rel, tol);
}

/* ---- GAT fast vs ref, float and double ------------------------------------------------------ */
typedef struct {
  int64_t n_own, n_tot;
  int avg, H, C;
} gat_case;

static void gat_fast_vs_ref(const gat_case *gc) {
  tgraph t;
  tgraph_make(&t, gc->n_own, gc->n_tot, gc->avg);
  const er_lgraph *g = &t.g;
  const int H = gc->H, C = gc->C;
  const int64_t HC = (int64_t)H * C, nh = g->n_tot * HC, no = g->n_own * HC;
  printf("GAT n_own %lld n_tot %lld nnz %lld H %d C %d (interior %lld, boundary %lld rows)\n",
         (long long)g->n_own, (long long)g->n_tot, (long long)g->indptr[g->n_own], H, C,
         (long long)t.n_interior, (long long)t.n_boundary);
  /* double data; float data is its rounding */
  double *h = malloc(nh * sizeof(double)), *as = malloc(HC * sizeof(double));
  double *ad = malloc(HC * sizeof(double)), *b = malloc(HC * sizeof(double));
  double *dout = malloc(no * sizeof(double)), *g0 = malloc((nh + 3 * HC) * sizeof(double));
  for (int64_t e = 0; e < nh; e++) h[e] = rnd();
  for (int64_t e = 0; e < HC; e++) as[e] = 0.5 * rnd(), ad[e] = 0.5 * rnd(), b[e] = rnd();
  for (int64_t e = 0; e < no; e++) dout[e] = rnd();
  for (int64_t e = 0; e < nh + 3 * HC; e++) g0[e] = rnd(); /* nonzero initial gradients */

  for (int prec = 0; prec < 2; prec++) {
    const double tol = prec ? TOL_D : TOL_F;
    const char *pn = prec ? "double" : "float";
    char what[96];
    /* gradient buffers: [dh (nh) | da_src (HC) | da_dst (HC) | dbias (HC)] x {fast, ref, split} */
    const int64_t ng = nh + 3 * HC;
    if (prec) {
      double *out = malloc(no * sizeof(double)), *out_ref = malloc(no * sizeof(double));
      double *out_split = malloc(no * sizeof(double));
      double *gf = malloc(ng * sizeof(double)), *gr = malloc(ng * sizeof(double));
      double *gs = malloc(ng * sizeof(double));
      er_gat_cache_d *c = NULL;
      TEST_OK(er_gat_cache_create_d(g, H, C, &c));
      TEST_OK(er_gat_forward_d(out, c, h, as, ad, b, g, H, C));
      TEST_OK(er_gat_forward_ref_d(out_ref, h, as, ad, b, g, H, C));
      snprintf(what, sizeof what, "%s forward fast vs ref", pn);
      report(what, relerr_d(out, out_ref, no), tol);
      /* attention rows sum to 1 per head, entries in (0, 1] */
      const double *al = er_gat_cache_alpha_d(c);
      double worst = 0;
      int bad = 0;
      for (int64_t i = 0; i < g->n_own; i++)
        for (int k = 0; k < H; k++) {
          double s = 0;
          for (int64_t p = g->indptr[i] + i; p <= g->indptr[i + 1] + i; p++) {
            double a = al[p * H + k];
            bad += !(a > 0 && a <= 1);
            s += a;
          }
          if (fabs(s - 1) > worst) worst = fabs(s - 1);
        }
      printf("  double attention: max |row sum - 1| %.3e, entries outside (0,1]: %d\n", worst,
             bad);
      TEST_CHECK(worst < 1e-14 && bad == 0, "attention rows not normalized (%.3e, %d)", worst,
                 bad);
      /* an isolated row attends only to itself */
      TEST_CHECK(al[(g->indptr[5] + 5) * H] == 1.0, "isolated row 5 alpha %g",
                 al[(g->indptr[5] + 5) * H]);
      /* backward: dh is written (its initial garbage must not leak in), the parameter
       * gradients accumulate onto their initial values */
      memcpy(gf, g0, ng * sizeof(double));
      memcpy(gr, g0, ng * sizeof(double));
      TEST_OK(er_gat_backward_d(gf, gf + nh, gf + nh + HC, gf + nh + 2 * HC, dout, h, as, ad, c,
                                g, H, C));
      memset(gr, 0, nh * sizeof(double)); /* the ref accumulates dh: start it from zero */
      TEST_OK(er_gat_backward_ref_d(gr, gr + nh, gr + nh + HC, gr + nh + 2 * HC, dout, h, as,
                                    ad, g, H, C));
      static const char *gname[4] = {"dh (written)", "da_src", "da_dst", "dbias"};
      const int64_t goff[4] = {0, nh, nh + HC, nh + 2 * HC}, glen[4] = {nh, HC, HC, HC};
      for (int q = 0; q < 4; q++) {
        /* compare the accumulated increments, not the (random) initial values */
        double *df = malloc(glen[q] * sizeof(double)), *dr = malloc(glen[q] * sizeof(double));
        for (int64_t e = 0; e < glen[q]; e++) {
          df[e] = gf[goff[q] + e] - (q ? g0[goff[q] + e] : 0);
          dr[e] = gr[goff[q] + e] - (q ? g0[goff[q] + e] : 0);
        }
        snprintf(what, sizeof what, "%s backward %s fast vs ref", pn, gname[q]);
        report(what, relerr_d(df, dr, glen[q]), tol);
        free(df);
        free(dr);
      }
      /* rows no edge leaves (isolated ghosts, owned rows nobody references besides
       * themselves) still get their exact gradient, zero for an unreferenced ghost */
      int64_t unref = 0;
      int zero_ok = 1;
      {
        char *used = calloc((size_t)g->n_tot, 1);
        for (int64_t e = 0; e < g->indptr[g->n_own]; e++) used[g->indices[e]] = 1;
        for (int64_t j = g->n_own; j < g->n_tot; j++)
          if (!used[j]) {
            unref++;
            for (int64_t q = 0; q < HC; q++) zero_ok &= gf[j * HC + q] == 0.0;
          }
        free(used);
      }
      printf("  unreferenced ghost rows: %lld, dh exactly zero there: %s\n", (long long)unref,
             zero_ok ? "yes" : "NO");
      TEST_CHECK(zero_ok, "an unreferenced ghost row got a nonzero (or stale) gradient");
      /* split phase, interior/boundary order, equals the whole call */
      TEST_OK(er_gat_scores_d(c, h, as, ad, 0, g->n_own, g, H, C));
      TEST_OK(er_gat_aggregate_d(out_split, c, h, as, b, t.interior, t.n_interior, g, H, C));
      TEST_OK(er_gat_scores_d(c, h, as, ad, g->n_own, g->n_tot, g, H, C));
      TEST_OK(er_gat_aggregate_d(out_split, c, h, as, b, t.boundary, t.n_boundary, g, H, C));
      TEST_CHECK(memcmp(out_split, out, no * sizeof(double)) == 0,
                 "split forward differs from the whole forward");
      /* the encoder's order; the gather in two ranges, ghosts first */
      memcpy(gs, g0, ng * sizeof(double));
      TEST_OK(er_gat_backward_gather_d(gs, dout, h, c, g->n_own, g->n_tot, g, H, C));
      TEST_OK(er_gat_backward_gather_d(gs, dout, h, c, 0, g->n_own, g, H, C));
      TEST_OK(er_gat_backward_rows_d(gs + nh + 2 * HC, dout, c, t.boundary, t.n_boundary, g, H,
                                     C));
      TEST_OK(er_gat_backward_sources_d(gs, gs + nh, gs + nh + HC, h, as, ad, c, g->n_own,
                                        g->n_tot, g, H, C));
      TEST_OK(er_gat_backward_rows_d(gs + nh + 2 * HC, dout, c, t.interior, t.n_interior, g, H,
                                     C));
      TEST_OK(er_gat_backward_sources_d(gs, gs + nh, gs + nh + HC, h, as, ad, c, 0, g->n_own, g,
                                        H, C));
      report("double split-phase backward vs whole", relerr_d(gs, gf, ng), TOL_D);
      /* the cache is clean after a backward: a second backward writes the same dh and adds
       * the same parameter increments again */
      memcpy(gs, gf, ng * sizeof(double));
      TEST_OK(er_gat_backward_d(gs, gs + nh, gs + nh + HC, gs + nh + 2 * HC, dout, h, as, ad, c,
                                g, H, C));
      for (int64_t e = nh; e < ng; e++) gs[e] -= gf[e] - g0[e]; /* minus one increment */
      report("double second backward gives the same", relerr_d(gs, gf, ng), TOL_D);
      er_gat_cache_destroy_d(&c);
      TEST_CHECK(c == NULL, "destroy did not NULL the handle");
      free(out);
      free(out_ref);
      free(out_split);
      free(gf);
      free(gr);
      free(gs);
    } else {
      float *hf = malloc(nh * sizeof(float)), *asf = malloc(HC * sizeof(float));
      float *adf = malloc(HC * sizeof(float)), *bf = malloc(HC * sizeof(float));
      float *doutf = malloc(no * sizeof(float));
      float *out = malloc(no * sizeof(float)), *out_ref = malloc(no * sizeof(float));
      float *gf = malloc(ng * sizeof(float)), *gr = malloc(ng * sizeof(float));
      for (int64_t e = 0; e < nh; e++) hf[e] = (float)h[e];
      for (int64_t e = 0; e < HC; e++) asf[e] = (float)as[e], adf[e] = (float)ad[e];
      for (int64_t e = 0; e < HC; e++) bf[e] = (float)b[e];
      for (int64_t e = 0; e < no; e++) doutf[e] = (float)dout[e];
      for (int64_t e = 0; e < ng; e++) gf[e] = gr[e] = 0.0f;
      for (int64_t e = 0; e < nh; e++) gf[e] = 1e3f; /* stale dh must be overwritten */
      er_gat_cache_f *c = NULL;
      TEST_OK(er_gat_cache_create_f(g, H, C, &c));
      TEST_OK(er_gat_forward_f(out, c, hf, asf, adf, bf, g, H, C));
      TEST_OK(er_gat_forward_ref_f(out_ref, hf, asf, adf, bf, g, H, C));
      snprintf(what, sizeof what, "%s forward fast vs ref", pn);
      report(what, relerr_f(out, out_ref, no), tol);
      const float *al = er_gat_cache_alpha_f(c);
      double worst = 0;
      for (int64_t i = 0; i < g->n_own; i++)
        for (int k = 0; k < H; k++) {
          double s = 0;
          for (int64_t p = g->indptr[i] + i; p <= g->indptr[i + 1] + i; p++) s += al[p * H + k];
          if (fabs(s - 1) > worst) worst = fabs(s - 1);
        }
      printf("  float attention: max |row sum - 1| %.3e\n", worst);
      TEST_CHECK(worst < 1e-5, "float attention rows not normalized (%.3e)", worst);
      TEST_OK(er_gat_backward_f(gf, gf + nh, gf + nh + HC, gf + nh + 2 * HC, doutf, hf, asf, adf,
                                c, g, H, C));
      TEST_OK(er_gat_backward_ref_f(gr, gr + nh, gr + nh + HC, gr + nh + 2 * HC, doutf, hf, asf,
                                    adf, g, H, C));
      static const char *gname[4] = {"dh", "da_src", "da_dst", "dbias"};
      const int64_t goff[4] = {0, nh, nh + HC, nh + 2 * HC}, glen[4] = {nh, HC, HC, HC};
      for (int q = 0; q < 4; q++) {
        snprintf(what, sizeof what, "%s backward %s fast vs ref", pn, gname[q]);
        report(what, relerr_f(gf + goff[q], gr + goff[q], glen[q]), tol);
      }
      er_gat_cache_destroy_f(&c);
      free(hf);
      free(asf);
      free(adf);
      free(bf);
      free(doutf);
      free(out);
      free(out_ref);
      free(gf);
      free(gr);
    }
  }
  free(h);
  free(as);
  free(ad);
  free(b);
  free(dout);
  free(g0);
  tgraph_free(&t);
}

/* ---- linear fast vs ref --------------------------------------------------------------------- */
static void linear_fast_vs_ref(void) {
  enum { N = 53, FI = 37, FO = 29 };
  printf("linear n %d fin %d fout %d\n", N, FI, FO);
  static double x[N * FI], W[FI * FO], dh[N * FO];
  static double h1[N * FO], h2[N * FO], dx1[N * FI], dx2[N * FI], dW1[FI * FO], dW2[FI * FO];
  static float xf[N * FI], Wf[FI * FO], dhf[N * FO];
  static float h1f[N * FO], h2f[N * FO], dx1f[N * FI], dx2f[N * FI], dW1f[FI * FO], dW2f[FI * FO];
  for (int e = 0; e < N * FI; e++) xf[e] = (float)(x[e] = rnd());
  for (int e = 0; e < FI * FO; e++) Wf[e] = (float)(W[e] = rnd());
  for (int e = 0; e < N * FO; e++) dhf[e] = (float)(dh[e] = rnd());
  for (int e = 0; e < N * FI; e++) dx1f[e] = dx2f[e] = (float)(dx1[e] = dx2[e] = rnd());
  for (int e = 0; e < FI * FO; e++) dW1f[e] = dW2f[e] = (float)(dW1[e] = dW2[e] = rnd());
  TEST_OK(er_linear_forward_d(h1, x, W, N, FI, FO));
  er_linear_forward_ref_d(h2, x, W, N, FI, FO);
  report("double forward fast vs ref", relerr_d(h1, h2, N * FO), TOL_D);
  TEST_OK(er_linear_backward_d(dx1, dW1, dh, x, W, N, FI, FO));
  er_linear_backward_ref_d(dx2, dW2, dh, x, W, N, FI, FO);
  report("double backward dx fast vs ref", relerr_d(dx1, dx2, N * FI), TOL_D);
  report("double backward dW fast vs ref", relerr_d(dW1, dW2, FI * FO), TOL_D);
  TEST_OK(er_linear_forward_f(h1f, xf, Wf, N, FI, FO));
  er_linear_forward_ref_f(h2f, xf, Wf, N, FI, FO);
  report("float forward fast vs ref", relerr_f(h1f, h2f, N * FO), TOL_F);
  TEST_OK(er_linear_backward_f(NULL, dW1f, dhf, xf, Wf, N, FI, FO)); /* dx optional */
  er_linear_backward_ref_f(dx2f, dW2f, dhf, xf, Wf, N, FI, FO);
  report("float backward dW fast vs ref (dx NULL)", relerr_f(dW1f, dW2f, FI * FO), TOL_F);
  TEST_CHECK(memcmp(dx1f, dx2f, sizeof dx1f) != 0, "ref backward did not touch dx");
  TEST_CHECK(er_linear_forward_d(h1, x, W, (int64_t)1 << 40, FI, FO) == ER_ERR_INPUT,
             "size beyond the BLAS int range accepted");
  er_error_clear();
}

/* ---- elementwise, L1 and feature normalization ------------------------------------------------- */
static void elementwise_values(void) {
  printf("activations, L1 and feature normalization values\n");
  double x[6] = {-2, -0.5, 0, 0.5, 2, -1e-3}, y[6], dx[6] = {0}, dy[6] = {1, 1, 1, 1, 1, 1};
  er_leakyrelu_forward_d(y, x, 0.01, 6);
  TEST_CHECK(y[0] == -0.02 && y[2] == 0 && y[4] == 2, "leakyrelu values %g %g %g", y[0], y[2],
             y[4]);
  er_leakyrelu_backward_d(dx, dy, x, 0.01, 6);
  TEST_CHECK(dx[0] == 0.01 && dx[2] == 0.01 && dx[3] == 1, "leakyrelu grads %g %g %g", dx[0],
             dx[2], dx[3]);
  er_relu_forward_d(y, x, 6);
  memset(dx, 0, sizeof dx);
  er_relu_backward_d(dx, dy, x, 6);
  TEST_CHECK(y[0] == 0 && y[3] == 0.5 && dx[2] == 0 && dx[4] == 1, "relu values/grads");
  float xf[3] = {-1, 0, 3}, yf[3];
  er_relu_forward_f(yf, xf, 3);
  er_leakyrelu_forward_f(xf, xf, 0.5f, 3); /* in place */
  TEST_CHECK(yf[0] == 0 && yf[2] == 3 && xf[0] == -0.5f && xf[2] == 3, "float activations");

  /* L1: rows sum to 1 in absolute value; a zero row stays zero */
  double a[3 * 4] = {1, -3, 0, 4, 0, 0, 0, 0, 1e-13, -1e-13, 0, 0}, b[12], nrm[3];
  er_l1norm_forward_d(b, nrm, a, 3, 4);
  TEST_CHECK(nrm[0] == 8 && b[1] == -3.0 / 8 && b[3] == 0.5, "l1 row 0: %g %g", nrm[0], b[1]);
  TEST_CHECK(b[4] == 0 && b[7] == 0 && nrm[1] == 0, "l1 zero row");
  TEST_CHECK(fabs(b[8] - 0.1) < 1e-15, "l1 tiny row divided by eps: %g", b[8]);
  float af[4] = {2, -2, 4, 0}, nf;
  er_l1norm_forward_f(af, &nf, af, 1, 4); /* in place */
  TEST_CHECK(af[0] == 0.25f && af[2] == 0.5f && nf == 8, "float l1 in place");

  /* NormalizeFeatures: subtract the global min, divide rows by max(row sum, 1) */
  double fx[3 * 3] = {1, 2, 3, 0, 0, 0.5, -1, -1, -1}, fy[9];
  double gmin = er_features_min_d(fx, 3, 3);
  TEST_CHECK(gmin == -1, "feature min %g", gmin);
  TEST_CHECK(isinf(er_features_min_d(fx, 0, 3)), "empty min is not +inf");
  er_normalize_features_d(fy, fx, gmin, 3, 3);
  /* row 0: (2,3,4)/9; row 1: (1,1,1.5)/3.5; row 2: (0,0,0)/1 */
  TEST_CHECK(fabs(fy[0] - 2.0 / 9) < 1e-15 && fabs(fy[2] - 4.0 / 9) < 1e-15, "features row 0");
  TEST_CHECK(fabs(fy[5] - 1.5 / 3.5) < 1e-15, "features row 1");
  TEST_CHECK(fy[6] == 0 && fy[8] == 0, "features row 2");
  double sx[2] = {0.1, 0.2}, sy[2]; /* row sum 0.3 < 1: divided by 1, not renormalized */
  er_normalize_features_d(sy, sx, 0.0, 1, 2);
  TEST_CHECK(sy[0] == 0.1 && sy[1] == 0.2, "row sum below 1 must be divided by 1");
  float fxf[3] = {1, 2, 3};
  er_normalize_features_f(fxf, fxf, (double)er_features_min_f(fxf, 1, 3), 1, 3);
  TEST_CHECK(fabs(fxf[2] - 2.0 / 3) < 1e-7, "float features in place %g", fxf[2]);
}

/* ---- dropout ------------------------------------------------------------------------------ */
static void dropout_props(void) {
  enum { N = 400, F = 60 };
  const double p = 0.5;
  printf("dropout n %d F %d p %.2f\n", N, F, p);
  static double x[N * F], y[N * F], xp[N * F], yp[N * F], dx[N * F], dy[N * F], y2[N * F];
  static float xf[N * F], yf[N * F];
  static int64_t gid[N], gidp[N];
  static int perm[N];
  for (int i = 0; i < N; i++) {
    gid[i] = 5000000000LL + 13 * i; /* global ids beyond 32 bits */
    perm[i] = i;
  }
  for (int i = N - 1; i > 0; i--) { /* Fisher-Yates with the test rng */
    int j = (int)((rnd() + 1) * 0.5 * (i + 1));
    if (j > i) j = i;
    int tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
  for (int e = 0; e < N * F; e++) xf[e] = (float)(x[e] = 1.0 + 0.5 * rnd()); /* nonzero */
  for (int i = 0; i < N; i++) {
    gidp[i] = gid[perm[i]];
    memcpy(xp + i * F, x + perm[i] * F, F * sizeof(double));
  }
  TEST_OK(er_dropout_forward_d(y, x, 42, 7, gid, p, N, F));
  TEST_OK(er_dropout_forward_d(yp, xp, 42, 7, gidp, p, N, F));
  int same = 1, kept = 0, scaled = 1;
  for (int i = 0; i < N; i++)
    for (int f = 0; f < F; f++) {
      same &= yp[i * F + f] == y[perm[i] * F + f];
      if (y[i * F + f] != 0) {
        kept++;
        scaled &= y[i * F + f] == x[i * F + f] * 2.0;
      }
    }
  double rate = (double)kept / (N * F);
  printf("  keep rate %.4f (expected %.2f), permuted rows give the same mask: %s\n", rate, 1 - p,
         same ? "yes" : "no");
  TEST_CHECK(same, "dropout mask depends on the row order");
  TEST_CHECK(fabs(rate - (1 - p)) < 0.01, "keep rate %.4f", rate);
  TEST_CHECK(scaled, "kept values not scaled by 1/(1-p)");
  /* float mask equals double mask */
  TEST_OK(er_dropout_forward_f(yf, xf, 42, 7, gid, p, N, F));
  int fsame = 1;
  for (int e = 0; e < N * F; e++) fsame &= (yf[e] != 0) == (y[e] != 0);
  TEST_CHECK(fsame, "float and double masks differ");
  /* backward uses the same mask */
  for (int e = 0; e < N * F; e++) dy[e] = 1.0, dx[e] = 0.0;
  TEST_OK(er_dropout_backward_d(dx, dy, 42, 7, gid, p, N, F));
  int bsame = 1;
  for (int e = 0; e < N * F; e++) bsame &= dx[e] == (y[e] != 0 ? 2.0 : 0.0);
  TEST_CHECK(bsame, "backward mask differs from forward mask");
  /* another step gives another mask (agreement about 50%) */
  TEST_OK(er_dropout_forward_d(y2, x, 42, 8, gid, p, N, F));
  int agree = 0;
  for (int e = 0; e < N * F; e++) agree += (y2[e] != 0) == (y[e] != 0);
  printf("  mask agreement between steps 7 and 8: %.4f\n", (double)agree / (N * F));
  TEST_CHECK(fabs((double)agree / (N * F) - 0.5) < 0.02, "masks of different steps correlate");
  /* p = 0 is the identity; p outside [0, 1) is refused */
  TEST_OK(er_dropout_forward_d(y2, x, 42, 7, gid, 0.0, N, F));
  TEST_CHECK(memcmp(y2, x, sizeof x) == 0, "p = 0 is not the identity");
  TEST_CHECK(er_dropout_forward_d(y2, x, 42, 7, gid, 1.0, N, F) == ER_ERR_INPUT, "p = 1 taken");
  TEST_CHECK(er_dropout_forward_d(y2, x, 42, 7, gid, -0.1, N, F) == ER_ERR_INPUT, "p < 0 taken");
  er_error_clear();
}

/* ---- glorot ------------------------------------------------------------------------------- */
static void glorot_stats(void) {
  printf("glorot\n");
  enum { R = 300, C = 256 };
  static double w[R * C], w2[R * C];
  static float wf[R * C];
  er_glorot_init_d(w, 9, 3, R, C);
  double bound = sqrt(6.0 / (R + C)), mean = 0, var = 0, mx = 0;
  for (int e = 0; e < R * C; e++) {
    mean += w[e];
    var += w[e] * w[e];
    if (fabs(w[e]) > mx) mx = fabs(w[e]);
  }
  mean /= R * C;
  var /= R * C;
  printf("  (%d, %d): bound %.5f max |w| %.5f mean %.2e var %.5e (bound^2/3 = %.5e)\n", R, C,
         bound, mx, mean, var, bound * bound / 3);
  TEST_CHECK(mx <= bound && mx > 0.999 * bound, "max |w| %.6f vs bound %.6f", mx, bound);
  TEST_CHECK(fabs(mean) < 4 * bound / sqrt(3.0 * R * C), "mean %.3e", mean);
  TEST_CHECK(fabs(var / (bound * bound / 3) - 1) < 0.02, "variance %.4e", var);
  er_glorot_init_d(w2, 9, 3, R, C);
  TEST_CHECK(memcmp(w, w2, sizeof w) == 0, "glorot not deterministic");
  er_glorot_init_d(w2, 9, 4, R, C);
  TEST_CHECK(w2[0] != w[0] && w2[1] != w[1], "tensor ids do not separate draws");
  er_glorot_init_f(wf, 9, 3, R, C);
  int fsame = 1;
  for (int e = 0; e < R * C; e++) fsame &= wf[e] == (float)w[e];
  TEST_CHECK(fsame, "float glorot is not the rounded double glorot");
  /* attention vector (H, C) = (8, 32): PyG's (1, 8, 32) bound sqrt(6 / 40) */
  double att[8 * 32], am = 0;
  er_glorot_init_d(att, 9, 5, 8, 32);
  for (int e = 0; e < 8 * 32; e++)
    if (fabs(att[e]) > am) am = fabs(att[e]);
  TEST_CHECK(am <= sqrt(6.0 / 40) && am > 0.9 * sqrt(6.0 / 40), "att bound: max %g", am);
}

/* ---- validation ---------------------------------------------------------------------------- */
static void validation(void) {
  printf("input validation\n");
  int64_t ip[3] = {0, 1, 2};
  er_lidx self[2] = {0, 0}, far[2] = {1, 9}, ok[2] = {1, 2};
  er_lgraph g = {2, 3, ip, self};
  er_gat_cache_f *c = NULL;
  TEST_CHECK(er_gat_cache_create_f(&g, 1, 4, &c) == ER_ERR_INPUT && !c, "self loop accepted");
  printf("  self loop: %s\n", er_error_message());
  er_error_clear();
  g.indices = far;
  TEST_CHECK(er_gat_cache_create_f(&g, 1, 4, &c) == ER_ERR_INPUT && !c, "column 9 accepted");
  printf("  column out of range: %s\n", er_error_message());
  er_error_clear();
  g.indices = ok;
  TEST_OK(er_gat_cache_create_f(&g, 1, 4, &c));
  float h[3 * 8] = {0}, a[8] = {0}, out[2 * 8];
  TEST_CHECK(er_gat_forward_f(out, c, h, a, a, NULL, &g, 2, 4) == ER_ERR_INPUT,
             "cache shape mismatch accepted");
  printf("  cache mismatch: %s\n", er_error_message());
  er_error_clear();
  er_lidx bad_row = 2;
  TEST_CHECK(er_gat_aggregate_f(out, c, h, a, NULL, &bad_row, 1, &g, 1, 4) == ER_ERR_INPUT,
             "row outside owned rows accepted");
  er_error_clear();
  /* h all zero: uniform attention, bias NULL gives zero output */
  TEST_OK(er_gat_forward_f(out, c, h, a, a, NULL, &g, 1, 4));
  const float *al = er_gat_cache_alpha_f(c);
  TEST_CHECK(al[0] == 0.5f && al[1] == 0.5f && out[0] == 0, "uniform attention %g %g", al[0],
             al[1]);
  er_gat_cache_destroy_f(&c);
  er_gat_cache_destroy_f(&c); /* NULL is fine */
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  static const gat_case cases[] = {
      {200, 260, 8, 4, 16}, /* several heads, odd widths of rows */
      {150, 190, 6, 1, 64}, /* layer-2 shape: one wide head */
      {60, 80, 10, 8, 32},  /* layer-1 shape: 8 heads of 32 */
      {40, 45, 5, 3, 5},    /* C not a multiple of the 8-lane dot */
      {70, 100, 6, 1, 512}, /* layer-2 shape at the production width */
      {50, 400, 2, 2, 8},   /* sparse: many ghost and owned rows that no edge leaves */
      {60, 75, 6, 11, 4},   /* more than 8 heads: the logits' signs take two bytes per slot */
  };
  for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) gat_fast_vs_ref(&cases[q]);
  linear_fast_vs_ref();
  elementwise_values();
  dropout_props();
  glorot_stats();
  validation();
  return er_test_finish("test_nn_kernels");
}
