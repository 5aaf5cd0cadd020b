/* gat_template.h: GAT attention aggregation (PyG GATConv semantics) forward and backward, the
 * fast row-wise kernels and their literal _ref twins, written once for REAL. No halo exchange,
 * no linear part (h = x W is er_linear_*); single-threaded by design. The backward's value path
 * gathers over the transposed edge lists (no scatter of HC-wide rows); only H-wide score
 * gradients scatter. Included by nn_float.c and nn_double.c, which define REAL, ER_EXP (expf or
 * exp) and, for the cache type and every public function below, NAME_T as the name in nn.h. */
#ifndef REAL
#error "gat_template.h is included by nn_float.c / nn_double.c only"
#endif
/* An unmapped NAME_T would be defined under that name, without the prototype from nn.h. */
#pragma GCC diagnostic error "-Wmissing-prototypes"

#define GAT_SLOPE ((REAL)0.2) /* PyG GATConv negative_slope */

struct er_gat_cache_T {
  int64_t n_own, n_tot, nnz;
  int H, C;
  REAL *alpha;  /* (n_own + nnz, H) softmax weights; slot of row i's self loop: indptr[i] + i */
  REAL *s_src;  /* (n_tot, H)  a_src[k] . h[j, k] */
  REAL *s_dst;  /* (n_own, H)  a_dst[k] . h[i, k] */
  REAL *ds_src; /* (n_tot, H)  backward: d loss / d s_src, cleared by backward_sources */
  REAL *dal;    /* (n_own + nnz, H) backward: d loss / d alpha per slot (alpha's layout) */
  /* transposed edge lists (built once): the edges j -> i leaving row j, i ascending, self loops
   * excluded: for q in [tindptr[j], tindptr[j+1]) the target row tsrc[q] and the slot tslot[q]
   * of that edge in alpha's layout */
  int64_t *tindptr; /* (n_tot + 1) */
  er_lidx *tsrc;    /* (nnz) */
  int64_t *tslot;   /* (nnz) */
  REAL *rowk;   /* (3, H) per-row head scratch: max, sum, ds_dst */
  double *acc;  /* (H*C) per-call double accumulator of a parameter gradient */
};

/* ------------------------------------------------------------------------------------------ */
/* Small contiguous vector helpers. The dot keeps 8 independent partial sums so the compiler
 * can vectorize it without -ffast-math. */

static inline REAL vdot(const REAL *restrict a, const REAL *restrict b, int n) {
  REAL acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int c = 0;
  for (; c + 8 <= n; c += 8)
    for (int l = 0; l < 8; l++) acc[l] += a[c + l] * b[c + l];
  REAL s = 0;
  for (; c < n; c++) s += a[c] * b[c];
  return s + (((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])));
}

/* y += a x */
static inline void vaxpy(REAL *restrict y, REAL a, const REAL *restrict x, int n) {
  for (int c = 0; c < n; c++) y[c] += a * x[c];
}

/* acc (double) += a x */
static inline void vaxpy_acc(double *restrict acc, double a, const REAL *restrict x, int n) {
  for (int c = 0; c < n; c++) acc[c] += a * (double)x[c];
}

static inline REAL gat_lrelu(REAL z) { return z > 0 ? z : GAT_SLOPE * z; }

/* Software prefetch of a whole row (n values, one hint per 64-byte line) GAT_PF_DIST
 * neighbours ahead of its use: neighbour rows are random reads the hardware cannot predict. */
#ifndef GAT_PF_DIST
#define GAT_PF_DIST 2
#endif
static inline void gat_prefetch_row(const REAL *row, int64_t n) {
#if GAT_PF_DIST > 0
  const char *b = (const char *)row;
  for (int64_t o = 0; o < n * (int64_t)sizeof(REAL); o += 64) __builtin_prefetch(b + o, 0, 3);
#else
  (void)row, (void)n;
#endif
}

/* Prefetch of the H-wide per-row entries (scores, their gradients, attention slots) that a
 * coming row or edge will touch: 32 B at H = 8, one cache line, but a random one. */
