/* generate.c: contextual stochastic block model (CSBM) generator; every rank builds its block of
 * nodes and the dataset (docs/FORMAT.md) is written with collective parallel-HDF5 writes.
 * Reads nothing and never draws from the rank: one seed gives the same datasets at any P.
 *
 * Model (N nodes, K classes, F features, degree D, homophily H, feature SNR S, seed s; every
 * draw is rng.h at (s, stream, global id, index)):
 *  - Classes: perm is a keyed bijection of [0, N): an 8-round balanced Feistel network on 2h
 *    bits (2^2h >= N), round keys er_rng_u64(s, GEN_CLASS, 0, r), cycle-walked back into
 *    [0, N). class(i) = perm(i) % K, so class c has n_c = ceil((N - c) / K) members (balanced
 *    to +-1) and its j-th member is perm^-1(c + K j): a uniform node of class c is O(1).
 *  - Edges: node u draws m_u = floor(D/2) + [U(EDGE, u, 0) < D/2 - floor(D/2)] endpoints. The
 *    k-th endpoint's class is class(u) if U(EDGE, u, 1+3k) < H, else a uniform other class
 *    (below(EDGE, u, 2+3k, K-1), skipping class(u)); the endpoint is member
 *    below(EDGE, u, 3+3k, n_c) of that class. The graph is the symmetrized set of all draws
 *    without self loops and duplicates: mean degree ~D, fraction of same-class edges ~H.
 *  - Features: mu_c[f] = S / sqrt(F) * Normal(MEAN, c, f) and
 *    x_i[f] = mu_class(i)[f] + z_i[f], (z_i[2q], z_i[2q+1]) a polar-method normal pair
 *    from er_rng_u64(FEAT, i, q + attempt 2^32). So E||mu_c||^2 = S^2 and
 *    E||mu_c - mu_c'||^2 = 2 S^2 against unit noise per dimension. With the default S = 1 one
 *    node's features tell two classes apart with ~76% accuracy (Phi(S / sqrt 2)) and ten
 *    classes ~37% even with the true means (K=10, F=128): the features alone are weak, one
 *    hop of neighbour averaging (H = 0.8, D = 10) lifts that to ~80%, two hops to ~99%.
 *  - Splits: train = {i : perm(i) < T K} (members j = 0..T-1 of every class), val = {i : T K <=
 *    perm(i) < T K + V}, test = the next U in perm order; disjoint, stored sorted.
 * Does not keep anything global in memory: per rank O(block * (D + F)) plus K x F means. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/dataset.h"
#include "erase/h5.h"
#include "erase/rng.h"

#define GEN_ROUNDS 8
#define GEN_MAX_NODES (INT64_C(1) << 40) /* er_rng_below is unbiased below 2^40 */
#define GEN_MEAN_CACHE (INT64_C(1) << 22) /* precompute the K x F means up to this size */

//---------------------------------------------------------------------------------------------
// keyed permutation of [0, n)
//---------------------------------------------------------------------------------------------

typedef struct {
  int64_t n;
  int h;         /* half width in bits */
  uint64_t mask; /* (1 << h) - 1 */
  uint64_t key[GEN_ROUNDS];
} gen_perm;

static void gen_perm_init(gen_perm *p, int64_t n, uint64_t seed) {
  int bits = 1;
  while (bits < 63 && (INT64_C(1) << bits) < n) ++bits;
  p->n = n;
  p->h = (bits + 1) / 2;
  p->mask = (UINT64_C(1) << p->h) - 1;
  for (int r = 0; r < GEN_ROUNDS; ++r) p->key[r] = er_rng_u64(seed, ER_STREAM_GEN_CLASS, 0, r);
}

