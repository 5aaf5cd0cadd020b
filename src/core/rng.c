/* rng.c: Philox4x32-10 from Random123 behind four small functions.
 * Not a stream generator: every call is an independent, addressable draw. */
#include "erase/rng.h"

#include <Random123/philox.h>
#include <math.h>

static philox4x32_ctr_t er_philox(uint64_t seed, uint32_t stream, uint64_t id, uint64_t idx) {
  philox4x32_ctr_t c = {{(uint32_t)id, (uint32_t)(id >> 32), (uint32_t)idx,
                         (stream << 16) ^ (uint32_t)(idx >> 32)}};
  philox4x32_key_t k = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
  return philox4x32(c, k);
}

uint64_t er_rng_u64(uint64_t seed, uint32_t stream, uint64_t id, uint64_t idx) {
  philox4x32_ctr_t r = er_philox(seed, stream, id, idx);
  return ((uint64_t)r.v[0] << 32) | r.v[1];
}

double er_rng_uniform(uint64_t seed, uint32_t stream, uint64_t id, uint64_t idx) {
  return (double)(er_rng_u64(seed, stream, id, idx) >> 11) * 0x1.0p-53;
}

uint64_t er_rng_below(uint64_t seed, uint32_t stream, uint64_t id, uint64_t idx, uint64_t n) {
  return (uint64_t)(er_rng_uniform(seed, stream, id, idx) * (double)n) % n;
}

void er_rng_u32x4(uint64_t seed, uint32_t stream, uint64_t id, uint64_t idx, uint32_t w[4]) {
  philox4x32_ctr_t r = er_philox(seed, stream, id, idx);
  for (int j = 0; j < 4; ++j) w[j] = r.v[j];
}

double er_rng_normal(uint64_t seed, uint32_t stream, uint64_t id, uint64_t idx) {
  philox4x32_ctr_t r = er_philox(seed, stream, id, idx);
  double u1 = ((double)r.v[0] + 1.0) * 0x1.0p-32; /* (0, 1] */
  double u2 = (double)r.v[1] * 0x1.0p-32;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