static inline void gat_prefetch_small(const REAL *p, int rw) {
#if GAT_PF_DIST > 0
  if (rw)
    __builtin_prefetch(p, 1, 3);
  else
    __builtin_prefetch(p, 0, 3);
#else
  (void)p, (void)rw;
#endif
}

/* Before a row of the backward's per-row pass, ask for what the next row (inext, -1 if none)
 * reads at random: the scores s_src and their gradients ds_src of its neighbours. */
static inline void gat_prefetch_next(const er_gat_cache_T *c, const er_lgraph *g, int64_t inext) {
  if (inext < 0) return;
  const int64_t p0 = g->indptr[inext], deg = g->indptr[inext + 1] - p0;
  const er_lidx *nb = g->indices + p0;
  for (int64_t t = 0; t < deg; t++) {
    gat_prefetch_small(c->s_src + (int64_t)nb[t] * c->H, 0);
    gat_prefetch_small(c->ds_src + (int64_t)nb[t] * c->H, 1);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Cache                                                                                      */

/* The cache's buffer table (erase/mem.h): (lvalue, elements, type, flags) over n_own rows,
 * n_tot rows with ghosts, nnz stored edges, H heads of C channels. */
#define GAT_CACHE_BUFFERS(X)                                                                 \
  X(c->alpha, (n_own + nnz) * H, REAL, 0)                                                    \
  X(c->s_src, n_tot * H, REAL, 0)                                                            \
  X(c->s_dst, n_own * H, REAL, 0)                                                            \
  X(c->ds_src, n_tot * H, REAL, ER_BUF_ZERO) /* invariant: zero between backwards */         \
  X(c->dal, (n_own + nnz) * H, REAL, 0)                                                      \
  X(c->rowk, 3 * H, REAL, 0)                                                                 \
  X(c->acc, H * C, double, 0)                                                                \
  X(c->tindptr, n_tot + 1, int64_t, ER_BUF_ZERO)                                             \
  X(c->tsrc, nnz + 1, er_lidx, 0)                                                            \
  X(c->tslot, nnz + 1, int64_t, 0)

double er_gat_cache_bytes_T(int64_t n_own, int64_t n_tot, int64_t nnz, int H, int C) {
  return 0 GAT_CACHE_BUFFERS(ER_BUF_BYTES);
}

void er_gat_cache_destroy_T(er_gat_cache_T **cache) {
  if (!cache || !*cache) return;
  er_gat_cache_T *c = *cache;
  GAT_CACHE_BUFFERS(ER_BUF_FREE)
  free(c);
  *cache = NULL;
}

er_err er_gat_cache_create_T(const er_lgraph *g, int H, int C, er_gat_cache_T **cache) {
  er_err err = ER_OK;
  er_gat_cache_T *c = NULL;
  ER_CHECK(cache != NULL, ER_ERR_INPUT, "gat cache: output handle is NULL");
  *cache = NULL;
  ER_CHECK(H >= 1 && C >= 1 && (int64_t)H * C <= INT_MAX, ER_ERR_INPUT,
           "gat: invalid heads %d / width %d", H, C);
  ER_CALL(er_nn_lgraph_check(g, NULL));
  ER_CALLOC(c, 1);
  c->n_own = g->n_own;
  c->n_tot = g->n_tot;
  c->nnz = g->indptr[g->n_own];
  c->H = H;
  c->C = C;
  {
    const size_t n_own = (size_t)c->n_own, n_tot = (size_t)c->n_tot, nnz = (size_t)c->nnz;
    GAT_CACHE_BUFFERS(ER_BUF_ALLOC)
  }
  //---- transposed edge lists: count per source row, prefix sum, fill in target order
  for (int64_t e = 0; e < c->nnz; e++) c->tindptr[g->indices[e] + 1]++;
  for (int64_t j = 0; j < c->n_tot; j++) c->tindptr[j + 1] += c->tindptr[j];
  for (int64_t i = 0; i < c->n_own; i++) /* tindptr[j] serves as row j's fill cursor */
    for (int64_t e = g->indptr[i]; e < g->indptr[i + 1]; e++) {
      int64_t q = c->tindptr[g->indices[e]]++;
      c->tsrc[q] = (er_lidx)i;
      c->tslot[q] = e + i + 1;
    }
  for (int64_t j = c->n_tot; j > 0; j--) c->tindptr[j] = c->tindptr[j - 1]; /* undo the shift */
  c->tindptr[0] = 0;
  *cache = c;
  c = NULL;
cleanup:
  er_gat_cache_destroy_T(&c);
  return err;
}

const REAL *er_gat_cache_alpha_T(const er_gat_cache_T *cache) {
  return cache ? cache->alpha : NULL;
}

/* Every call checks that the cache was made for this graph shape and these heads. */
static er_err gat_check_call(const er_gat_cache_T *c, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CHECK(c != NULL && g != NULL && g->indptr != NULL, ER_ERR_INPUT,
           "gat: NULL cache or graph");
  /* read indptr[n_own] only once n_own is known to be the cache's (validated) one */
  int64_t nnz = g->n_own == c->n_own ? g->indptr[g->n_own] : -1;
  ER_CHECK(c->H == H && c->C == C && c->n_own == g->n_own && c->n_tot == g->n_tot &&
               c->nnz == nnz,
           ER_ERR_INPUT,
           "gat: cache made for H %d C %d n_own %" PRId64 " n_tot %" PRId64 " nnz %" PRId64
           ", called with H %d C %d n_own %" PRId64 " n_tot %" PRId64 " nnz %" PRId64,
           c->H, c->C, c->n_own, c->n_tot, c->nnz, H, C, g->n_own, g->n_tot, nnz);
cleanup:
  return err;
}

/* gat_check_call, then: the row range [lo, hi) lies in [0, n_tot). */
static er_err gat_check_range(const er_gat_cache_T *c, const er_lgraph *g, int H, int C, int64_t lo,
                              int64_t hi, const char *what) {
  er_err err = ER_OK;
  ER_CALL(gat_check_call(c, g, H, C));
  ER_CHECK(0 <= lo && lo <= hi && hi <= g->n_tot, ER_ERR_INPUT,
           "gat %s: range [%" PRId64 ", %" PRId64 ") outside [0, %" PRId64 ")", what, lo, hi,
           g->n_tot);
cleanup:
  return err;
}

/* gat_check_call, then: rows[0..n_rows) (0..n_rows-1 when rows is NULL) are owned rows. */
static er_err gat_check_rows(const er_gat_cache_T *c, const er_lgraph *g, int H, int C,
                             const er_lidx *rows, int64_t n_rows) {
  er_err err = ER_OK;
  ER_CALL(gat_check_call(c, g, H, C));
  const int64_t n_own = g->n_own;
  ER_CHECK(n_rows >= 0 && (rows != NULL || n_rows <= n_own), ER_ERR_INPUT,
           "gat: %" PRId64 " rows requested of %" PRId64, n_rows, n_own);
  if (rows)
    for (int64_t r = 0; r < n_rows; r++)
      ER_CHECK(rows[r] >= 0 && rows[r] < n_own, ER_ERR_INPUT,
               "gat: row %d outside the owned rows [0, %" PRId64 ")", (int)rows[r], n_own);
cleanup:
  return err;
}

/* ------------------------------------------------------------------------------------------ */
/* Forward                                                                                    */

er_err er_gat_scores_T(er_gat_cache_T *c, const REAL *h, const REAL *a_src, const REAL *a_dst,
                       int64_t lo, int64_t hi, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_range(c, g, H, C, lo, hi, "scores"));
  const int64_t HC = (int64_t)H * C;
  for (int64_t j = lo; j < hi; j++) {
    const REAL *hj = h + j * HC;
    for (int k = 0; k < H; k++) c->s_src[j * H + k] = vdot(a_src + k * C, hj + k * C, C);
    if (j < g->n_own)
      for (int k = 0; k < H; k++) c->s_dst[j * H + k] = vdot(a_dst + k * C, hj + k * C, C);
  }
cleanup:
  return err;
}

er_err er_gat_aggregate_T(REAL *out, er_gat_cache_T *c, const REAL *h, const REAL *bias,
                          const er_lidx *rows, int64_t n_rows, const er_lgraph *g, int H, int C) {
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

    //---- logits and per-head max
    for (int k = 0; k < H; k++) {
      REAL e = gat_lrelu(c->s_src[i * H + k] + sd[k]);
      al[k] = e;
      mx[k] = e;
    }
    for (int64_t t = 0; t < deg; t++) {
      const REAL *ss = c->s_src + (int64_t)nb[t] * H;
      REAL *a = al + (t + 1) * H;
      for (int k = 0; k < H; k++) {
        REAL e = gat_lrelu(ss[k] + sd[k]);
        a[k] = e;
        if (e > mx[k]) mx[k] = e;
      }
    }
    //---- softmax
    for (int k = 0; k < H; k++) sum[k] = 0;
    for (int64_t s = 0; s <= deg; s++)
      for (int k = 0; k < H; k++) {
        REAL v = ER_EXP(al[s * H + k] - mx[k]);
        al[s * H + k] = v;
        sum[k] += v;
      }
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
      const REAL *hj = h + (s == 0 ? i : (int64_t)nb[s - 1]) * HC;
      if (s + GAT_PF_DIST <= deg)
        gat_prefetch_row(h + (int64_t)nb[s + GAT_PF_DIST - 1] * HC, HC);
      for (int k = 0; k < H; k++) vaxpy(o + k * C, al[s * H + k], hj + k * C, C);
    }
  }
