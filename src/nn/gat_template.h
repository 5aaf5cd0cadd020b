/* gat_template.h: GAT attention aggregation (PyG GATConv semantics): the cache, the call
 * checks, the REAL helpers, the backward's rows pass (it reads no gathered row) and the literal
 * _ref twins, written once for REAL. No halo exchange, no linear part (h = x W is er_linear_*);
 * the kernels over gathered rows are in gat_rows_template.h. */
/* nn_float.c and nn_double.c include it (before gat_rows_template.h) and define REAL, ER_EXP_N
 * (exp over an array, for gat_rows_template.h's softmax) and, for the cache type and every
 * public function below, NAME_T as the name in nn.h. GAT_SLOPE stays defined for
 * gat_rows_template.h. */
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
  REAL *ds_dst; /* (n_own, H)  backward: d loss / d s_dst, written by backward_rows */
  REAL *dal;    /* (n_own + nnz, H) backward: d loss / d alpha per slot (alpha's layout) */
  /* transposed edge lists (built once): the edges j -> i leaving row j, i ascending, self loops
   * excluded: for q in [tindptr[j], tindptr[j+1]) the target row tsrc[q] and the slot tslot[q]
   * of that edge in alpha's layout */
  int64_t *tindptr; /* (n_tot + 1) */
  er_lidx *tsrc;    /* (nnz) */
  int64_t *tslot;   /* (nnz) */
  REAL *rowk;   /* (2, H) per-row head scratch: max and sum, or t */
  double *acc;  /* (2, H*C) per-call double accumulators of parameter gradients */
};

/* ------------------------------------------------------------------------------------------ */
/* Small helpers on REAL vectors and scores (the row helpers are in gat_rows_template.h). */

/* y += a x */
static inline void vaxpy(REAL *restrict y, REAL a, const REAL *restrict x, int n) {
  for (int c = 0; c < n; c++) y[c] += a * x[c];
}

static inline REAL gat_lrelu(REAL z) { return z > 0 ? z : GAT_SLOPE * z; }

/* Rows are prefetched GAT_PF_DIST neighbours ahead of their use (gat_rows_template.h). */
#ifndef GAT_PF_DIST
#define GAT_PF_DIST 2
#endif

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
  X(c->ds_dst, n_own * H, REAL, 0)                                                           \
  X(c->dal, (n_own + nnz) * H, REAL, 0)                                                      \
  X(c->rowk, 2 * H, REAL, 0)                                                                 \
  X(c->acc, 2 * H * C, double, 0)                                                           \
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
/* Backward, the per-target-row pass (gat_rows_template.h has the others). It reads no gathered
 * row, so one definition per REAL serves the float, double and bf16 backwards.               */

/* One slot of a target row in backward_rows, per head k: de = alpha (dal - t), dz = de times
 * the LeakyReLU slope at z = s_src[j] + s_dst[i]; ds_src[j] += dz, ds_dst[i] += dz. The
 * restrict pointers let the compiler vectorize over the heads (the caller's cache arrays could
 * otherwise alias; they do not). */
static inline void gat_rows_slot(REAL *restrict dss, REAL *restrict dsd, const REAL *restrict ss,
                                 const REAL *restrict sd, const REAL *restrict al,
                                 const REAL *restrict dal, const REAL *restrict tk, int H) {
  for (int k = 0; k < H; k++) {
    REAL de = al[k] * (dal[k] - tk[k]);
    REAL dz = ss[k] + sd[k] > 0 ? de : GAT_SLOPE * de;
    dss[k] += dz;
    dsd[k] += dz;
  }
}

er_err er_gat_backward_rows_T(REAL *dbias, const REAL *dout, er_gat_cache_T *c,
                              const er_lidx *rows, int64_t n_rows, const er_lgraph *g, int H,
                              int C) {
  er_err err = ER_OK;
  ER_CALL(gat_check_rows(c, g, H, C, rows, n_rows));
  const int64_t HC = (int64_t)H * C;
  REAL *tk = c->rowk;
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
    REAL *dsd = c->ds_dst + i * H;
    for (int k = 0; k < H; k++) dsd[k] = 0;
    for (int64_t s = 0; s <= deg; s++) {
      const int64_t j = s == 0 ? i : (int64_t)nb[s - 1];
      gat_rows_slot(c->ds_src + j * H, dsd, c->s_src + j * H, sd, al + s * H, dal + s * H, tk, H);
    }
  }
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