/* Feistel round function: a splitmix64 finalizer of key + x (the key carries the randomness). */
static inline uint64_t gen_mix(uint64_t key, uint64_t x) {
  uint64_t z = key + x * UINT64_C(0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static inline uint64_t gen_feistel(const gen_perm *p, uint64_t x) {
  uint64_t l = x >> p->h, r = x & p->mask;
  for (int k = 0; k < GEN_ROUNDS; ++k) {
    uint64_t t = l ^ (gen_mix(p->key[k], r) & p->mask);
    l = r;
    r = t;
  }
  return (l << p->h) | r;
}

static inline uint64_t gen_feistel_inv(const gen_perm *p, uint64_t x) {
  uint64_t l = x >> p->h, r = x & p->mask;
  for (int k = GEN_ROUNDS - 1; k >= 0; --k) {
    uint64_t t = r ^ (gen_mix(p->key[k], l) & p->mask);
    r = l;
    l = t;
  }
  return (l << p->h) | r;
}

/* perm(i) and perm^-1(i): cycle walking keeps the bijection inside [0, n). */
static inline int64_t gen_perm_fwd(const gen_perm *p, int64_t i) {
  uint64_t x = (uint64_t)i;
  do x = gen_feistel(p, x);
  while (x >= (uint64_t)p->n);
  return (int64_t)x;
}

static inline int64_t gen_perm_inv(const gen_perm *p, int64_t i) {
  uint64_t x = (uint64_t)i;
  do x = gen_feistel_inv(p, x);
  while (x >= (uint64_t)p->n);
  return (int64_t)x;
}

//---------------------------------------------------------------------------------------------
// options and small helpers
//---------------------------------------------------------------------------------------------

static er_err gen_check_opts(const er_generate_opts *o) {
  if (!o->out || !*o->out) return ER_ERROR(ER_ERR_INPUT, "generate: --out DATA.h5 is required");
  if (o->nodes < 2 || o->nodes > GEN_MAX_NODES)
    return ER_ERROR(ER_ERR_INPUT, "generate: --nodes %lld must be in [2, 2^40]",
                    (long long)o->nodes);
  if (!(o->avg_degree > 0) || o->avg_degree > (double)(o->nodes - 1))
    return ER_ERROR(ER_ERR_INPUT, "generate: --avg-degree %g must be in (0, nodes-1 = %lld]",
                    o->avg_degree, (long long)(o->nodes - 1));
  if (o->classes < 2 || o->classes > o->nodes)
    return ER_ERROR(ER_ERR_INPUT, "generate: --classes %d must be in [2, nodes = %lld]",
                    o->classes, (long long)o->nodes);
  if (o->features < 1 || o->features > (INT64_C(1) << 20))
    return ER_ERROR(ER_ERR_INPUT, "generate: --features %lld must be in [1, 2^20]",
                    (long long)o->features);
  if (!(o->homophily >= 0 && o->homophily <= 1))
    return ER_ERROR(ER_ERR_INPUT, "generate: --homophily %g must be in [0, 1]", o->homophily);
  if (!(o->feature_snr >= 0 && o->feature_snr <= 1e6))
    return ER_ERROR(ER_ERR_INPUT, "generate: --feature-snr %g must be in [0, 1e6]",
                    o->feature_snr);
  if (o->train_per_class < 1 || o->val < 0 || o->test < 0)
    return ER_ERROR(ER_ERR_INPUT,
                    "generate: --train-per-class must be >= 1, --val and --test >= 0");
  /* T*K + V + U <= N without overflow: each term is compared to N first */
  if (o->train_per_class > o->nodes / o->classes || o->val > o->nodes || o->test > o->nodes ||
      o->train_per_class * o->classes + o->val + o->test > o->nodes)
    return ER_ERROR(ER_ERR_INPUT,
                    "generate: train-per-class*classes + val + test = %lld*%d + %lld + %lld "
                    "exceeds nodes = %lld",
                    (long long)o->train_per_class, o->classes, (long long)o->val,
                    (long long)o->test, (long long)o->nodes);
  return ER_OK;
}

/* Rank owning global node v under er_block_range(n, size, .). */
static inline int gen_owner(int64_t n, int size, int64_t v) {
  int64_t q = n / size, r = n % size;
  if (v < r * (q + 1)) return (int)(v / (q + 1));
  return (int)(r + (v - r * (q + 1)) / q);
}

static int gen_cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static void gen_sort_row(int64_t *a, int64_t len) {
  if (len > 24) {
    qsort(a, (size_t)len, sizeof *a, gen_cmp_i64);
    return;
  }
  for (int64_t i = 1; i < len; ++i) {
    int64_t x = a[i], j = i;
    while (j > 0 && a[j - 1] > x) {
      a[j] = a[j - 1];
      --j;
    }
    a[j] = x;
  }
}

static inline int64_t gen_class_size(int64_t n, int k, int64_t c) { return (n - c + k - 1) / k; }

//---------------------------------------------------------------------------------------------
// local phases (no communication; the caller agrees on their errors)
//---------------------------------------------------------------------------------------------

/* perm value of every block node (class and split membership both derive from it). */
static er_err gen_perm_block(const gen_perm *p, int64_t lo, int64_t hi, int64_t **pv) {
  er_err err = ER_OK;
  int64_t *a = NULL;
  ER_MALLOC(a, hi - lo);
  for (int64_t i = lo; i < hi; ++i) a[i - lo] = gen_perm_fwd(p, i);
  *pv = a;
cleanup:
  return err;
}

/* Endpoint draws of every block node u: gv[gptr[u-lo] .. gptr[u-lo+1]). */
static er_err gen_draw_edges(const er_generate_opts *o, const gen_perm *p, const int64_t *pv,
                             int64_t lo, int64_t hi, int64_t **gptr_out, int64_t **gv_out) {
  er_err err = ER_OK;
  int64_t nloc = hi - lo, n = o->nodes;
  int k = o->classes;
  int64_t *gptr = NULL, *gv = NULL;
  double half = 0.5 * o->avg_degree, base = floor(half), frac = half - base;
  uint64_t s = o->seed;
  ER_MALLOC(gptr, nloc + 1);
  gptr[0] = 0;
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t m = (int64_t)base + (er_rng_uniform(s, ER_STREAM_GEN_EDGE, lo + i, 0) < frac);
    gptr[i + 1] = gptr[i] + m;
  }
  ER_MALLOC(gv, gptr[nloc]);
  for (int64_t i = 0; i < nloc; ++i) {
    uint64_t u = (uint64_t)(lo + i);
    int64_t cu = pv[i] % k;
    for (int64_t e = 0; e < gptr[i + 1] - gptr[i]; ++e) {
      uint64_t idx = 1 + 3 * (uint64_t)e;
      int64_t c = cu;
      if (er_rng_uniform(s, ER_STREAM_GEN_EDGE, u, idx) >= o->homophily) {
        c = (int64_t)er_rng_below(s, ER_STREAM_GEN_EDGE, u, idx + 1, (uint64_t)k - 1);
        if (c >= cu) ++c;
      }
      int64_t j = (int64_t)er_rng_below(s, ER_STREAM_GEN_EDGE, u, idx + 2,
                                        (uint64_t)gen_class_size(n, k, c));
      gv[gptr[i] + e] = gen_perm_inv(p, c + (int64_t)k * j);
    }
  }
  *gptr_out = gptr;
  *gv_out = gv;
  gptr = gv = NULL;
cleanup:
  free(gptr);
  free(gv);
  return err;
}

/* Pack the reverse direction (v, u) of every draw, grouped by the owner of v. */
static er_err gen_pack(int64_t n, int size, int64_t lo, int64_t nloc, const int64_t *gptr,
                       const int64_t *gv, int *scnt, int *sdis, int64_t **send_out) {
  er_err err = ER_OK;
  int64_t *send = NULL, *pos = NULL;
  int64_t ns = gptr[nloc];
  ER_CALLOC(pos, size);
  for (int64_t e = 0; e < ns; ++e) pos[gen_owner(n, size, gv[e])]++;
  ER_CHECK(ns <= INT_MAX, ER_ERR_INPUT,
           "generate: %lld edge draws on one rank exceed one exchange; use more ranks",
           (long long)ns);
  int64_t off = 0;
  for (int r = 0; r < size; ++r) {
    scnt[r] = (int)pos[r];
    sdis[r] = (int)off;
    int64_t c = pos[r];
    pos[r] = off;
    off += c;
  }
  ER_MALLOC(send, 2 * ns);
  for (int64_t i = 0; i < nloc; ++i)
    for (int64_t e = gptr[i]; e < gptr[i + 1]; ++e) {
      int64_t q = pos[gen_owner(n, size, gv[e])]++;
      send[2 * q] = gv[e];
      send[2 * q + 1] = lo + i;
    }
  *send_out = send;
  send = NULL;
cleanup:
  free(pos);
  free(send);
  return err;
}

/* Rows of the block from the own draws (u, v) and the received pairs (row, col): sorted,
 * self loops and duplicates dropped. indptr is local (starts at 0). */
static er_err gen_build_csr(int64_t lo, int64_t nloc, const int64_t *gptr, const int64_t *gv,
                            const int64_t *recv, int64_t nrecv, int64_t **indptr_out,
                            int64_t **cols_out) {
  er_err err = ER_OK;
  int64_t *ptr = NULL, *cur = NULL, *cols = NULL;
  ER_CALLOC(ptr, nloc + 1);
  ER_MALLOC(cur, nloc);
  for (int64_t i = 0; i < nloc; ++i) ptr[i + 1] = gptr[i + 1] - gptr[i];
  for (int64_t e = 0; e < nrecv; ++e) ptr[recv[2 * e] - lo + 1]++;
  for (int64_t i = 0; i < nloc; ++i) ptr[i + 1] += ptr[i];
  ER_MALLOC(cols, ptr[nloc]);
  for (int64_t i = 0; i < nloc; ++i) {
    cur[i] = ptr[i];
    for (int64_t e = gptr[i]; e < gptr[i + 1]; ++e) cols[cur[i]++] = gv[e];
  }
  for (int64_t e = 0; e < nrecv; ++e) cols[cur[recv[2 * e] - lo]++] = recv[2 * e + 1];
  /* sort each row, drop self loops and duplicates, compact in place */
  int64_t w = 0;
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t b = ptr[i], e = ptr[i + 1];
    gen_sort_row(cols + b, e - b);
    ptr[i] = w;
    for (int64_t q = b; q < e; ++q) {
      int64_t v = cols[q];
      if (v == lo + i || (w > ptr[i] && cols[w - 1] == v)) continue;
      cols[w++] = v;
    }
  }
  ptr[nloc] = w;
  *indptr_out = ptr;
  *cols_out = cols;
  ptr = cols = NULL;
cleanup:
  free(ptr);
  free(cur);
  free(cols);
  return err;
}

