/* generate.c: contextual (CSBM) and hierarchical (HSBM) stochastic block model generators; every
 * rank builds its block of nodes and the dataset (docs/FORMAT.md) is written with collective
 * parallel-HDF5 writes. Reads nothing and never draws from the rank: one seed gives the same
 * datasets at any P. docs/GENERATE.md describes both models for users.
 *
 * CSBM (N nodes, K classes, F features, degree D, homophily H, feature SNR S, seed s; every
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
 *
 * HSBM (the same N, K, F, D, H, S, s, and a tree: depth L, branching b, escape R): the
 * positions perm(i) in [0, N) are the leaves of a balanced tree, b^L leaf blocks of
 * contiguous positions (sizes floor or ceil of N / b^L, at least K: every leaf holds every
 * class); the level-l block of a node is the subtree of b^l leaves above its leaf. Classes and
 * features are the CSBM's (class(i) = perm(i) % K, so every block is class-balanced).
 *  - Edges: m_u as above; the k-th endpoint (indices 1+4k .. 4+4k) has level l = the number of
 *    j in 1..L with U(EDGE, u, 1+4k) < R^j (P(l >= j) = R^j), its class is chosen as in the
 *    CSBM (2+4k, 3+4k), and it is a uniform member of that class in u's level-l block minus
 *    u's level-(l-1) block (l = 0: u's leaf) (4+4k). Members of class c in a range of positions
 *    are an arithmetic progression, so a draw is O(1). The level of an edge is the level of the
 *    smallest block holding both ends: the tree's own partition into b^j parts cuts the edges
 *    of level > L - j, a fraction ~R^(L-j+1) of them.
 *  - Splits: as above in the order of the key c + K pi_c(j) of the j-th member of class c,
 *    pi_c a Feistel bijection of [0, n_c) keyed by er_rng_u64(s, GEN_CLASS, 1 + c, r): T per
 *    class, spread over all blocks (perm order itself would put the training set in leaf 0).
 *  - /generate/leaf stores each node's leaf block (attributes levels, branching, escape).
 * Does not keep anything global in memory: per rank O(block * (D + F)) plus K x F means. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/dataset.h"
#include "erase/h5.h"
#include "erase/progress.h"
#include "erase/rng.h"
#include "erase/sort.h"

#define GEN_ROUNDS 8
#define GEN_MAX_NODES (INT64_C(1) << 40) /* er_rng_below is unbiased below 2^40 */
#define GEN_MEAN_CACHE (INT64_C(1) << 22) /* precompute the K x F means up to this size */
#define GEN_MAX_LEVELS 40                 /* HSBM tree depth (b^L <= N <= 2^40) */
#define GEN_LEAF_MIN 128                  /* HSBM --levels auto: leaves of at least this size */
#define GEN_DS_LEAF "/generate/leaf"      /* HSBM: (N) int64 leaf block of each node */

//---------------------------------------------------------------------------------------------
// keyed permutation of [0, n)
//---------------------------------------------------------------------------------------------

typedef struct {
  int64_t n;
  int h;         /* half width in bits */
  uint64_t mask; /* (1 << h) - 1 */
  uint64_t key[GEN_ROUNDS];
} gen_perm;

/* The keys of permutation `id` (0: node -> position, 1 + c: the HSBM's split order of class
 * c). */
static void gen_perm_init_id(gen_perm *p, int64_t n, uint64_t seed, uint64_t id) {
  int bits = 1;
  while (bits < 63 && (INT64_C(1) << bits) < n) ++bits;
  p->n = n;
  p->h = (bits + 1) / 2;
  p->mask = (UINT64_C(1) << p->h) - 1;
  for (int r = 0; r < GEN_ROUNDS; ++r) p->key[r] = er_rng_u64(seed, ER_STREAM_GEN_CLASS, id, r);
}

