/* bf16.h: bfloat16 storage (the upper half of an IEEE float) for rows that are gathered and
 * exchanged at half the bytes (train --gather-precision bf16). float -> bf16 rounds to nearest,
 * ties to even (a NaN stays a quiet NaN of its sign; overflow gives inf); bf16 -> float is exact.
 * Nothing is computed in bf16: readers convert in registers and accumulate in float. */
#ifndef ERASE_BF16_H
#define ERASE_BF16_H

#include <stdint.h>
#include <string.h>

typedef uint16_t er_bf16;

static inline float er_bf16_to_f(er_bf16 b) {
  uint32_t u = (uint32_t)b << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* Round to nearest even on the bits: adding 0x7fff plus the kept part's lowest bit carries into
 * bit 16 exactly when the dropped half is above one half, or one half with an odd kept part. */
static inline er_bf16 er_bf16_from_f(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (er_bf16)((u >> 16) | 0x0040u); /* NaN: quiet */
  u += 0x7fffu + ((u >> 16) & 1u);
  return (er_bf16)(u >> 16);
}

/* dst (n) = bf16(src (n)); dst (n) = float(src (n)). Not collective, no allocation. */
void er_bf16_from_f_array(er_bf16 *dst, const float *src, int64_t n);
void er_bf16_to_f_array(float *dst, const er_bf16 *src, int64_t n);
/* Plain reference twin of er_bf16_from_f (tests): picks the nearer of the two bf16 values that
 * bracket f, compared in double, the even one on a tie. */
er_bf16 er_bf16_from_f_ref(float f);

#endif