/* Two independent standard normals by Marsaglia's polar method (no trigonometry): attempt a
 * takes u, v in [-1, 1) from the two 32-bit halves of er_rng_u64(seed, GEN_FEAT, id,
 * q + a 2^32) and is accepted when 0 < u^2 + v^2 < 1 (probability pi/4). */
static inline void gen_normal2(uint64_t seed, uint64_t id, uint64_t q, double z[2]) {
  for (uint64_t a = 0;; ++a) {
    uint64_t b = er_rng_u64(seed, ER_STREAM_GEN_FEAT, id, q + (a << 32));
    double u = ((double)(b >> 32) - 0x1.0p31) * 0x1.0p-31; /* [-1, 1) */
    double v = ((double)(uint32_t)b - 0x1.0p31) * 0x1.0p-31;
    double w = u * u + v * v;
    if (w > 0 && w < 1) {
      double m = sqrt(-2.0 * log(w) / w);
      z[0] = u * m;
      z[1] = v * m;
      return;
    }
  }
}

/* Labels and features (x = class mean + unit Gaussian noise) of the block. */
static er_err gen_features(const er_generate_opts *o, const int64_t *pv, int64_t lo,
                           int64_t nloc, int32_t **labels_out, float **x_out) {
  er_err err = ER_OK;
  int64_t f = o->features, k = o->classes;
  double scale = o->feature_snr / sqrt((double)f);
  int32_t *labels = NULL;
  float *x = NULL;
  double *mu = NULL;
  uint64_t s = o->seed;
  int cached = k * f <= GEN_MEAN_CACHE;
  if (cached) {
    ER_MALLOC(mu, k * f);
    for (int64_t c = 0; c < k; ++c)
      for (int64_t j = 0; j < f; ++j)
        mu[c * f + j] = scale * er_rng_normal(s, ER_STREAM_GEN_MEAN, (uint64_t)c, (uint64_t)j);
  }
  ER_MALLOC(labels, nloc);
  ER_MALLOC(x, nloc * f);
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t c = pv[i] % k;
    labels[i] = (int32_t)c;
    float *xi = x + i * f;
    for (int64_t j = 0; j < f; j += 2) {
      double z[2];
      gen_normal2(s, (uint64_t)(lo + i), (uint64_t)(j / 2), z);
      for (int64_t q = j; q < j + 2 && q < f; ++q) {
        double m = cached ? mu[c * f + q]
                          : scale * er_rng_normal(s, ER_STREAM_GEN_MEAN, (uint64_t)c,
                                                  (uint64_t)q);
        xi[q] = (float)(m + z[q - j]);
      }
    }
  }
  *labels_out = labels;
  *x_out = x;
  labels = NULL;
  x = NULL;