static void gen_perm_init(gen_perm *p, int64_t n, uint64_t seed) {
  gen_perm_init_id(p, n, seed, 0);
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
// HSBM tree of blocks over positions [0, n)
//---------------------------------------------------------------------------------------------

typedef struct {
  int levels, branching;
  int64_t nleaf;                    /* b^L */
  int64_t q, r;                     /* leaves hold q + 1 (the first r) or q positions */
  int64_t span[GEN_MAX_LEVELS + 1]; /* b^l leaves per level-l block */
  double up[GEN_MAX_LEVELS + 1];    /* R^l = P(an endpoint's level >= l) */
} gen_tree;

/* b^L for the given depth, or -1 when it exceeds n (no overflow: b <= n, checked per step). */
static int64_t gen_leaves(int64_t n, int b, int levels) {
  int64_t t = 1;
  for (int l = 0; l < levels; ++l) {
    if (t > n / b) return -1;
    t *= b;
  }
  return t;
}

/* --levels 0: the deepest tree whose leaves hold at least max(GEN_LEAF_MIN, K) positions. */
static int gen_auto_levels(int64_t n, int b, int nclass) {
  int64_t leaf_min = nclass > GEN_LEAF_MIN ? nclass : GEN_LEAF_MIN;
  int levels = 0;
  while (levels < GEN_MAX_LEVELS) {
    int64_t t = gen_leaves(n, b, levels + 1);
    if (t < 0 || n / t < leaf_min) break;
    ++levels;
  }
  return levels;
}

static void gen_tree_init(gen_tree *t, int64_t n, int levels, int b, double escape) {
  t->levels = levels;
  t->branching = b;
  t->span[0] = 1;
  t->up[0] = 1.0;
  for (int l = 1; l <= levels; ++l) {
    t->span[l] = t->span[l - 1] * b;
    t->up[l] = t->up[l - 1] * escape;
  }
  t->nleaf = t->span[levels];
  t->q = n / t->nleaf;
  t->r = n % t->nleaf;
}

/* First position of leaf j (j = nleaf: n). */
static inline int64_t gen_leaf_start(const gen_tree *t, int64_t j) {
  return j * t->q + (j < t->r ? j : t->r);
}

static inline int64_t gen_leaf_of(const gen_tree *t, int64_t pos) {
  int64_t big = t->r * (t->q + 1);
  return pos < big ? pos / (t->q + 1) : t->r + (pos - big) / t->q;
}

/* Level of the smallest block holding leaves a and b. */
static inline int gen_common_level(const gen_tree *t, int64_t a, int64_t b) {
  int l = 0;
  while (a != b) {
    a /= t->branching;
    b /= t->branching;
    ++l;
  }
  return l;
}

//---------------------------------------------------------------------------------------------
// options
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
  if (o->model != ER_GEN_CSBM && o->model != ER_GEN_HSBM)
    return ER_ERROR(ER_ERR_INPUT, "generate: unknown model %d", (int)o->model);
  if (o->model == ER_GEN_CSBM) return ER_OK;
  if (o->branching < 2 || o->branching > (1 << 20))
    return ER_ERROR(ER_ERR_INPUT, "generate: --branching %d must be in [2, 2^20]", o->branching);
  if (!(o->escape >= 0 && o->escape <= 1))
    return ER_ERROR(ER_ERR_INPUT, "generate: --escape %g must be in [0, 1]", o->escape);
  if (o->levels < 0 || o->levels > GEN_MAX_LEVELS)
    return ER_ERROR(ER_ERR_INPUT, "generate: --levels %d must be in [0, %d] (0 = auto)",
                    o->levels, GEN_MAX_LEVELS);
  int64_t nleaf = gen_leaves(o->nodes, o->branching, o->levels);
  if (nleaf < 0)
    return ER_ERROR(ER_ERR_INPUT, "generate: --levels %d with --branching %d makes more leaf "
                    "blocks than --nodes = %lld", o->levels, o->branching, (long long)o->nodes);
  if (o->nodes / nleaf < o->classes) /* every leaf must hold every class */
    return ER_ERROR(ER_ERR_INPUT,
                    "generate: --levels %d with --branching %d makes leaf blocks of %lld nodes, "
                    "fewer than --classes = %d (nodes = %lld)",
                    o->levels, o->branching, (long long)(o->nodes / nleaf), o->classes,
                    (long long)o->nodes);
  return ER_OK;
}

//---------------------------------------------------------------------------------------------
// local phases (no communication; the caller agrees on their errors)
//---------------------------------------------------------------------------------------------

/* Members of class c among n nodes dealt round-robin over nclass classes. */
static inline int64_t gen_class_size(int64_t n, int nclass, int64_t c) {
  return (n - c + nclass - 1) / nclass;
}

/* perm(i) of every block node (class and split membership both derive from it). */
static er_err gen_perm_block(const gen_perm *perm, int64_t lo, int64_t hi, int64_t **perm_val) {
  er_err err = ER_OK;
  int64_t *a = NULL;
  ER_MALLOC(a, hi - lo);
  for (int64_t i = lo; i < hi; ++i) a[i - lo] = gen_perm_fwd(perm, i);
  *perm_val = a;
cleanup:
  return err;
}

/* Both models' edge counts: node lo + i draws floor(d/2) or one more endpoints (the fraction
 * of d/2 is the chance of one more); *ptr (nloc + 1) gets their offsets and *dst room for them. */
