/* test_nn_bf16.c: bf16 storage (train --gather-precision bf16): the rounding against its scalar
 * reference (ties, NaN, inf, overflow, subnormals, a sweep of bit patterns), the _bf16 GAT
 * kernels against the float kernels on the widened rows (tight) and on the unrounded rows
 * (bf16-sized), against their _ref twins, the split-phase order against the whole, and their
 * gradients against central differences of their own forward (parameters) and of the double
 * forward at the widened rows (dh). Serial. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/bf16.h"
#include "erase/nn.h"
#include "erase/rng.h"
#include "testutil.h"

static uint64_t rnd_ctr = 0;
static double rnd(void) { return 2.0 * er_rng_uniform(4242, 903, 0, rnd_ctr++) - 1.0; }

static float bits_f(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* ---- rounding ------------------------------------------------------------------------------ */
static int same_bf16(er_bf16 a, er_bf16 b) {
  int na = (a & 0x7f80) == 0x7f80 && (a & 0x7f), nb = (b & 0x7f80) == 0x7f80 && (b & 0x7f);
  return na || nb ? na && nb && (a & 0x8040) == (b & 0x8040) : a == b;
}

static void rounding(void) {
  static const struct { uint32_t f; er_bf16 b; const char *what; } known[] = {
      {0x3f800000u, 0x3f80, "1"},
      {0x3f808000u, 0x3f80, "1 + half an ulp: tie to even (down)"},
      {0x3f818000u, 0x3f82, "tie to even (up)"},
      {0x3f808001u, 0x3f81, "just above the tie"},
      {0x3f807fffu, 0x3f80, "just below the tie"},
      {0xbf818000u, 0xbf82, "negative tie"},
      {0x80000000u, 0x8000, "-0"},
      {0x00008000u, 0x0000, "subnormal tie to 0"},
      {0x00018000u, 0x0002, "subnormal tie up"},
      {0x7f7fffffu, 0x7f80, "largest float overflows to inf"},
      {0x7f7f7fffu, 0x7f7f, "largest bf16 stays"},
      {0x7f800000u, 0x7f80, "inf"},
      {0xff800000u, 0xff80, "-inf"},
      {0x7fc00000u, 0x7fc0, "quiet NaN"},
      {0x7f800001u, 0x7fc0, "signalling NaN, payload in the low half: quiet NaN"},
      {0xffa00000u, 0xffe0, "negative signalling NaN: quieted, sign kept"},
  };
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
    float f = bits_f(known[k].f);
    er_bf16 b = er_bf16_from_f(f), r = er_bf16_from_f_ref(f);
    TEST_CHECK(b == known[k].b && r == known[k].b, "%s: 0x%08x -> 0x%04x, ref 0x%04x, want 0x%04x",
               known[k].what, known[k].f, b, r, known[k].b);
  }
  /* every high half with the low halves around the tie, and a stride over all patterns */
  static const uint32_t lows[] = {0x0000, 0x0001, 0x7fff, 0x8000, 0x8001, 0xffff};
  int64_t bad = 0, n = 0;
  for (uint32_t hi = 0; hi < 0x10000u; hi++)
    for (size_t l = 0; l < sizeof lows / sizeof lows[0]; l++, n++) {
      float f = bits_f(hi << 16 | lows[l]);
      bad += !same_bf16(er_bf16_from_f(f), er_bf16_from_f_ref(f));
    }
  for (uint64_t u = 0; u < 0x100000000ull; u += 4099, n++) {
    float f = bits_f((uint32_t)u);
    bad += !same_bf16(er_bf16_from_f(f), er_bf16_from_f_ref(f));
  }
  TEST_CHECK(bad == 0, "rounding: %lld of %lld patterns differ from the reference",
             (long long)bad, (long long)n);
  /* widening is exact: every non-NaN bf16 survives the round trip; the array forms agree */
  int64_t trip = 0;
  for (uint32_t b = 0; b < 0x10000u; b++)
    if (!((b & 0x7f80) == 0x7f80 && (b & 0x7f)))
      trip += er_bf16_from_f(er_bf16_to_f((er_bf16)b)) != b;
  float src[37], back[37];
  er_bf16 arr[37];
  for (int i = 0; i < 37; i++) src[i] = (float)(rnd() * 1e3);
  er_bf16_from_f_array(arr, src, 37);
  er_bf16_to_f_array(back, arr, 37);
  for (int i = 0; i < 37; i++) {
    trip += arr[i] != er_bf16_from_f(src[i]);
    trip += fabsf(back[i] - src[i]) > fabsf(src[i]) * (1.0f / 256); /* half an ulp: 2^-9 */
  }
  TEST_CHECK(trip == 0, "round trip / arrays: %lld mismatches", (long long)trip);
  printf("  rounding: %lld patterns match the reference; round trip exact\n", (long long)n);
}

