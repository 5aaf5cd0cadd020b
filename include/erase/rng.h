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

#endif