cleanup:
  free(mu);
  free(labels);
  free(x);
  return err;
}

/* Block nodes of each split (ascending ids, so the rank-order concatenation is sorted). */
static er_err gen_splits(const er_generate_opts *o, const int64_t *pv, int64_t lo, int64_t nloc,
                         int64_t *split[3], int64_t cnt[3]) {
  er_err err = ER_OK;
  int64_t b0 = o->train_per_class * o->classes, b1 = b0 + o->val, b2 = b1 + o->test;
  cnt[0] = cnt[1] = cnt[2] = 0;
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t p = pv[i];
    cnt[0] += p < b0;
    cnt[1] += p >= b0 && p < b1;
    cnt[2] += p >= b1 && p < b2;
  }
  for (int t = 0; t < 3; ++t) ER_MALLOC(split[t], cnt[t]);
  cnt[0] = cnt[1] = cnt[2] = 0;
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t p = pv[i];
    int t = p < b0 ? 0 : p < b1 ? 1 : p < b2 ? 2 : -1;
    if (t >= 0) split[t][cnt[t]++] = lo + i;
  }
cleanup:
  return err;
}

//---------------------------------------------------------------------------------------------
// driver
//---------------------------------------------------------------------------------------------

static void gen_phase(MPI_Comm comm, const char *what, double *t) {
  double now = er_wtime();
  er_log(comm, "generate:   %-28s %8.2f s\n", what, now - *t);
  *t = now;
}