static er_err gen_draw_counts(const er_generate_opts *o, int64_t lo, int64_t nloc,
                              int64_t **ptr_out, int64_t **dst_out) {
  er_err err = ER_OK;
  int64_t *ptr = NULL;
  double half = 0.5 * o->avg_degree, base = floor(half), frac = half - base;
  ER_MALLOC(ptr, nloc + 1);
  ptr[0] = 0;
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t m = (int64_t)base + (er_rng_uniform(o->seed, ER_STREAM_GEN_EDGE, lo + i, 0) < frac);
    ptr[i + 1] = ptr[i] + m;
  }
  ER_MALLOC(*dst_out, ptr[nloc]);
  *ptr_out = ptr;
  ptr = NULL;
cleanup:
  free(ptr);
  return err;
}

/* Both models' class of an endpoint of node u (class cu): cu with probability homophily, else
 * one of the others uniformly; draws idx and idx + 1 of u's edge stream. */
static int64_t gen_draw_class(const er_generate_opts *o, int64_t cu, uint64_t u, uint64_t idx) {
  if (er_rng_uniform(o->seed, ER_STREAM_GEN_EDGE, u, idx) < o->homophily) return cu;
  int64_t c = (int64_t)er_rng_below(o->seed, ER_STREAM_GEN_EDGE, u, idx + 1,
                                    (uint64_t)o->classes - 1);
  return c >= cu ? c + 1 : c;
}

/* Endpoint draws of every block node u: dst[ptr[u-lo] .. ptr[u-lo+1]). */
static er_err gen_draw_edges(const er_generate_opts *o, const gen_perm *perm,
                             const int64_t *perm_val, int64_t lo, int64_t hi, int64_t **ptr_out,
                             int64_t **dst_out) {
  er_err err = ER_OK;
  int64_t nloc = hi - lo, n = o->nodes;
  int nclass = o->classes;
  int64_t *ptr = NULL, *dst = NULL;
  uint64_t seed = o->seed;
  ER_CALL(gen_draw_counts(o, lo, nloc, &ptr, &dst));
  for (int64_t i = 0; i < nloc; ++i) {
    uint64_t u = (uint64_t)(lo + i);
    int64_t cu = perm_val[i] % nclass;
    for (int64_t k = 0; k < ptr[i + 1] - ptr[i]; ++k) {
      uint64_t idx = 1 + 3 * (uint64_t)k;
      int64_t c = gen_draw_class(o, cu, u, idx);
      int64_t j = (int64_t)er_rng_below(seed, ER_STREAM_GEN_EDGE, u, idx + 2,
                                        (uint64_t)gen_class_size(n, nclass, c));
      dst[ptr[i] + k] = gen_perm_inv(perm, c + (int64_t)nclass * j);
    }
  }
  *ptr_out = ptr;
  *dst_out = dst;
  ptr = dst = NULL;
cleanup:
  free(ptr);
  free(dst);
  return err;
}

/* HSBM endpoint draws of every block node (the model in the file's head comment). */
static er_err gen_draw_edges_hsbm(const er_generate_opts *o, const gen_perm *perm,
                                  const gen_tree *t, const int64_t *perm_val, int64_t lo,
                                  int64_t hi, int64_t **ptr_out, int64_t **dst_out) {
  er_err err = ER_OK;
  int64_t nloc = hi - lo;
  int nclass = o->classes;
  int64_t *ptr = NULL, *dst = NULL;
  uint64_t seed = o->seed;
  ER_CALL(gen_draw_counts(o, lo, nloc, &ptr, &dst));
  for (int64_t i = 0; i < nloc; ++i) {
    uint64_t u = (uint64_t)(lo + i);
    int64_t cu = perm_val[i] % nclass, leaf = gen_leaf_of(t, perm_val[i]);
    for (int64_t k = 0; k < ptr[i + 1] - ptr[i]; ++k) {
      uint64_t idx = 1 + 4 * (uint64_t)k;
      double up = er_rng_uniform(seed, ER_STREAM_GEN_EDGE, u, idx);
      int l = 0;
      while (l < t->levels && up < t->up[l + 1]) ++l;
      int64_t c = gen_draw_class(o, cu, u, idx + 1);
      /* class-c members before position x: gen_class_size(x, K, c); the block [s, e) minus
       * the inner block [si, ei) (empty at level 0) holds na + nb of them */
      int64_t blk = leaf / t->span[l] * t->span[l];
      int64_t s = gen_leaf_start(t, blk), e = gen_leaf_start(t, blk + t->span[l]);
      int64_t si = e, ei = e;
      if (l > 0) {
        int64_t in = leaf / t->span[l - 1] * t->span[l - 1];
        si = gen_leaf_start(t, in);
        ei = gen_leaf_start(t, in + t->span[l - 1]);
      }
      int64_t cs = gen_class_size(s, nclass, c), csi = gen_class_size(si, nclass, c);
      int64_t cei = gen_class_size(ei, nclass, c), ce = gen_class_size(e, nclass, c);
      int64_t na = csi - cs, nb = ce - cei;
      int64_t x = (int64_t)er_rng_below(seed, ER_STREAM_GEN_EDGE, u, idx + 3,
                                        (uint64_t)(na + nb));
      int64_t j = x < na ? cs + x : cei + (x - na);
      dst[ptr[i] + k] = gen_perm_inv(perm, c + (int64_t)nclass * j);
    }
  }
  *ptr_out = ptr;
  *dst_out = dst;
  ptr = dst = NULL;
cleanup:
  free(ptr);
  free(dst);
  return err;
}

