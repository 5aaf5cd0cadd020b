/* gat_rows_template.h: the fast GAT kernels (scores, aggregate, the gather and sources passes
 * of the backward; its rows pass, which reads no row of h, is in gat_template.h) of
 * gat_template.h's cache, written once for REAL sums over gathered rows stored as ROW: REAL
 * itself, or er_bf16 widened in registers (nn.h's _bf16 forms). Single-threaded by design. */
/* Included after gat_template.h by nn_float.c / nn_double.c, which define ROW, ROW_LOAD(p, i)
 * (element i of a ROW array, as REAL), ROW_FN(name) (this inclusion's name for a static helper)
 * and NAME_T for each public function below (er_gat_backward_T only where the backward reads
 * one dout, i.e. ROW is REAL). All are undefined at the end, for the next inclusion. */
#if !defined(REAL) || !defined(ROW) || !defined(ROW_LOAD) || !defined(ROW_FN) || !defined(ER_EXP_N)
#error "gat_rows_template.h is included by nn_float.c / nn_double.c only"
#endif
#pragma GCC diagnostic error "-Wmissing-prototypes"

/* ------------------------------------------------------------------------------------------ */
/* Row helpers: a is REAL, x and b are ROW, every sum is REAL (double in vaxpy_acc). The dot
 * keeps 8 independent partial sums so the compiler can vectorize it without -ffast-math. */

static inline REAL ROW_FN(vdot)(const REAL *restrict a, const ROW *restrict b, int n) {
  REAL acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int c = 0;
  for (; c + 8 <= n; c += 8)
    for (int l = 0; l < 8; l++) acc[l] += a[c + l] * ROW_LOAD(b, c + l);
  REAL s = 0;
  for (; c < n; c++) s += a[c] * ROW_LOAD(b, c);
  return s + (((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])));
}

/* y += a x */
static inline void ROW_FN(vaxpy_row)(REAL *restrict y, REAL a, const ROW *restrict x, int n) {
  for (int c = 0; c < n; c++) y[c] += a * ROW_LOAD(x, c);
}

/* acc (double) += a x */
static inline void ROW_FN(vaxpy_acc)(double *restrict acc, double a, const ROW *restrict x,
                                     int n) {
  for (int c = 0; c < n; c++) acc[c] += a * (double)ROW_LOAD(x, c);
}

/* Returns x . b and does z += a x in one pass over x, with GAT_LANES partial sums (one
 * accumulator chain would bound the dot by the add latency at C = 512). */
#ifndef GAT_LANES
#define GAT_LANES 16
#endif
static inline REAL ROW_FN(vdot_axpy)(REAL *restrict z, REAL a, const ROW *restrict x,
                                     const ROW *restrict b, int n) {
  REAL acc[GAT_LANES] = {0};
  int c = 0;
  for (; c + GAT_LANES <= n; c += GAT_LANES)
    for (int l = 0; l < GAT_LANES; l++) {
      const REAL xv = ROW_LOAD(x, c + l);
      acc[l] += xv * ROW_LOAD(b, c + l);
      z[c + l] += a * xv;
    }
  REAL s = 0;
  for (; c < n; c++) {
    const REAL xv = ROW_LOAD(x, c);
    s += xv * ROW_LOAD(b, c);
    z[c] += a * xv;
  }
  for (int w = GAT_LANES / 2; w >= 1; w /= 2) /* pairwise fold */
    for (int l = 0; l < w; l++) acc[l] += acc[l + w];
  return s + acc[0];
}

/* Software prefetch of a whole row (n values, one hint per 64-byte line) GAT_PF_DIST
 * neighbours ahead of its use: neighbour rows are random reads the hardware cannot predict. */
static inline void ROW_FN(gat_prefetch_row)(const ROW *row, int64_t n) {
#if GAT_PF_DIST > 0
  const char *b = (const char *)row;
  for (int64_t o = 0; o < n * (int64_t)sizeof(ROW); o += 64) __builtin_prefetch(b + o, 0, 3);
#else
  (void)row, (void)n;
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* Forward                                                                                    */

er_err er_gat_scores_T(er_gat_cache_T *c, const ROW *h, const REAL *a_src, const REAL *a_dst,
                       int64_t lo, int64_t hi, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_range(c, g, H, C, lo, hi, "scores"));
  const int64_t HC = (int64_t)H * C;
  for (int64_t j = lo; j < hi; j++) {
    const ROW *hj = h + j * HC;
    for (int k = 0; k < H; k++) c->s_src[j * H + k] = ROW_FN(vdot)(a_src + k * C, hj + k * C, C);
    if (j < g->n_own)
      for (int k = 0; k < H; k++)
        c->s_dst[j * H + k] = ROW_FN(vdot)(a_dst + k * C, hj + k * C, C);
  }
cleanup:
  return err;
}

