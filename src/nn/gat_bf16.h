/* gat_bf16.h: the GAT kernels of nn.h's _bf16 forms (train --gather-precision bf16): the rows h
 * (and, in the backward's gather pass, dout) are read as bf16 and widened in registers, every
 * sum is kept in float (parameter gradients in double, as the float kernels do). The same three
 * passes and cache as gat_template.h, whose helpers and checks they use; float only. Included
 * by nn_float.c after the float kernels. The _ref twins widen the rows and call the float ones. */
#ifndef GAT_BF16_SLOPE
#define GAT_BF16_SLOPE 0.2f /* PyG GATConv negative_slope */

/* a . b with b in bf16, 8 partial sums as vdot */
static inline float vdot_b(const float *restrict a, const er_bf16 *restrict b, int n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int c = 0;
  for (; c + 8 <= n; c += 8)
    for (int l = 0; l < 8; l++) acc[l] += a[c + l] * er_bf16_to_f(b[c + l]);
  float s = 0;
  for (; c < n; c++) s += a[c] * er_bf16_to_f(b[c]);
  return s + (((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])));
}

/* y += a x, x in bf16 */
static inline void vaxpy_b(float *restrict y, float a, const er_bf16 *restrict x, int n) {
  for (int c = 0; c < n; c++) y[c] += a * er_bf16_to_f(x[c]);
}

/* acc (double) += a x, x in bf16 */
static inline void vaxpy_acc_b(double *restrict acc, double a, const er_bf16 *restrict x, int n) {
  for (int c = 0; c < n; c++) acc[c] += a * (double)er_bf16_to_f(x[c]);
}

/* Returns x . b and does z += a x in one pass, x and b in bf16 (vdot_axpy's lanes). */
static inline float vdot_axpy_b(float *restrict z, float a, const er_bf16 *restrict x,
                                const er_bf16 *restrict b, int n) {
  float acc[GAT_LANES] = {0};
  int c = 0;
  for (; c + GAT_LANES <= n; c += GAT_LANES)
    for (int l = 0; l < GAT_LANES; l++) {
      float xv = er_bf16_to_f(x[c + l]);
      acc[l] += xv * er_bf16_to_f(b[c + l]);
      z[c + l] += a * xv;
    }
  float s = 0;
  for (; c < n; c++) {
    float xv = er_bf16_to_f(x[c]);
    s += xv * er_bf16_to_f(b[c]);
    z[c] += a * xv;
  }
  for (int w = GAT_LANES / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; l++) acc[l] += acc[l + w];
  return s + acc[0];
}

static inline float gat_lrelu_b(float z) { return z > 0 ? z : GAT_BF16_SLOPE * z; }

/* prefetch of a bf16 row of n values */
static inline void gat_prefetch_row_b(const er_bf16 *row, int64_t n) {
#if GAT_PF_DIST > 0
  const char *b = (const char *)row;
  for (int64_t o = 0; o < n * (int64_t)sizeof(er_bf16); o += 64) __builtin_prefetch(b + o, 0, 3);
#else
  (void)row, (void)n;
#endif
}

er_err er_gat_scores_bf16(er_gat_cache_f *c, const er_bf16 *h, const float *a_src,
                          const float *a_dst, int64_t lo, int64_t hi, const er_lgraph *g, int H,
                          int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_range(c, g, H, C, lo, hi, "scores"));
  const int64_t HC = (int64_t)H * C;
  for (int64_t j = lo; j < hi; j++) {
    const er_bf16 *hj = h + j * HC;
    for (int k = 0; k < H; k++) c->s_src[j * H + k] = vdot_b(a_src + k * C, hj + k * C, C);
    if (j < g->n_own)
      for (int k = 0; k < H; k++) c->s_dst[j * H + k] = vdot_b(a_dst + k * C, hj + k * C, C);
  }
cleanup:
  return err;
}