/* ---- a random local graph with ghost columns ---------------------------------------------- */
typedef struct {
  er_lgraph g;
  int64_t *indptr;
  er_lidx *indices, *interior, *boundary;
  int64_t n_interior, n_boundary;
} tgraph;

static void tgraph_make(tgraph *t, int64_t n_own, int64_t n_tot, int avg) {
  t->indptr = malloc((size_t)(n_own + 1) * sizeof(int64_t));
  t->indices = malloc((size_t)n_own * 2 * avg * sizeof(er_lidx));
  t->interior = malloc((size_t)n_own * sizeof(er_lidx));
  t->boundary = malloc((size_t)n_own * sizeof(er_lidx));
  int64_t nnz = 0;
  t->n_interior = t->n_boundary = 0;
  t->indptr[0] = 0;
  for (int64_t i = 0; i < n_own; i++) {
    int deg = i % 7 == 3 ? 0 : (int)((rnd() + 1.0) * avg);
    for (int64_t j = 0; j < n_tot && deg > 0; j++) /* ascending by construction */
      if (j != i && (rnd() + 1.0) * 0.5 * (double)n_tot < 2.0 * avg) {
        t->indices[nnz++] = (er_lidx)j;
        deg--;
      }
    int ghost = 0;
    for (int64_t p = t->indptr[i]; p < nnz; p++) ghost |= t->indices[p] >= n_own;
    if (ghost)
      t->boundary[t->n_boundary++] = (er_lidx)i;
    else
      t->interior[t->n_interior++] = (er_lidx)i;
    t->indptr[i + 1] = nnz;
  }
  t->g = (er_lgraph){n_own, n_tot, t->indptr, t->indices};
}

static void tgraph_free(tgraph *t) {
  free(t->indptr), free(t->indices), free(t->interior), free(t->boundary);
}

static double relerr(const float *a, const float *b, int64_t m) {
  double d = 0, n = 0;
  for (int64_t e = 0; e < m; e++) {
    d += ((double)a[e] - b[e]) * ((double)a[e] - b[e]);
    n += (double)b[e] * b[e];
  }
  return n > 0 ? sqrt(d / n) : sqrt(d);
}

static void report(const char *what, double rel, double tol) {
  printf("  %-52s rel err %9.3e (bound %.0e)\n", what, rel, tol);
  TEST_CHECK(rel < tol, "%s: relative error %.3e >= %.0e", what, rel, tol);
}

/* ---- kernels ------------------------------------------------------------------------------- */
static double loss_of(const float *out, const float *w, int64_t m) {
  double s = 0;
  for (int64_t e = 0; e < m; e++) s += (double)out[e] * w[e];
  return s;
}

