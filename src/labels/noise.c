/* noise.c: asymmetric / symmetric training-label corruption from counter-based draws keyed by
 * (seed, global id). Does not decide which rows are training rows or which seed a run uses. */
#include <stdlib.h>
#include <string.h>

#include "erase/noise.h"
#include "erase/rng.h"

/* Draw addresses inside ER_STREAM_NOISE. Node draws use id = global id (< 2^63); the class
 * map uses ids with the top bit set, which no node can have. */
#define NOISE_IDX_FLIP 0   /* per node: uniform, flip if below ratio */
#define NOISE_IDX_OTHER 1  /* per node: symmetric target among the K-1 others */
#define NOISE_CLASS_ID(c) ((UINT64_C(1) << 63) | (uint64_t)(c))

static const char *const noise_names[] = {"none", "asymm", "symm"};
const er_enum_names er_noise_types = ER_ENUM_NAMES(noise_names);

/* Class o-th among the K-1 classes other than c (o in [0, K-1)). */
static int32_t other_class(int32_t c, uint64_t o) {
  return (int32_t)o < c ? (int32_t)o : (int32_t)o + 1;
}

er_err er_noise_targets(int K, uint64_t seed, int32_t *t) {
  er_err err = ER_OK;
  ER_CHECK(K >= 2, ER_ERR_INPUT, "label noise needs at least 2 classes (K = %d)", K);
  ER_CHECK(t != NULL, ER_ERR_INTERNAL, "er_noise_targets: NULL output");
  for (int c = 0; c < K; c++) {
    uint64_t o = er_rng_below(seed, ER_STREAM_NOISE, NOISE_CLASS_ID(c), 0, (uint64_t)K - 1);
    t[c] = other_class(c, o);
  }
cleanup:
  return err;
}

er_err er_noise_apply(const int32_t *clean, const int64_t *gid, const uint8_t *is_train,
                      int64_t n, int K, er_noise_type type, double ratio, uint64_t seed,
                      int32_t *noisy) {
  er_err err = ER_OK;
  int32_t *t = NULL;
  ER_CHECK(ratio >= 0.0 && ratio < 1.0, ER_ERR_INPUT,
           "noise ratio must be in [0, 1) (got %g)", ratio);
  ER_CHECK(K >= 2, ER_ERR_INPUT, "label noise needs at least 2 classes (K = %d)", K);
  ER_CHECK(type == ER_NOISE_NONE || type == ER_NOISE_ASYMM || type == ER_NOISE_SYMM,
           ER_ERR_INPUT, "unknown noise type %d", (int)type);
  ER_CHECK(n >= 0, ER_ERR_INPUT, "negative row count %lld", (long long)n);
  ER_CHECK(n == 0 || (clean && gid && noisy), ER_ERR_INTERNAL, "er_noise_apply: NULL array");
  for (int64_t r = 0; r < n; r++) {
    ER_CHECK(clean[r] >= -1 && clean[r] < K, ER_ERR_INPUT,
             "label %d of node %lld is outside [-1, %d)", (int)clean[r], (long long)gid[r], K);
    ER_CHECK(gid[r] >= 0, ER_ERR_INPUT, "negative global id %lld", (long long)gid[r]);
  }
  ER_MALLOC(t, K);
  ER_CALL(er_noise_targets(K, seed, t));
  for (int64_t r = 0; r < n; r++) {
    const int32_t c = clean[r];
    int32_t out = c;
    if (type != ER_NOISE_NONE && c >= 0 && (!is_train || is_train[r])) {
      const uint64_t id = (uint64_t)gid[r];
      if (er_rng_uniform(seed, ER_STREAM_NOISE, id, NOISE_IDX_FLIP) < ratio) {
        if (type == ER_NOISE_ASYMM) {
          out = t[c];
        } else {
          uint64_t o = er_rng_below(seed, ER_STREAM_NOISE, id, NOISE_IDX_OTHER, (uint64_t)K - 1);
          out = other_class(c, o);
        }
      }
    }
    noisy[r] = out;
  }
cleanup:
  free(t);
  return err;
}