er_err er_gat_aggregate_T(REAL *out, er_gat_cache_T *c, const ROW *h, const REAL *a_src,
                          const REAL *bias, const er_lidx *rows, int64_t n_rows,
                          const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_rows(c, g, H, C, rows, n_rows));
  const int64_t HC = (int64_t)H * C;
  REAL *mx = c->rowk, *sum = c->rowk + H;
  for (int64_t r = 0; r < n_rows; r++) {
    const int64_t i = rows ? rows[r] : r;
    const int64_t p0 = g->indptr[i], deg = g->indptr[i + 1] - p0;
    const er_lidx *nb = g->indices + p0;
    const REAL *sd = c->s_dst + i * H;
    REAL *al = c->alpha + (p0 + i) * H; /* (deg + 1, H), slot 0 = self loop */
    /* the next row's neighbour list, for prefetching across the row's end */
    const int64_t inx = r + 1 < n_rows ? (rows ? rows[r + 1] : r + 1) : -1;
    const er_lidx *nbx = inx >= 0 ? g->indices + g->indptr[inx] : NULL;
    const int64_t degx = inx >= 0 ? g->indptr[inx + 1] - g->indptr[inx] : 0;

    //---- logits and per-head max; a neighbour's source score is its row's dot with a_src, as
    //---- er_gat_scores stores it, recomputed from the row this loop brings into cache anyway
    for (int k = 0; k < H; k++) {
      REAL e = gat_lrelu(c->s_src[i * H + k] + sd[k]);
      al[k] = e;
      mx[k] = e;
    }
    for (int64_t t = 0; t < deg; t++) {
      const int64_t u = t + 1 + GAT_PF_DIST; /* slot u of this row, or u - deg - 1 of the next */
      if (u <= deg)
        ROW_FN(gat_prefetch_row)(h + (int64_t)nb[u - 1] * HC, HC);
      else if (u - deg - 1 >= 1 && u - deg - 1 <= degx)
        ROW_FN(gat_prefetch_row)(h + (int64_t)nbx[u - deg - 2] * HC, HC);
      const ROW *hj = h + (int64_t)nb[t] * HC;
      REAL *a = al + (t + 1) * H;
      for (int k = 0; k < H; k++) {
        REAL e = gat_lrelu(ROW_FN(vdot)(a_src + k * C, hj + k * C, C) + sd[k]);
        a[k] = e;
        if (e > mx[k]) mx[k] = e;
      }
    }
    //---- softmax
    for (int64_t s = 0; s <= deg; s++)
      for (int k = 0; k < H; k++) al[s * H + k] -= mx[k];
    ER_EXP_N(al, (deg + 1) * H); /* the row's (deg + 1) H values at once */
    for (int k = 0; k < H; k++) sum[k] = 0;
    for (int64_t s = 0; s <= deg; s++)
      for (int k = 0; k < H; k++) sum[k] += al[s * H + k];
    for (int k = 0; k < H; k++) sum[k] = (REAL)1 / sum[k];
    for (int64_t s = 0; s <= deg; s++)
      for (int k = 0; k < H; k++) al[s * H + k] *= sum[k];
    //---- weighted sum of neighbour rows, C-wide per head
    REAL *o = out + i * HC;
    if (bias)
      memcpy(o, bias, (size_t)HC * sizeof(REAL));
    else
      memset(o, 0, (size_t)HC * sizeof(REAL));
    for (int64_t s = 0; s <= deg; s++) {
      const ROW *hj = h + (s == 0 ? i : (int64_t)nb[s - 1]) * HC;
      for (int k = 0; k < H; k++) ROW_FN(vaxpy_row)(o + k * C, al[s * H + k], hj + k * C, C);
    }
  }
cleanup:
  return err;
}

er_err er_gat_forward_T(REAL *out, er_gat_cache_T *c, const ROW *h, const REAL *a_src,
                        const REAL *a_dst, const REAL *bias, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(er_gat_scores_T(c, h, a_src, a_dst, 0, g ? g->n_tot : 0, g, H, C));
  ER_CALL(er_gat_aggregate_T(out, c, h, a_src, bias, NULL, g->n_own, g, H, C));
cleanup:
  return err;
}

/* ------------------------------------------------------------------------------------------ */
/* Backward                                                                                   */

/* Per target row i with slots s (j = i, then N(i)), per head k:
 *   dh[j] += alpha_s dout_i;  dal_s = dout_i . h_j;  t = sum_s alpha_s dal_s;
 *   de_s = alpha_s (dal_s - t);  dz_s = de_s * (z_s > 0 ? 1 : 0.2), z_s = s_src[j] + s_dst[i];
 *   ds_src[j] += dz_s;  ds_dst[i] = sum_s dz_s;  dh[i] += ds_dst a_dst, da_dst += ds_dst h_i;
 *   dbias += dout_i;  dh[j] += ds_src[j] a_src, da_src += ds_src[j] h_j.
 * Three passes: backward_gather (the value path and dal, per source row j over the transposed
 * lists: h_j and dh_j stay hot, dout_i is the one random read; no HC-wide row is scattered),
 * backward_rows (gat_template.h: per target row over its contiguous slots; only the H-wide
 * score gradients scatter; no HC-wide row is read) and backward_sources (per row: both scores'
 * parts of dh_j and of the attention vectors' gradients, one read of h_j and dh_j). */