static void kernels(int64_t n_own, int64_t n_tot, int avg, int H, int C) {
  printf("GAT bf16: n_own %lld n_tot %lld H %d C %d\n", (long long)n_own, (long long)n_tot, H, C);
  tgraph t;
  tgraph_make(&t, n_own, n_tot, avg);
  const er_lgraph *g = &t.g;
  const int64_t HC = (int64_t)H * C, nh = n_tot * HC, no = n_own * HC;
  float *h = malloc(nh * sizeof(float)), *hw = malloc(nh * sizeof(float));
  er_bf16 *hb = malloc(nh * sizeof(er_bf16)), *doutb = malloc(no * sizeof(er_bf16));
  float *as = malloc(HC * sizeof(float)), *ad = malloc(HC * sizeof(float));
  float *b = malloc(HC * sizeof(float)), *dout = malloc(no * sizeof(float));
  float *doutr = malloc(no * sizeof(float));
  float *o_b = malloc(no * sizeof(float)), *o_f = malloc(no * sizeof(float));
  float *o_r = malloc(no * sizeof(float)), *o_u = malloc(no * sizeof(float));
  const int64_t ng = nh + 3 * HC; /* dh, da_src, da_dst, dbias in one array */
  float *g_b = calloc(ng, sizeof(float)), *g_f = calloc(ng, sizeof(float));
  float *g_r = calloc(ng, sizeof(float)), *g_s = calloc(ng, sizeof(float));
  float *g_u = calloc(ng, sizeof(float));
  for (int64_t e = 0; e < nh; e++) h[e] = (float)rnd();
  for (int64_t e = 0; e < HC; e++) as[e] = (float)rnd(), ad[e] = (float)rnd(), b[e] = (float)rnd();
  for (int64_t e = 0; e < no; e++) dout[e] = (float)rnd();
  er_bf16_from_f_array(hb, h, nh);
  er_bf16_to_f_array(hw, hb, nh);
  er_bf16_from_f_array(doutb, dout, no);
  er_bf16_to_f_array(doutr, doutb, no); /* dout representable in bf16 */
  er_gat_cache_f *c = NULL;
  TEST_OK(er_gat_cache_create_f(g, H, C, &c));
  //---- forward
  TEST_OK(er_gat_forward_bf16(o_b, c, hb, as, ad, b, g, H, C));
  TEST_OK(er_gat_forward_f(o_f, c, hw, as, ad, b, g, H, C));
  report("forward bf16 vs float on the widened rows", relerr(o_b, o_f, no), 1e-5);
  TEST_OK(er_gat_forward_ref_bf16(o_r, hb, as, ad, b, g, H, C));
  report("forward bf16 vs its _ref twin", relerr(o_b, o_r, no), 1e-5);
  TEST_OK(er_gat_forward_f(o_u, c, h, as, ad, b, g, H, C));
  report("forward bf16 vs float on the unrounded rows", relerr(o_b, o_u, no), 1e-2);
  //---- split-phase forward in the encoder's order equals the whole one
  float *o_s = malloc(no * sizeof(float));
  TEST_OK(er_gat_scores_bf16(c, hb, as, ad, 0, n_own, g, H, C));
  TEST_OK(er_gat_aggregate_bf16(o_s, c, hb, as, b, t.interior, t.n_interior, g, H, C));
  TEST_OK(er_gat_scores_bf16(c, hb, as, ad, n_own, n_tot, g, H, C));
  TEST_OK(er_gat_aggregate_bf16(o_s, c, hb, as, b, t.boundary, t.n_boundary, g, H, C));
  report("forward bf16 split-phase vs whole", relerr(o_s, o_b, no), 1e-7);
  //---- backward (dout representable: the gather's bf16 dout is exact)
  TEST_OK(er_gat_forward_bf16(o_b, c, hb, as, ad, b, g, H, C));
  TEST_OK(er_gat_backward_bf16(g_b, g_b + nh, g_b + nh + HC, g_b + nh + 2 * HC, doutr, doutb, hb,
                               as, ad, c, g, H, C));
  TEST_OK(er_gat_forward_f(o_f, c, hw, as, ad, b, g, H, C));
  TEST_OK(er_gat_backward_f(g_f, g_f + nh, g_f + nh + HC, g_f + nh + 2 * HC, doutr, hw, as, ad, c,
                            g, H, C));
  report("backward bf16 vs float on the widened rows: dh", relerr(g_b, g_f, nh), 1e-5);
  report("  da_src, da_dst, dbias", relerr(g_b + nh, g_f + nh, 3 * HC), 1e-5);
  TEST_OK(er_gat_backward_ref_bf16(g_r, g_r + nh, g_r + nh + HC, g_r + nh + 2 * HC, doutr, hb, as,
                                   ad, g, H, C));
  report("backward bf16 vs its _ref twin", relerr(g_b, g_r, ng), 1e-5);
  //---- split-phase backward in the encoder's order (ghost rows complete before the owned ones)
  TEST_OK(er_gat_forward_bf16(o_b, c, hb, as, ad, b, g, H, C));
  TEST_OK(er_gat_backward_gather_bf16(g_s, doutb, hb, c, 0, n_tot, g, H, C));
  TEST_OK(er_gat_backward_rows_f(g_s + nh + 2 * HC, doutr, c, t.boundary, t.n_boundary, g, H, C));
  TEST_OK(er_gat_backward_sources_bf16(g_s, g_s + nh, g_s + nh + HC, hb, as, ad, c, n_own, n_tot,
                                       g, H, C));
  TEST_OK(er_gat_backward_rows_f(g_s + nh + 2 * HC, doutr, c, t.interior, t.n_interior, g, H, C));
  TEST_OK(er_gat_backward_sources_bf16(g_s, g_s + nh, g_s + nh + HC, hb, as, ad, c, 0, n_own, g,
                                       H, C));
  report("backward bf16 split-phase vs whole", relerr(g_s, g_b, ng), 1e-6);
  //---- with an unrounded dout, against the float backward on the unrounded rows
  TEST_OK(er_gat_forward_bf16(o_b, c, hb, as, ad, b, g, H, C));
  memset(g_b, 0, ng * sizeof(float));
  TEST_OK(er_gat_backward_bf16(g_b, g_b + nh, g_b + nh + HC, g_b + nh + 2 * HC, dout, doutb, hb,
                               as, ad, c, g, H, C));
  TEST_OK(er_gat_forward_f(o_u, c, h, as, ad, b, g, H, C));
  TEST_OK(er_gat_backward_f(g_u, g_u + nh, g_u + nh + HC, g_u + nh + 2 * HC, dout, h, as, ad, c, g,
                            H, C));
  report("backward bf16 vs float on unrounded rows and dout: dh", relerr(g_b, g_u, nh), 1e-2);
  report("  da_src, da_dst, dbias", relerr(g_b + nh, g_u + nh, 3 * HC), 1e-2);
  //---- gradient check: L = <out, dout> of the bf16 forward; central differences in the
  // parameters (float, step 1e-2) and, for dh, of the double forward at the widened rows
  memset(g_b, 0, ng * sizeof(float));
  TEST_OK(er_gat_forward_bf16(o_b, c, hb, as, ad, b, g, H, C));
  TEST_OK(er_gat_backward_bf16(g_b, g_b + nh, g_b + nh + HC, g_b + nh + 2 * HC, doutr, doutb, hb,
                               as, ad, c, g, H, C));
  float *prm[3] = {as, ad, b};
  float *fd = malloc(3 * HC * sizeof(float));
  for (int q = 0; q < 3; q++)
    for (int64_t e = 0; e < HC; e++) {
      const float v = prm[q][e], st = 1e-2f;
      prm[q][e] = v + st;
      TEST_OK(er_gat_forward_bf16(o_b, c, hb, as, ad, b, g, H, C));
      double lp = loss_of(o_b, doutr, no);
      prm[q][e] = v - st;
      TEST_OK(er_gat_forward_bf16(o_b, c, hb, as, ad, b, g, H, C));
      double lm = loss_of(o_b, doutr, no);
      prm[q][e] = v;
      fd[q * HC + e] = (float)((lp - lm) / (2.0 * st));
    }
  report("gradcheck bf16: da_src, da_dst, dbias vs differences", relerr(g_b + nh, fd, 3 * HC),
         1e-2);
  {
    double *hd = malloc(nh * sizeof(double)), *asd = malloc(HC * sizeof(double));
    double *add = malloc(HC * sizeof(double)), *bd = malloc(HC * sizeof(double));
    double *od = malloc(no * sizeof(double));
    float *fdh = malloc(nh * sizeof(float));
    for (int64_t e = 0; e < nh; e++) hd[e] = hw[e];
    for (int64_t e = 0; e < HC; e++) asd[e] = as[e], add[e] = ad[e], bd[e] = b[e];
    er_gat_cache_d *cd = NULL;
    TEST_OK(er_gat_cache_create_d(g, H, C, &cd));
    for (int64_t e = 0; e < nh; e++) {
      const double v = hd[e], st = 1e-6;
      double l[2];
      for (int s = 0; s < 2; s++) {
        hd[e] = v + (s ? -st : st);
        TEST_OK(er_gat_forward_d(od, cd, hd, asd, add, bd, g, H, C));
        l[s] = 0;
        for (int64_t k = 0; k < no; k++) l[s] += od[k] * doutr[k];
      }
      hd[e] = v;
      fdh[e] = (float)((l[0] - l[1]) / (2 * st));
    }
    report("gradcheck bf16: dh vs differences at the widened rows", relerr(g_b, fdh, nh), 1e-4);
    er_gat_cache_destroy_d(&cd);
    free(hd), free(asd), free(add), free(bd), free(od), free(fdh);
  }
  er_gat_cache_destroy_f(&c);
  free(h), free(hw), free(hb), free(doutb), free(as), free(ad), free(b), free(dout), free(doutr);
  free(o_b), free(o_f), free(o_r), free(o_u), free(o_s), free(fd);
  free(g_b), free(g_f), free(g_r), free(g_s), free(g_u);
  tgraph_free(&t);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  rounding();
  kernels(40, 55, 4, 2, 8);   /* layer 1's shape: several heads */
  kernels(33, 50, 5, 1, 40);  /* layer 2's: one head, a width past the 16 lanes with a tail */
  kernels(25, 25, 3, 3, 5);   /* no ghosts, widths below the 8-lane blocks */
  return er_test_finish("test_nn_bf16");
}