cleanup:
  return err;
}

er_err er_gat_forward_T(REAL *out, er_gat_cache_T *c, const REAL *h, const REAL *a_src,
                        const REAL *a_dst, const REAL *bias, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(er_gat_scores_T(c, h, a_src, a_dst, 0, g ? g->n_tot : 0, g, H, C));
  ER_CALL(er_gat_aggregate_T(out, c, h, bias, NULL, g->n_own, g, H, C));
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
 * lists: h_j and dh_j stay hot, dout_i is the one random read), backward_rows (per target row
 * over its contiguous slots) and backward_sources (per row). */

/* Returns x . b and does z += a x in one pass over x, with GAT_LANES partial sums (one
 * accumulator chain would bound the dot by the add latency at C = 512). */
#define GAT_LANES 16
static inline REAL vdot_axpy(REAL *restrict z, REAL a, const REAL *restrict x,
                             const REAL *restrict b, int n) {
  REAL acc[GAT_LANES] = {0};
  int c = 0;
  for (; c + GAT_LANES <= n; c += GAT_LANES)
    for (int l = 0; l < GAT_LANES; l++) {
      acc[l] += x[c + l] * b[c + l];
      z[c + l] += a * x[c + l];
    }
  REAL s = 0;
  for (; c < n; c++) {
    s += x[c] * b[c];
    z[c] += a * x[c];
  }
  for (int w = GAT_LANES / 2; w >= 1; w /= 2) /* pairwise fold */
    for (int l = 0; l < w; l++) acc[l] += acc[l + w];
  return s + acc[0];
}