/* One edge slot p of target row i, seen from source row j: dal[p] = dout_i . h_j and
 * dh_j += alpha[p] dout_i, per head. */
static inline void ROW_FN(gat_gather_slot)(REAL *restrict dhj, REAL *restrict dal,
                                           const REAL *restrict al, const ROW *restrict go,
                                           const ROW *restrict hj, int H, int C) {
  for (int k = 0; k < H; k++)
    dal[k] = ROW_FN(vdot_axpy)(dhj + k * C, al[k], go + k * C, hj + k * C, C);
}

/* The gather reads dout as ROW (the rows pass below reads it as REAL). */
er_err er_gat_backward_gather_T(REAL *dh, const ROW *dout, const ROW *h, er_gat_cache_T *c,
                                int64_t lo, int64_t hi, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_range(c, g, H, C, lo, hi, "backward gather"));
  const int64_t HC = (int64_t)H * C;
  const int64_t *tindptr = c->tindptr, *tslot = c->tslot;
  const er_lidx *tsrc = c->tsrc;
  const int64_t qend = tindptr[hi];
  for (int64_t j = lo; j < hi; j++) {
    const ROW *hj = h + j * HC;
    REAL *dhj = dh + j * HC;
    memset(dhj, 0, (size_t)HC * sizeof(REAL));
    if (j < g->n_own) { /* self loop: slot indptr[j] + j */
      const int64_t p = g->indptr[j] + j;
      ROW_FN(gat_gather_slot)(dhj, c->dal + p * H, c->alpha + p * H, dout + j * HC, hj, H, C);
    }
    for (int64_t q = tindptr[j]; q < tindptr[j + 1]; q++) {
      const int64_t p = tslot[q];
      if (q + GAT_PF_DIST < qend) { /* the lists are contiguous: run on into the next rows */
        ROW_FN(gat_prefetch_row)(dout + (int64_t)tsrc[q + GAT_PF_DIST] * HC, HC);
        gat_prefetch_small(c->alpha + tslot[q + GAT_PF_DIST] * H, 0);
        gat_prefetch_small(c->dal + tslot[q + GAT_PF_DIST] * H, 1);
      }
      ROW_FN(gat_gather_slot)(dhj, c->dal + p * H, c->alpha + p * H,
                              dout + (int64_t)tsrc[q] * HC, hj, H, C);
    }
  }
cleanup:
  return err;
}

er_err er_gat_backward_sources_T(REAL *dh, REAL *da_src, REAL *da_dst, const ROW *h,
                                 const REAL *a_src, const REAL *a_dst, er_gat_cache_T *c,
                                 int64_t lo, int64_t hi, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_range(c, g, H, C, lo, hi, "backward sources"));
  const int64_t HC = (int64_t)H * C;
  double *acc = c->acc, *accd = c->acc + HC; /* da_src, da_dst */
  memset(acc, 0, (size_t)(2 * HC) * sizeof(double));
  for (int64_t j = lo; j < hi; j++) {
    REAL *ds = c->ds_src + j * H;
    const REAL *dd = j < g->n_own ? c->ds_dst + j * H : NULL;
    const ROW *hj = h + j * HC;
    REAL *dhj = dh + j * HC;
    for (int k = 0; k < H; k++) {
      if (dd) { /* before the source score's part, as dh's sums have always run */
        vaxpy(dhj + k * C, dd[k], a_dst + k * C, C);
        ROW_FN(vaxpy_acc)(accd + k * C, dd[k], hj + k * C, C);
      }
      if (ds[k] == 0) continue;
      vaxpy(dhj + k * C, ds[k], a_src + k * C, C);
      ROW_FN(vaxpy_acc)(acc + k * C, ds[k], hj + k * C, C);
      ds[k] = 0;
    }
  }
  for (int64_t q = 0; q < HC; q++) da_src[q] += (REAL)acc[q];
  if (lo < g->n_own)
    for (int64_t q = 0; q < HC; q++) da_dst[q] += (REAL)accd[q];
cleanup:
  return err;
}

#ifdef er_gat_backward_T
er_err er_gat_backward_T(REAL *dh, REAL *da_src, REAL *da_dst, REAL *dbias, const REAL *dout,
                         const ROW *h, const REAL *a_src, const REAL *a_dst, er_gat_cache_T *c,
                         const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_call(c, g, H, C));
  ER_CALL(er_gat_backward_gather_T(dh, dout, h, c, 0, g->n_tot, g, H, C));
  ER_CALL(er_gat_backward_rows_T(dbias, dout, c, NULL, g->n_own, g, H, C));
  ER_CALL(er_gat_backward_sources_T(dh, da_src, da_dst, h, a_src, a_dst, c, 0, g->n_tot, g, H, C));
cleanup:
  return err;
}
#endif

#undef ROW
#undef ROW_LOAD
#undef ROW_FN
#undef er_gat_scores_T
#undef er_gat_aggregate_T
#undef er_gat_forward_T
#undef er_gat_backward_gather_T
#undef er_gat_backward_sources_T
#undef er_gat_backward_T