/* HSBM split keys: position c + K j (the j-th member of class c) -> c + K pi_c(j), pi_c a keyed
 * bijection of [0, n_c) of its own per class; a class-preserving bijection of [0, N) that
 * gen_splits orders by. */
static er_err gen_split_keys(const er_generate_opts *o, const int64_t *perm_val, int64_t nloc,
                             int64_t **keys_out) {
  er_err err = ER_OK;
  int64_t *keys = NULL, nclass = o->classes;
  gen_perm pi;
  ER_MALLOC(keys, nloc);
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t c = perm_val[i] % nclass, j = perm_val[i] / nclass;
    gen_perm_init_id(&pi, gen_class_size(o->nodes, (int)nclass, c), o->seed, 1 + (uint64_t)c);
    keys[i] = c + nclass * gen_perm_fwd(&pi, j);
  }
  *keys_out = keys;
cleanup:
  return err;
}

/* The leaf block of every block node. */
static er_err gen_leaf_block(const gen_tree *t, const int64_t *perm_val, int64_t nloc,
                             int64_t **leaf_out) {
  er_err err = ER_OK;
  int64_t *leaf = NULL;
  ER_MALLOC(leaf, nloc);
  for (int64_t i = 0; i < nloc; ++i) leaf[i] = gen_leaf_of(t, perm_val[i]);
  *leaf_out = leaf;
cleanup:
  return err;
}

/* Pack the reverse direction (v, u) of every draw, grouped by the owner of v. */
static er_err gen_pack(int64_t n, int size, int64_t lo, int64_t nloc, const int64_t *ptr,
                       const int64_t *dst, int *scnt, int *sdis, int64_t **send_out) {
  er_err err = ER_OK;
  int64_t *send = NULL, *pos = NULL;
  int64_t ns = ptr[nloc];
  ER_CALLOC(pos, size);
  for (int64_t e = 0; e < ns; ++e) pos[er_block_owner(n, size, dst[e])]++;
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
    for (int64_t e = ptr[i]; e < ptr[i + 1]; ++e) {
      int64_t slot = pos[er_block_owner(n, size, dst[e])]++;
      send[2 * slot] = dst[e];
      send[2 * slot + 1] = lo + i;
    }
  *send_out = send;
  send = NULL;
cleanup:
  free(pos);
  free(send);
  return err;
}

/* Two independent standard normals by Marsaglia's polar method (no trigonometry): attempt a
 * takes u, v in [-1, 1) from the two 32-bit halves of er_rng_u64(seed, GEN_FEAT, id,
 * q + a 2^32) and is accepted when 0 < u^2 + v^2 < 1 (probability pi/4). */