/* One edge slot p of target row i, seen from source row j: dal[p] = dout_i . h_j and
 * dh_j += alpha[p] dout_i, per head. */
static inline void gat_gather_slot(REAL *restrict dhj, REAL *restrict dal,
                                   const REAL *restrict al, const REAL *restrict go,
                                   const REAL *restrict hj, int H, int C) {
  for (int k = 0; k < H; k++) dal[k] = vdot_axpy(dhj + k * C, al[k], go + k * C, hj + k * C, C);
}

er_err er_gat_backward_gather_T(REAL *dh, const REAL *dout, const REAL *h, er_gat_cache_T *c,
                                int64_t lo, int64_t hi, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_range(c, g, H, C, lo, hi, "backward gather"));
  const int64_t HC = (int64_t)H * C;
  const int64_t *tindptr = c->tindptr, *tslot = c->tslot;
  const er_lidx *tsrc = c->tsrc;
  const int64_t qend = tindptr[hi];
  for (int64_t j = lo; j < hi; j++) {
    const REAL *hj = h + j * HC;
    REAL *dhj = dh + j * HC;
    memset(dhj, 0, (size_t)HC * sizeof(REAL));
    if (j < g->n_own) { /* self loop: slot indptr[j] + j */
      const int64_t p = g->indptr[j] + j;
      gat_gather_slot(dhj, c->dal + p * H, c->alpha + p * H, dout + j * HC, hj, H, C);
    }
    for (int64_t q = tindptr[j]; q < tindptr[j + 1]; q++) {
      const int64_t p = tslot[q];
      if (q + GAT_PF_DIST < qend) { /* the lists are contiguous: run on into the next rows */
        gat_prefetch_row(dout + (int64_t)tsrc[q + GAT_PF_DIST] * HC, HC);
        gat_prefetch_small(c->alpha + tslot[q + GAT_PF_DIST] * H, 0);
        gat_prefetch_small(c->dal + tslot[q + GAT_PF_DIST] * H, 1);
      }
      gat_gather_slot(dhj, c->dal + p * H, c->alpha + p * H, dout + (int64_t)tsrc[q] * HC, hj, H,
                      C);
    }
  }