er_err er_gat_aggregate_bf16(float *out, er_gat_cache_f *c, const er_bf16 *h, const float *bias,
                             const er_lidx *rows, int64_t n_rows, const er_lgraph *g, int H,
                             int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_rows(c, g, H, C, rows, n_rows));
  const int64_t HC = (int64_t)H * C;
  float *mx = c->rowk, *sum = c->rowk + H;
  for (int64_t r = 0; r < n_rows; r++) {
    const int64_t i = rows ? rows[r] : r;
    const int64_t p0 = g->indptr[i], deg = g->indptr[i + 1] - p0;
    const er_lidx *nb = g->indices + p0;
    const float *sd = c->s_dst + i * H;
    float *al = c->alpha + (p0 + i) * H; /* (deg + 1, H), slot 0 = self loop */
    //---- logits, per-head max, softmax (as er_gat_aggregate_f)
    for (int k = 0; k < H; k++) {
      float e = gat_lrelu_b(c->s_src[i * H + k] + sd[k]);
      al[k] = e;
      mx[k] = e;
    }
    for (int64_t t = 0; t < deg; t++) {
      const float *ss = c->s_src + (int64_t)nb[t] * H;
      float *a = al + (t + 1) * H;
      for (int k = 0; k < H; k++) {
        float e = gat_lrelu_b(ss[k] + sd[k]);
        a[k] = e;
        if (e > mx[k]) mx[k] = e;
      }
    }
    for (int k = 0; k < H; k++) sum[k] = 0;
    for (int64_t s = 0; s <= deg; s++)
      for (int k = 0; k < H; k++) {
        float v = expf(al[s * H + k] - mx[k]);
        al[s * H + k] = v;
        sum[k] += v;
      }
    for (int k = 0; k < H; k++) sum[k] = 1.0f / sum[k];
    for (int64_t s = 0; s <= deg; s++)
      for (int k = 0; k < H; k++) al[s * H + k] *= sum[k];
    //---- weighted sum of the bf16 neighbour rows, in float
    float *o = out + i * HC;
    if (bias)
      memcpy(o, bias, (size_t)HC * sizeof(float));
    else
      memset(o, 0, (size_t)HC * sizeof(float));
    for (int64_t s = 0; s <= deg; s++) {
      const er_bf16 *hj = h + (s == 0 ? i : (int64_t)nb[s - 1]) * HC;
      if (s + GAT_PF_DIST <= deg)
        gat_prefetch_row_b(h + (int64_t)nb[s + GAT_PF_DIST - 1] * HC, HC);
      for (int k = 0; k < H; k++) vaxpy_b(o + k * C, al[s * H + k], hj + k * C, C);
    }
  }
cleanup:
  return err;
}

er_err er_gat_forward_bf16(float *out, er_gat_cache_f *c, const er_bf16 *h, const float *a_src,
                           const float *a_dst, const float *bias, const er_lgraph *g, int H,
                           int C) {
  er_err err = ER_OK;
  ER_CALL(er_gat_scores_bf16(c, h, a_src, a_dst, 0, g ? g->n_tot : 0, g, H, C));
  ER_CALL(er_gat_aggregate_bf16(out, c, h, bias, NULL, g->n_own, g, H, C));
cleanup:
  return err;
}

er_err er_gat_backward_gather_bf16(float *dh, const er_bf16 *dout, const er_bf16 *h,
                                   er_gat_cache_f *c, int64_t lo, int64_t hi, const er_lgraph *g,
                                   int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_range(c, g, H, C, lo, hi, "backward gather"));
  const int64_t HC = (int64_t)H * C;
  const int64_t *tindptr = c->tindptr, *tslot = c->tslot;
  const er_lidx *tsrc = c->tsrc;
  const int64_t qend = tindptr[hi];
  for (int64_t j = lo; j < hi; j++) {
    const er_bf16 *hj = h + j * HC;
    float *dhj = dh + j * HC;
    memset(dhj, 0, (size_t)HC * sizeof(float));
    if (j < g->n_own) { /* self loop: slot indptr[j] + j */
      const int64_t p = g->indptr[j] + j;
      for (int k = 0; k < H; k++)
        c->dal[p * H + k] = vdot_axpy_b(dhj + k * C, c->alpha[p * H + k], dout + j * HC + k * C,
                                        hj + k * C, C);
    }
    for (int64_t q = tindptr[j]; q < tindptr[j + 1]; q++) {
      const int64_t p = tslot[q];
      if (q + GAT_PF_DIST < qend) {
        gat_prefetch_row_b(dout + (int64_t)tsrc[q + GAT_PF_DIST] * HC, HC);
        gat_prefetch_small(c->alpha + tslot[q + GAT_PF_DIST] * H, 0);
        gat_prefetch_small(c->dal + tslot[q + GAT_PF_DIST] * H, 1);
      }
      const er_bf16 *go = dout + (int64_t)tsrc[q] * HC;
      for (int k = 0; k < H; k++)
        c->dal[p * H + k] =
            vdot_axpy_b(dhj + k * C, c->alpha[p * H + k], go + k * C, hj + k * C, C);
    }
  }
cleanup:
  return err;
}