static inline void gen_normal2(uint64_t seed, uint64_t id, uint64_t q, double z[2]) {
  for (uint64_t a = 0;; ++a) {
    uint64_t bits = er_rng_u64(seed, ER_STREAM_GEN_FEAT, id, q + (a << 32));
    double u = ((double)(bits >> 32) - 0x1.0p31) * 0x1.0p-31; /* [-1, 1) */
    double v = ((double)(uint32_t)bits - 0x1.0p31) * 0x1.0p-31;
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
static er_err gen_features(const er_generate_opts *o, const int64_t *perm_val, int64_t lo,
                           int64_t nloc, int32_t **labels_out, float **x_out) {
  er_err err = ER_OK;
  int64_t f = o->features, nclass = o->classes;
  double scale = o->feature_snr / sqrt((double)f);
  int32_t *labels = NULL;
  float *x = NULL;
  double *mu = NULL;
  uint64_t seed = o->seed;
  int cached = nclass * f <= GEN_MEAN_CACHE;
  if (cached) {
    ER_MALLOC(mu, nclass * f);
    for (int64_t c = 0; c < nclass; ++c)
      for (int64_t j = 0; j < f; ++j)
        mu[c * f + j] = scale * er_rng_normal(seed, ER_STREAM_GEN_MEAN, (uint64_t)c, (uint64_t)j);
  }
  ER_MALLOC(labels, nloc);
  ER_MALLOC(x, nloc * f);
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t c = perm_val[i] % nclass;
    labels[i] = (int32_t)c;
    float *xi = x + i * f;
    for (int64_t j = 0; j < f; j += 2) {
      double z[2];
      gen_normal2(seed, (uint64_t)(lo + i), (uint64_t)(j / 2), z);
      for (int64_t col = j; col < j + 2 && col < f; ++col) {
        double m = cached ? mu[c * f + col]
                          : scale * er_rng_normal(seed, ER_STREAM_GEN_MEAN, (uint64_t)c,
                                                  (uint64_t)col);
        xi[col] = (float)(m + z[col - j]);
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
static er_err gen_splits(const er_generate_opts *o, const int64_t *perm_val, int64_t lo,
                         int64_t nloc, int64_t *split[3], int64_t cnt[3]) {
  er_err err = ER_OK;
  int64_t b0 = o->train_per_class * o->classes, b1 = b0 + o->val, b2 = b1 + o->test;
  cnt[0] = cnt[1] = cnt[2] = 0;
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t pos = perm_val[i];
    cnt[0] += pos < b0;
    cnt[1] += pos >= b0 && pos < b1;
    cnt[2] += pos >= b1 && pos < b2;
  }
  for (int s = 0; s < 3; ++s) ER_MALLOC(split[s], cnt[s]);
  cnt[0] = cnt[1] = cnt[2] = 0;
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t pos = perm_val[i];
    int s = pos < b0 ? 0 : pos < b1 ? 1 : pos < b2 ? 2 : -1;
    if (s >= 0) split[s][cnt[s]++] = lo + i;
  }
cleanup:
  return err;
}

//---------------------------------------------------------------------------------------------
// collective phases
//---------------------------------------------------------------------------------------------

/* What one rank generates and writes: nodes [lo, lo + nloc) and their rows of every dataset. */
typedef struct {
  int64_t lo, nloc;
  int64_t *perm_val;   /* (nloc) perm(i) of each block node */
  int64_t *split_key;  /* (nloc) HSBM: the split order key (CSBM: perm_val) */
  int64_t *leaf;       /* (nloc) HSBM: leaf block of each block node */
  int64_t *indptr;     /* (nloc + 1) offsets into the global /graph/indices */
  int64_t *cols;       /* (nnz) this block's slice of /graph/indices */
  int64_t nnz;         /* CSR entries of the block */
  int64_t nnz_total;   /* CSR entries of the graph (2 E) */
  int64_t same_total;  /* CSR entries of the graph joining two nodes of one class */
  int64_t level_total[GEN_MAX_LEVELS + 1]; /* HSBM: CSR entries by level (smallest common block) */
  int32_t *labels;     /* (nloc) */
  float *x;            /* (nloc, F) */
  int64_t *split[3];   /* (split_n[s]) block nodes of train, val, test */
  int64_t split_n[3], split_off[3], split_total[3];
} gen_block;

static void gen_block_free(gen_block *b) {
  free(b->perm_val);
  free(b->split_key);
  free(b->leaf);
  free(b->indptr);
  free(b->cols);
  free(b->labels);
  free(b->x);
  for (int s = 0; s < 3; ++s) free(b->split[s]);
}

/* The five phases of er_generate and their shares of its time (measured: a CSBM of 300K nodes
 * on 2 ranks), which turn the time so far into an ETA (er_progress_stage). */
static const double gen_share[] = {0.18, 0.05, 0.30, 0.38, 0.09};
enum { GEN_NPHASE = sizeof gen_share / sizeof gen_share[0] };

static void gen_phase(MPI_Comm comm, int k, const char *what, double t0, double *t_last) {
  er_progress_stage(comm, "generate", k, GEN_NPHASE, gen_share, what, t0, t_last);
}

/* Route the reverse direction of every draw to the owner of its row: *pairs (2 *npairs) gets
 * the received (row, col) pairs followed by this block's own draws, every row in the block. */
static er_err gen_exchange(MPI_Comm comm, int64_t n, const gen_block *b, const int64_t *ptr,
                           const int64_t *dst, int64_t **pairs_out, int64_t *npairs_out) {
  er_err err = ER_OK;
  int rank, size;
  int *scnt = NULL, *sdis = NULL, *rcnt = NULL, *rdis = NULL;
  int64_t *send = NULL, *pairs = NULL, nown = ptr[b->nloc];
  MPI_Datatype pair = MPI_DATATYPE_NULL;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  scnt = calloc((size_t)size, sizeof *scnt);
  sdis = calloc((size_t)size, sizeof *sdis);
  rcnt = calloc((size_t)size, sizeof *rcnt);
  rdis = calloc((size_t)size, sizeof *rdis);
  err = scnt && sdis && rcnt && rdis ? ER_OK : ER_ERROR(ER_ERR_MEM, "out of memory (counts)");
  if (err == ER_OK) err = gen_pack(n, size, b->lo, b->nloc, ptr, dst, scnt, sdis, &send);
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
    pairs = malloc((size_t)(2 * (nrecv + nown) + 1) * sizeof *pairs);
    if (!pairs) err = ER_ERROR(ER_ERR_MEM, "out of memory for %lld received edges",
                               (long long)nrecv);
  }
  ER_CALL(er_agree(comm, err));
  ER_CALL_MPI(MPI_Type_contiguous(2, MPI_INT64_T, &pair));
  ER_CALL_MPI(MPI_Type_commit(&pair));
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Alltoallv(send, scnt, sdis, pair, pairs, rcnt, rdis, pair, comm));
  ER_AGREE(comm);
  for (int64_t i = 0, slot = nrecv; i < b->nloc; ++i)
    for (int64_t e = ptr[i]; e < ptr[i + 1]; ++e, ++slot) {
      pairs[2 * slot] = b->lo + i;
      pairs[2 * slot + 1] = dst[e];
    }
  *pairs_out = pairs;
  *npairs_out = nrecv + nown;
  pairs = NULL;
cleanup:
  err = ER_FINISH(comm);
  if (pair != MPI_DATATYPE_NULL) MPI_Type_free(&pair);
  free(scnt);
  free(sdis);
  free(rcnt);
  free(rdis);
  free(send);
  free(pairs);
  return err;
}

/* The block's CSR rows (built) move to their offset in the global /graph/indices; the graph's
 * entry and same-class counts (HSBM: and entries by level) are summed over the ranks. */
static er_err gen_rows_place(MPI_Comm comm, const er_generate_opts *o, const gen_perm *perm,
                             const gen_tree *t, gen_block *b) {
  er_err err = ER_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  /* entries, same-class entries, then (HSBM) entries by level */
  int64_t off = 0, loc[2 + GEN_MAX_LEVELS + 1] = {0}, tot[2 + GEN_MAX_LEVELS + 1];
  int ncount = t ? 2 + t->levels + 1 : 2;
  b->nnz = b->indptr[b->nloc];
  for (int64_t i = 0; i < b->nloc; ++i) {
    int64_t cu = b->perm_val[i] % o->classes;
    for (int64_t e = b->indptr[i]; e < b->indptr[i + 1]; ++e) {
      int64_t pv = gen_perm_fwd(perm, b->cols[e]);
      loc[1] += pv % o->classes == cu;
      if (t) loc[2 + gen_common_level(t, b->leaf[i], gen_leaf_of(t, pv))]++;
    }
  }
  loc[0] = b->nnz;
  ER_CALL_MPI(MPI_Allreduce(loc, tot, ncount, MPI_INT64_T, MPI_SUM, comm));
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Exscan(&b->nnz, &off, 1, MPI_INT64_T, MPI_SUM, comm));
  ER_AGREE(comm);
  if (rank == 0) off = 0;
  ER_CHECK(tot[0] % 2 == 0, ER_ERR_INTERNAL, "generate: adjacency is not symmetric");
  for (int64_t i = 0; i <= b->nloc; ++i) b->indptr[i] += off;
  b->nnz_total = tot[0];
  b->same_total = tot[1];
  for (int l = 0; t && l <= t->levels; ++l) b->level_total[l] = tot[2 + l];
cleanup:
  return ER_FINISH(comm);
}