cleanup:
  return err;
}

er_err er_gat_backward_rows_T(REAL *dh, REAL *da_dst, REAL *dbias, const REAL *dout, const REAL *h,
                              const REAL *a_dst, er_gat_cache_T *c, const er_lidx *rows,
                              int64_t n_rows, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_rows(c, g, H, C, rows, n_rows));
  const int64_t HC = (int64_t)H * C;
  REAL *tk = c->rowk, *dsd = c->rowk + H;
  double *acc = c->acc;
  //---- dbias: column sums of dout over these rows, in double
  if (dbias) {
    memset(acc, 0, (size_t)HC * sizeof(double));
    for (int64_t r = 0; r < n_rows; r++) {
      const int64_t i = rows ? rows[r] : r;
      for (int64_t q = 0; q < HC; q++) acc[q] += dout[i * HC + q];
    }
    for (int64_t q = 0; q < HC; q++) dbias[q] += (REAL)acc[q];
  }
  //---- per target row: softmax and LeakyReLU backward to the scores
  memset(acc, 0, (size_t)HC * sizeof(double)); /* da_dst */
  for (int64_t r = 0; r < n_rows; r++) {
    const int64_t i = rows ? rows[r] : r;
    const int64_t p0 = g->indptr[i], deg = g->indptr[i + 1] - p0;
    const er_lidx *nb = g->indices + p0;
    const REAL *al = c->alpha + (p0 + i) * H, *dal = c->dal + (p0 + i) * H;
    const REAL *sd = c->s_dst + i * H;
    gat_prefetch_next(c, g, r + 1 < n_rows ? (rows ? rows[r + 1] : r + 1) : -1);
    for (int k = 0; k < H; k++) tk[k] = 0;
    for (int64_t s = 0; s <= deg; s++)
      for (int k = 0; k < H; k++) tk[k] += al[s * H + k] * dal[s * H + k];
    for (int k = 0; k < H; k++) dsd[k] = 0;
    for (int64_t s = 0; s <= deg; s++) {
      const int64_t j = s == 0 ? i : (int64_t)nb[s - 1];
      REAL *dss = c->ds_src + j * H;
      const REAL *ss = c->s_src + j * H;
      for (int k = 0; k < H; k++) {
        REAL de = al[s * H + k] * (dal[s * H + k] - tk[k]);
        REAL dz = ss[k] + sd[k] > 0 ? de : GAT_SLOPE * de;
        dss[k] += dz;
        dsd[k] += dz;
      }
    }
    // destination score of row i
    const REAL *hi = h + i * HC;
    REAL *dhi = dh + i * HC;
    for (int k = 0; k < H; k++) {
      vaxpy(dhi + k * C, dsd[k], a_dst + k * C, C);
      vaxpy_acc(acc + k * C, dsd[k], hi + k * C, C);
    }
  }
  for (int64_t q = 0; q < HC; q++) da_dst[q] += (REAL)acc[q];