er_err er_generate(MPI_Comm comm, const er_generate_opts *opts) {
  er_err err = ER_OK;
  int rank, size;
  hid_t fid = -1;
  char *tmp = NULL;
  int64_t *pv = NULL, *gptr = NULL, *gv = NULL, *send = NULL, *recv = NULL;
  int64_t *indptr = NULL, *cols = NULL, *split[3] = {NULL, NULL, NULL};
  int32_t *labels = NULL;
  float *x = NULL;
  int *scnt = NULL, *sdis = NULL, *rcnt = NULL, *rdis = NULL;
  MPI_Datatype pair = MPI_DATATYPE_NULL;
  gen_perm perm;
  const er_generate_opts *o = opts;
  double t0 = er_wtime(), t = t0;

  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  ER_CALL(er_agree(comm, gen_check_opts(o)));
  int64_t n = o->nodes, f = o->features, lo, hi;
  er_block_range(n, size, rank, &lo, &hi);
  int64_t nloc = hi - lo;
  er_log(comm,
         "generate: CSBM n=%lld avg-degree=%g classes=%d features=%lld homophily=%g snr=%g "
         "seed=%llu on %d rank%s\n",
         (long long)n, o->avg_degree, o->classes, (long long)f, o->homophily, o->feature_snr,
         (unsigned long long)o->seed, size, size == 1 ? "" : "s");
  ER_CALL(er_h5_create(comm, o->out, &fid, &tmp)); /* fail fast on an unwritable --out */

  //---- classes and edge draws (local) ----
  gen_perm_init(&perm, n, o->seed);
  err = gen_perm_block(&perm, lo, hi, &pv);
  if (err == ER_OK) err = gen_draw_edges(o, &perm, pv, lo, hi, &gptr, &gv);
  ER_CALL(er_agree(comm, err));
  gen_phase(comm, "classes + edge draws", &t);

  //---- route the reverse direction of every draw to its owner ----
  scnt = calloc((size_t)size, sizeof *scnt);
  sdis = calloc((size_t)size, sizeof *sdis);
  rcnt = calloc((size_t)size, sizeof *rcnt);
  rdis = calloc((size_t)size, sizeof *rdis);
  err = scnt && sdis && rcnt && rdis ? ER_OK : ER_ERROR(ER_ERR_MEM, "out of memory (counts)");
  if (err == ER_OK) err = gen_pack(n, size, lo, nloc, gptr, gv, scnt, sdis, &send);
  ER_CALL(er_agree(comm, err));
  ER_CALL_MPI(MPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, comm));
  int64_t nrecv = 0;
  for (int r = 0; r < size; ++r) {
    rdis[r] = (int)(nrecv <= INT_MAX ? nrecv : 0);
    nrecv += rcnt[r];
  }
  err = nrecv <= INT_MAX ? ER_OK
                         : ER_ERROR(ER_ERR_INPUT,
                                    "generate: %lld received edges on rank %d exceed one "
                                    "exchange; use more ranks",
                                    (long long)nrecv, rank);
  if (err == ER_OK) {
    recv = malloc((size_t)(2 * nrecv + 1) * sizeof *recv);
    if (!recv) err = ER_ERROR(ER_ERR_MEM, "out of memory for %lld received edges",
                              (long long)nrecv);
  }
  ER_CALL(er_agree(comm, err));
  ER_CALL_MPI(MPI_Type_contiguous(2, MPI_INT64_T, &pair));
  ER_CALL_MPI(MPI_Type_commit(&pair));
  ER_CALL_MPI(MPI_Alltoallv(send, scnt, sdis, pair, recv, rcnt, rdis, pair, comm));
  ER_FREE(send);
  gen_phase(comm, "edge exchange", &t);

  //---- CSR rows of the block, global offsets, homophily ----
  err = gen_build_csr(lo, nloc, gptr, gv, recv, nrecv, &indptr, &cols);
  ER_FREE(gv);
  ER_FREE(gptr);
  ER_FREE(recv);
  ER_CALL(er_agree(comm, err));
  int64_t nnz = indptr[nloc], off = 0, same = 0, tot[2], loc[2];
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t cu = pv[i] % o->classes;
    for (int64_t e = indptr[i]; e < indptr[i + 1]; ++e)
      same += gen_perm_fwd(&perm, cols[e]) % o->classes == cu;
  }
  loc[0] = nnz;
  loc[1] = same;
  ER_CALL_MPI(MPI_Allreduce(loc, tot, 2, MPI_INT64_T, MPI_SUM, comm));
  ER_CALL_MPI(MPI_Exscan(&nnz, &off, 1, MPI_INT64_T, MPI_SUM, comm));
  if (rank == 0) off = 0;
  ER_CHECK(tot[0] % 2 == 0, ER_ERR_INTERNAL, "generate: adjacency is not symmetric");
  for (int64_t i = 0; i <= nloc; ++i) indptr[i] += off;
  gen_phase(comm, "CSR rows + homophily", &t);

  //---- labels, features, splits (local) ----
  err = gen_features(o, pv, lo, nloc, &labels, &x);
  int64_t scount[3] = {0, 0, 0}, soff[3] = {0, 0, 0}, stot[3];
  if (err == ER_OK) err = gen_splits(o, pv, lo, nloc, split, scount);
  ER_CALL(er_agree(comm, err));
  ER_CALL_MPI(MPI_Exscan(scount, soff, 3, MPI_INT64_T, MPI_SUM, comm));
  ER_CALL_MPI(MPI_Allreduce(scount, stot, 3, MPI_INT64_T, MPI_SUM, comm));
  if (rank == 0) soff[0] = soff[1] = soff[2] = 0;
  gen_phase(comm, "labels + features + splits", &t);

  //---- collective writes ----
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_INDPTR, H5T_STD_I64LE, H5T_NATIVE_INT64,
                                          n + 1, 0, lo, nloc + (rank == size - 1), indptr)));
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_INDICES, H5T_STD_I64LE, H5T_NATIVE_INT64,
                                          tot[0], 0, off, nnz, cols)));
  ER_FREE(cols);
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_FEATURES, H5T_IEEE_F32LE,
                                          H5T_NATIVE_FLOAT, n, f, lo, nloc, x)));
  ER_FREE(x);
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_LABELS, H5T_STD_I32LE, H5T_NATIVE_INT32,
                                          n, 0, lo, nloc, labels)));
  const char *split_ds[3] = {ER_DS_TRAIN, ER_DS_VAL, ER_DS_TEST};
  for (int s = 0; s < 3; ++s)
    ER_CALL(er_agree(comm, er_h5_write_rows(fid, split_ds[s], H5T_STD_I64LE, H5T_NATIVE_INT64,
                                            stot[s], 0, soff[s], scount[s], split[s])));
  char source[256];
  snprintf(source, sizeof source, "generate:csbm n=%lld d=%g k=%d f=%lld h=%g snr=%g seed=%llu",
           (long long)n, o->avg_degree, o->classes, (long long)f, o->homophily, o->feature_snr,
           (unsigned long long)o->seed);
  err = er_h5_attr_set_i64(fid, "/", "num_nodes", n);
  if (err == ER_OK) err = er_h5_attr_set_i64(fid, "/", "num_edges", tot[0] / 2);
  if (err == ER_OK) err = er_h5_attr_set_i64(fid, "/", "num_features", f);
  if (err == ER_OK) err = er_h5_attr_set_i64(fid, "/", "num_classes", o->classes);
  if (err == ER_OK) err = er_h5_attr_set_str(fid, "/", "source", source);
  ER_CALL(er_agree(comm, err));
  err = er_h5_commit(comm, fid, o->out, &tmp);
  fid = -1;
  ER_CALL(err);
  gen_phase(comm, "write (parallel HDF5)", &t);

  er_log(comm,
         "generate: wrote %s: %lld nodes, %lld edges (mean degree %.3f), %d classes, %lld "
         "features, homophily %.4f, train/val/test %lld/%lld/%lld, %.2f s\n",
         o->out, (long long)n, (long long)(tot[0] / 2), (double)tot[0] / (double)n, o->classes,
         (long long)f, tot[0] ? (double)tot[1] / (double)tot[0] : 0.0, (long long)stot[0],
         (long long)stot[1], (long long)stot[2], er_wtime() - t0);

cleanup:
  if (err != ER_OK && tmp) er_h5_abort(comm, fid, &tmp);
  if (pair != MPI_DATATYPE_NULL) MPI_Type_free(&pair);
  free(pv);
  free(gptr);
  free(gv);
  free(send);
  free(recv);
  free(indptr);
  free(cols);
  free(labels);
  free(x);
  for (int s = 0; s < 3; ++s) free(split[s]);
  free(scnt);
  free(sdis);
  free(rcnt);
  free(rdis);
  return err;
}