/* Labels, features and splits of the block; each split's offset and total over the ranks. */
static er_err gen_nodes(MPI_Comm comm, const er_generate_opts *o, gen_block *b) {
  er_err err = ER_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  err = gen_features(o, b->perm_val, b->lo, b->nloc, &b->labels, &b->x);
  if (err == ER_OK)
    err = gen_splits(o, b->split_key ? b->split_key : b->perm_val, b->lo, b->nloc, b->split,
                     b->split_n);
  ER_CALL(er_agree(comm, err));
  ER_CALL_MPI(MPI_Exscan(b->split_n, b->split_off, 3, MPI_INT64_T, MPI_SUM, comm));
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Allreduce(b->split_n, b->split_total, 3, MPI_INT64_T, MPI_SUM, comm));
  ER_AGREE(comm); /* the same verdict on every rank: the writes that follow are collective */
  if (rank == 0) b->split_off[0] = b->split_off[1] = b->split_off[2] = 0;
cleanup:
  return ER_FINISH(comm);
}

/* Collective writes of every dataset and the root attributes. */
static er_err gen_write(MPI_Comm comm, hid_t fid, const er_generate_opts *o, const gen_tree *t,
                        gen_block *b) {
  er_err err = ER_OK;
  int rank, size;
  int64_t n = o->nodes, f = o->features;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_INDPTR, H5T_STD_I64LE, H5T_NATIVE_INT64,
                                          n + 1, 0, b->lo, b->nloc + (rank == size - 1),
                                          b->indptr)));
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_INDICES, H5T_STD_I64LE, H5T_NATIVE_INT64,
                                          b->nnz_total, 0, b->indptr[0], b->nnz, b->cols)));
  ER_FREE(b->cols);
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_FEATURES, H5T_IEEE_F32LE,
                                          H5T_NATIVE_FLOAT, n, f, b->lo, b->nloc, b->x)));
  ER_FREE(b->x);
  ER_CALL(er_agree(comm, er_h5_write_rows(fid, ER_DS_LABELS, H5T_STD_I32LE, H5T_NATIVE_INT32,
                                          n, 0, b->lo, b->nloc, b->labels)));
  const char *split_ds[3] = {ER_DS_TRAIN, ER_DS_VAL, ER_DS_TEST};
  for (int s = 0; s < 3; ++s)
    ER_CALL(er_agree(comm, er_h5_write_rows(fid, split_ds[s], H5T_STD_I64LE, H5T_NATIVE_INT64,
                                            b->split_total[s], 0, b->split_off[s],
                                            b->split_n[s], b->split[s])));
  char source[256];
  if (t) {
    ER_CALL(er_agree(comm, er_h5_write_rows(fid, GEN_DS_LEAF, H5T_STD_I64LE, H5T_NATIVE_INT64,
                                            n, 0, b->lo, b->nloc, b->leaf)));
    err = er_h5_attr_set_i64(fid, GEN_DS_LEAF, "levels", t->levels);
    if (err == ER_OK) err = er_h5_attr_set_i64(fid, GEN_DS_LEAF, "branching", t->branching);
    if (err == ER_OK) err = er_h5_attr_set_f64(fid, GEN_DS_LEAF, "escape", o->escape);
    ER_CALL(er_agree(comm, err));
    snprintf(source, sizeof source,
             "generate:hsbm n=%lld d=%g k=%d f=%lld h=%g snr=%g levels=%d branching=%d "
             "escape=%g seed=%llu",
             (long long)n, o->avg_degree, o->classes, (long long)f, o->homophily,
             o->feature_snr, t->levels, t->branching, o->escape, (unsigned long long)o->seed);
  } else {
    snprintf(source, sizeof source,
             "generate:csbm n=%lld d=%g k=%d f=%lld h=%g snr=%g seed=%llu", (long long)n,
             o->avg_degree, o->classes, (long long)f, o->homophily, o->feature_snr,
             (unsigned long long)o->seed);
  }
  err = er_h5_attr_set_i64(fid, "/", "num_nodes", n);
  if (err == ER_OK) err = er_h5_attr_set_i64(fid, "/", "num_edges", b->nnz_total / 2);
  if (err == ER_OK) err = er_h5_attr_set_i64(fid, "/", "num_features", f);
  if (err == ER_OK) err = er_h5_attr_set_i64(fid, "/", "num_classes", o->classes);
  if (err == ER_OK) err = er_h5_attr_set_str(fid, "/", "source", source);
  ER_CALL(er_agree(comm, err));