cleanup:
  return err;
}

er_err er_gat_backward_sources_T(REAL *dh, REAL *da_src, const REAL *h, const REAL *a_src,
                                 er_gat_cache_T *c, int64_t lo, int64_t hi, const er_lgraph *g,
                                 int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_range(c, g, H, C, lo, hi, "backward sources"));
  const int64_t HC = (int64_t)H * C;
  double *acc = c->acc;
  memset(acc, 0, (size_t)HC * sizeof(double));
  for (int64_t j = lo; j < hi; j++) {
    REAL *ds = c->ds_src + j * H;
    const REAL *hj = h + j * HC;
    REAL *dhj = dh + j * HC;
    for (int k = 0; k < H; k++) {
      if (ds[k] == 0) continue;
      vaxpy(dhj + k * C, ds[k], a_src + k * C, C);
      vaxpy_acc(acc + k * C, ds[k], hj + k * C, C);
      ds[k] = 0;
    }
  }
  for (int64_t q = 0; q < HC; q++) da_src[q] += (REAL)acc[q];
cleanup:
  return err;
}

er_err er_gat_backward_T(REAL *dh, REAL *da_src, REAL *da_dst, REAL *dbias, const REAL *dout,
                         const REAL *h, const REAL *a_src, const REAL *a_dst, er_gat_cache_T *c,
                         const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_call(c, g, H, C));
  ER_CALL(er_gat_backward_gather_T(dh, dout, h, c, 0, g->n_tot, g, H, C));
  ER_CALL(er_gat_backward_rows_T(dh, da_dst, dbias, dout, h, a_dst, c, NULL, g->n_own, g, H, C));
  ER_CALL(er_gat_backward_sources_T(dh, da_src, h, a_src, c, 0, g->n_tot, g, H, C));
cleanup:
  return err;
}

/* ------------------------------------------------------------------------------------------ */
/* Reference twins: one edge at a time, straight from the formulas, double accumulation.      */

/* Raw score z = a_src[k] . h_j + a_dst[k] . h_i of edge j -> i, head k (before LeakyReLU). */
static double gat_ref_z(const REAL *h, const REAL *a_src, const REAL *a_dst, int64_t i,
                        int64_t j, int k, int H, int C) {
  const int64_t HC = (int64_t)H * C;
  double s = 0;
  for (int c = 0; c < C; c++) s += (double)a_src[k * C + c] * h[j * HC + k * C + c];
  for (int c = 0; c < C; c++) s += (double)a_dst[k * C + c] * h[i * HC + k * C + c];
  return s;
}

/* alpha[s] for the deg + 1 edges into row i (s = 0 is the self loop), head k. */
static void gat_ref_alpha(double *alpha, const REAL *h, const REAL *a_src, const REAL *a_dst,
                          const er_lgraph *g, int64_t i, int k, int H, int C) {
  const int64_t p0 = g->indptr[i], deg = g->indptr[i + 1] - p0;
  double mx = -INFINITY, denom = 0;
  for (int64_t s = 0; s <= deg; s++) {
    int64_t j = s == 0 ? i : g->indices[p0 + s - 1];
    double z = gat_ref_z(h, a_src, a_dst, i, j, k, H, C);
    alpha[s] = z > 0 ? z : 0.2 * z;
    if (alpha[s] > mx) mx = alpha[s];
  }
  for (int64_t s = 0; s <= deg; s++) denom += exp(alpha[s] - mx);
  for (int64_t s = 0; s <= deg; s++) alpha[s] = exp(alpha[s] - mx) / denom;
}