er_err er_gat_backward_rows_bf16(float *dh, float *da_dst, float *dbias, const float *dout,
                                 const er_bf16 *h, const float *a_dst, er_gat_cache_f *c,
                                 const er_lidx *rows, int64_t n_rows, const er_lgraph *g, int H,
                                 int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_rows(c, g, H, C, rows, n_rows));
  const int64_t HC = (int64_t)H * C;
  float *tk = c->rowk, *dsd = c->rowk + H;
  double *acc = c->acc;
  if (dbias) {
    memset(acc, 0, (size_t)HC * sizeof(double));
    for (int64_t r = 0; r < n_rows; r++) {
      const int64_t i = rows ? rows[r] : r;
      for (int64_t q = 0; q < HC; q++) acc[q] += dout[i * HC + q];
    }
    for (int64_t q = 0; q < HC; q++) dbias[q] += (float)acc[q];
  }
  memset(acc, 0, (size_t)HC * sizeof(double)); /* da_dst */
  for (int64_t r = 0; r < n_rows; r++) {
    const int64_t i = rows ? rows[r] : r;
    const int64_t p0 = g->indptr[i], deg = g->indptr[i + 1] - p0;
    const er_lidx *nb = g->indices + p0;
    const float *al = c->alpha + (p0 + i) * H, *dal = c->dal + (p0 + i) * H;
    const float *sd = c->s_dst + i * H;
    gat_prefetch_next(c, g, r + 1 < n_rows ? (rows ? rows[r + 1] : r + 1) : -1);
    for (int k = 0; k < H; k++) tk[k] = 0;
    for (int64_t s = 0; s <= deg; s++)
      for (int k = 0; k < H; k++) tk[k] += al[s * H + k] * dal[s * H + k];
    for (int k = 0; k < H; k++) dsd[k] = 0;
    for (int64_t s = 0; s <= deg; s++) {
      const int64_t j = s == 0 ? i : (int64_t)nb[s - 1];
      float *dss = c->ds_src + j * H;
      const float *ss = c->s_src + j * H;
      for (int k = 0; k < H; k++) {
        float de = al[s * H + k] * (dal[s * H + k] - tk[k]);
        float dz = ss[k] + sd[k] > 0 ? de : GAT_BF16_SLOPE * de;
        dss[k] += dz;
        dsd[k] += dz;
      }
    }
    const er_bf16 *hi = h + i * HC;
    float *dhi = dh + i * HC;
    for (int k = 0; k < H; k++) {
      vaxpy(dhi + k * C, dsd[k], a_dst + k * C, C);
      vaxpy_acc_b(acc + k * C, dsd[k], hi + k * C, C);
    }
  }
  for (int64_t q = 0; q < HC; q++) da_dst[q] += (float)acc[q];
cleanup:
  return err;
}

er_err er_gat_backward_sources_bf16(float *dh, float *da_src, const er_bf16 *h,
                                    const float *a_src, er_gat_cache_f *c, int64_t lo, int64_t hi,
                                    const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_range(c, g, H, C, lo, hi, "backward sources"));
  const int64_t HC = (int64_t)H * C;
  double *acc = c->acc;
  memset(acc, 0, (size_t)HC * sizeof(double));
  for (int64_t j = lo; j < hi; j++) {
    float *ds = c->ds_src + j * H;
    const er_bf16 *hj = h + j * HC;
    float *dhj = dh + j * HC;
    for (int k = 0; k < H; k++) {
      if (ds[k] == 0) continue;
      vaxpy(dhj + k * C, ds[k], a_src + k * C, C);
      vaxpy_acc_b(acc + k * C, ds[k], hj + k * C, C);
      ds[k] = 0;
    }
  }
  for (int64_t q = 0; q < HC; q++) da_src[q] += (float)acc[q];
cleanup:
  return err;
}

er_err er_gat_backward_bf16(float *dh, float *da_src, float *da_dst, float *dbias,
                            const float *dout, const er_bf16 *doutb, const er_bf16 *h,
                            const float *a_src, const float *a_dst, er_gat_cache_f *c,
                            const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_call(c, g, H, C));
  ER_CALL(er_gat_backward_gather_bf16(dh, doutb, h, c, 0, g->n_tot, g, H, C));
  ER_CALL(er_gat_backward_rows_bf16(dh, da_dst, dbias, dout, h, a_dst, c, NULL, g->n_own, g, H,
                                    C));
  ER_CALL(er_gat_backward_sources_bf16(dh, da_src, h, a_src, c, 0, g->n_tot, g, H, C));
cleanup:
  return err;
}

/* Reference twins: the float _ref kernels on the widened rows. */
er_err er_gat_forward_ref_bf16(float *out, const er_bf16 *h, const float *a_src,
                               const float *a_dst, const float *bias, const er_lgraph *g, int H,
                               int C) {
  er_err err = ER_OK;
  float *hf = NULL;
  ER_CHECK(g != NULL && H >= 1 && C >= 1, ER_ERR_INPUT, "gat ref: invalid graph, heads or width");
  ER_MALLOC(hf, g->n_tot * H * C);
  er_bf16_to_f_array(hf, h, g->n_tot * H * C);
  ER_CALL(er_gat_forward_ref_f(out, hf, a_src, a_dst, bias, g, H, C));
cleanup:
  free(hf);
  return err;
}

er_err er_gat_backward_ref_bf16(float *dh, float *da_src, float *da_dst, float *dbias,
                                const float *dout, const er_bf16 *h, const float *a_src,
                                const float *a_dst, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  float *hf = NULL;
  ER_CHECK(g != NULL && H >= 1 && C >= 1, ER_ERR_INPUT, "gat ref: invalid graph, heads or width");
  ER_MALLOC(hf, g->n_tot * H * C);
  er_bf16_to_f_array(hf, h, g->n_tot * H * C);
  ER_CALL(er_gat_backward_ref_f(dh, da_src, da_dst, dbias, dout, hf, a_src, a_dst, g, H, C));
cleanup:
  free(hf);
  return err;
}

#endif