cleanup:
  return ER_FINISH(comm);
}

//---------------------------------------------------------------------------------------------
// driver
//---------------------------------------------------------------------------------------------

er_err er_generate(MPI_Comm comm, const er_generate_opts *opts) {
  er_err err = ER_OK;
  int rank, size;
  hid_t fid = -1;
  char *tmp = NULL;
  int64_t *draw_ptr = NULL, *draw_dst = NULL, *pairs = NULL, npairs = 0, hi;
  gen_block b;
  gen_perm perm;
  gen_tree tree, *t = NULL; /* HSBM only */
  const er_generate_opts *o = opts;
  double t0 = er_wtime(), t_last = t0;
  memset(&b, 0, sizeof b);
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  ER_CALL(er_agree(comm, gen_check_opts(o)));
  const int64_t n = o->nodes, f = o->features;
  er_block_range(n, size, rank, &b.lo, &hi);
  b.nloc = hi - b.lo;
  er_log(comm,
         "generate: %s n=%lld avg-degree=%g classes=%d features=%lld homophily=%g snr=%g "
         "seed=%llu on %d rank%s\n",
         o->model == ER_GEN_HSBM ? "HSBM" : "CSBM", (long long)n, o->avg_degree, o->classes,
         (long long)f, o->homophily, o->feature_snr, (unsigned long long)o->seed, size,
         size == 1 ? "" : "s");
  if (o->model == ER_GEN_HSBM) {
    int levels = o->levels ? o->levels : gen_auto_levels(n, o->branching, o->classes);
    gen_tree_init(&tree, n, levels, o->branching, o->escape);
    t = &tree;
    er_log(comm,
           "generate: tree of %d level%s, branching %d: %lld leaf blocks of %lld-%lld nodes, "
           "escape %g\n",
           levels, levels == 1 ? "" : "s", o->branching, (long long)t->nleaf, (long long)t->q,
           (long long)(t->q + (t->r > 0)), o->escape);
  }
  /* features, both directions of every edge, indptr, labels, splits (HSBM: leaf blocks) */
  ER_CALL(er_h5_room(comm, o->out,
                     (double)n * (4.0 * f + 8.0 * o->avg_degree + 8 + 4 + 8 + (t ? 8 : 0))));
  ER_CALL(er_h5_create(comm, o->out, &fid, &tmp)); /* fail fast on an unwritable --out */

  gen_perm_init(&perm, n, o->seed);
  err = gen_perm_block(&perm, b.lo, hi, &b.perm_val);
  /* the arrays that live to the end first: the draws and the exchange freed later leave no
   * hole under them that a larger buffer could not reuse */
  if (err == ER_OK && t) err = gen_split_keys(o, b.perm_val, b.nloc, &b.split_key);
  if (err == ER_OK && t) err = gen_leaf_block(t, b.perm_val, b.nloc, &b.leaf);
  if (err == ER_OK && !t)
    err = gen_draw_edges(o, &perm, b.perm_val, b.lo, hi, &draw_ptr, &draw_dst);
  if (err == ER_OK && t)
    err = gen_draw_edges_hsbm(o, &perm, t, b.perm_val, b.lo, hi, &draw_ptr, &draw_dst);
  ER_CALL(er_agree(comm, err));
  gen_phase(comm, 0, "classes + edge draws", t0, &t_last);

  ER_CALL(gen_exchange(comm, n, &b, draw_ptr, draw_dst, &pairs, &npairs));
  ER_FREE(draw_ptr);
  ER_FREE(draw_dst);
  gen_phase(comm, 1, "edge exchange", t0, &t_last);

  err = er_csr_block_build(b.lo, b.nloc, pairs, npairs, 0, &b.indptr, &b.cols, NULL);
  ER_FREE(pairs);
  ER_CALL(er_agree(comm, err));
  ER_CALL(gen_rows_place(comm, o, &perm, t, &b));
  gen_phase(comm, 2, "CSR rows + homophily", t0, &t_last);

  ER_CALL(gen_nodes(comm, o, &b));
  gen_phase(comm, 3, "labels + features + splits", t0, &t_last);

  ER_CALL(gen_write(comm, fid, o, t, &b));
  err = er_h5_commit(comm, fid, o->out, &tmp);
  fid = -1;
  ER_CALL(err);
  gen_phase(comm, 4, "write (parallel HDF5)", t0, &t_last);

  const int64_t nnz = b.nnz_total;
  er_log(comm,
         "generate: wrote %s: %lld nodes, %lld edges (mean degree %.3f), %d classes, %lld "
         "features, homophily %.4f, train/val/test %lld/%lld/%lld, %.2f s\n",
         o->out, (long long)n, (long long)(nnz / 2), (double)nnz / (double)n, o->classes,
         (long long)f, nnz ? (double)b.same_total / (double)nnz : 0.0,
         (long long)b.split_total[0], (long long)b.split_total[1], (long long)b.split_total[2],
         er_wtime() - t0);
  if (t) { /* the tree's own partitions: b^j parts cut the edges of level > L - j */
    char line[1024];
    int len = snprintf(line, sizeof line, "generate: edges by level of the smallest common block:");
    for (int l = 0; l <= t->levels && len < (int)sizeof line - 24; ++l)
      len += snprintf(line + len, sizeof line - (size_t)len, " %d:%.2f%%", l,
                      nnz ? 100.0 * (double)b.level_total[l] / (double)nnz : 0.0);
    er_log(comm, "%s\n", line);
    len = snprintf(line, sizeof line, "generate: edges cut by the tree's blocks, by parts:");
    for (int j = 1; j <= t->levels && len < (int)sizeof line - 32; ++j) {
      int64_t cut = 0;
      for (int l = t->levels - j + 1; l <= t->levels; ++l) cut += b.level_total[l];
      len += snprintf(line + len, sizeof line - (size_t)len, " %lld:%.2f%%",
                      (long long)t->span[j], nnz ? 100.0 * (double)cut / (double)nnz : 0.0);
    }
    er_log(comm, "%s\n", line);
  }

cleanup:
  err = ER_FINISH(comm);
  if (err != ER_OK && tmp) er_h5_abort(comm, fid, &tmp);
  free(draw_ptr);
  free(draw_dst);
  free(pairs);
  gen_block_free(&b);
  return err;
}