er_err er_gat_forward_ref_T(REAL *out, const REAL *h, const REAL *a_src, const REAL *a_dst,
                            const REAL *bias, const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  int64_t max_deg = 0;
  double *alpha = NULL;
  ER_CHECK(H >= 1 && C >= 1, ER_ERR_INPUT, "gat ref: invalid heads %d / width %d", H, C);
  ER_CALL(er_nn_lgraph_check(g, &max_deg));
  ER_MALLOC(alpha, max_deg + 1);
  const int64_t HC = (int64_t)H * C;
  for (int64_t i = 0; i < g->n_own; i++) {
    const int64_t p0 = g->indptr[i], deg = g->indptr[i + 1] - p0;
    for (int k = 0; k < H; k++) {
      gat_ref_alpha(alpha, h, a_src, a_dst, g, i, k, H, C);
      for (int c = 0; c < C; c++) {
        double o = bias ? bias[k * C + c] : 0.0;
        for (int64_t s = 0; s <= deg; s++) {
          int64_t j = s == 0 ? i : g->indices[p0 + s - 1];
          o += alpha[s] * h[j * HC + k * C + c];
        }
        out[i * HC + k * C + c] = (REAL)o;
      }
    }
  }
cleanup:
  free(alpha);
  return err;
}

er_err er_gat_backward_ref_T(REAL *dh, REAL *da_src, REAL *da_dst, REAL *dbias, const REAL *dout,
                             const REAL *h, const REAL *a_src, const REAL *a_dst,
                             const er_lgraph *g, int H, int C) {
  er_err err = ER_OK;
  int64_t max_deg = 0;
  double *alpha = NULL, *dalpha = NULL, *gh = NULL, *gas = NULL, *gad = NULL, *gb = NULL;
  ER_CHECK(H >= 1 && C >= 1, ER_ERR_INPUT, "gat ref: invalid heads %d / width %d", H, C);
  ER_CALL(er_nn_lgraph_check(g, &max_deg));
  const int64_t HC = (int64_t)H * C;
  ER_MALLOC(alpha, max_deg + 1);
  ER_MALLOC(dalpha, max_deg + 1);
  ER_CALLOC(gh, g->n_tot * HC);
  ER_CALLOC(gas, HC);
  ER_CALLOC(gad, HC);
  ER_CALLOC(gb, HC);
  for (int64_t i = 0; i < g->n_own; i++) {
    const int64_t p0 = g->indptr[i], deg = g->indptr[i + 1] - p0;
    for (int k = 0; k < H; k++) {
      gat_ref_alpha(alpha, h, a_src, a_dst, g, i, k, H, C);
      // out_i = sum_s alpha_s h_j + bias
      for (int c = 0; c < C; c++) gb[k * C + c] += dout[i * HC + k * C + c];
      double S = 0;
      for (int64_t s = 0; s <= deg; s++) {
        int64_t j = s == 0 ? i : g->indices[p0 + s - 1];
        double d = 0;
        for (int c = 0; c < C; c++) {
          d += (double)dout[i * HC + k * C + c] * h[j * HC + k * C + c];
          gh[j * HC + k * C + c] += alpha[s] * dout[i * HC + k * C + c];
        }
        dalpha[s] = d;
        S += alpha[s] * d;
      }
      // alpha = softmax(e), e = LeakyReLU_0.2(z), z = a_src . h_j + a_dst . h_i
      for (int64_t s = 0; s <= deg; s++) {
        int64_t j = s == 0 ? i : g->indices[p0 + s - 1];
        double de = alpha[s] * (dalpha[s] - S);
        double z = gat_ref_z(h, a_src, a_dst, i, j, k, H, C);
        double dz = z > 0 ? de : 0.2 * de;
        for (int c = 0; c < C; c++) {
          gas[k * C + c] += dz * h[j * HC + k * C + c];
          gh[j * HC + k * C + c] += dz * a_src[k * C + c];
          gad[k * C + c] += dz * h[i * HC + k * C + c];
          gh[i * HC + k * C + c] += dz * a_dst[k * C + c];
        }
      }
    }
  }
  for (int64_t q = 0; q < g->n_tot * HC; q++) dh[q] += (REAL)gh[q];
  for (int64_t q = 0; q < HC; q++) {
    da_src[q] += (REAL)gas[q];
    da_dst[q] += (REAL)gad[q];
    if (dbias) dbias[q] += (REAL)gb[q];
  }
cleanup:
  free(alpha);
  free(dalpha);
  free(gh);
  free(gas);
  free(gad);
  free(gb);
  return err;
}

#undef GAT_SLOPE
