/* rng.h: counter-based random numbers (Random123 Philox4x32-10) keyed by seed, addressed by
 * (stream, global id, index). Every draw is a pure function of its address, so results never
 * depend on the rank count or on the order in which ranks draw. No state, nothing to seed. */
#ifndef ERASE_RNG_H
#define ERASE_RNG_H

#include <stdint.h>

/* Streams separate the purposes of draws so they never collide. */
enum {
  ER_STREAM_GEN_CLASS = 1,  /* generate: class permutation */
  ER_STREAM_GEN_EDGE = 2,   /* generate: edges */
  ER_STREAM_GEN_FEAT = 3,   /* generate: features */
  ER_STREAM_GEN_MEAN = 4,   /* generate: class means */
  ER_STREAM_NOISE = 10,     /* train: label noise */
  ER_STREAM_INIT = 11,      /* train: weight init */
  ER_STREAM_DROPOUT = 12    /* train: dropout masks */
};

/* 64 random bits at address (stream, id, idx). */
uint64_t er_rng_u64(uint64_t seed, uint32_t stream, uint64_t id, uint64_t idx);
/* Uniform double in [0, 1) with 53 random bits. */
double er_rng_uniform(uint64_t seed, uint32_t stream, uint64_t id, uint64_t idx);
/* Uniform integer in [0, n) (n > 0), negligible bias for n < 2^40. */
uint64_t er_rng_below(uint64_t seed, uint32_t stream, uint64_t id, uint64_t idx, uint64_t n);
/* Standard normal (Box-Muller on the address's two 32-bit halves pairs). */
double er_rng_normal(uint64_t seed, uint32_t stream, uint64_t id, uint64_t idx);
/* The four 32-bit words of the Philox block at (stream, id, idx): four draws for one call. */
void er_rng_u32x4(uint64_t seed, uint32_t stream, uint64_t id, uint64_t idx, uint32_t w[4]);

/* Dropout masks (dense and sparse kernels share this definition): element f of the row with
 * global id gid at step `step` is kept iff word f % 4 of the ER_STREAM_DROPOUT block at
 * (gid, er_dropout_block(step, F, f)) is >= er_dropout_threshold(p). */
static inline uint64_t er_dropout_block(int64_t step, int64_t F, int64_t f) {
  return (uint64_t)step * (uint64_t)((F + 3) / 4) + (uint64_t)(f / 4);
}
static inline uint32_t er_dropout_threshold(double p) { /* P(word >= thr) = 1 - p, p in [0, 1) */
  double t = p * 4294967296.0;
  return t >= 4294967295.0 ? 4294967295u : (uint32_t)t + (t > (double)(uint32_t)t);
}

#endif
