/* bf16.c: the array conversions of bf16.h and the scalar reference rounding the tests compare
 * er_bf16_from_f against. The rounding itself is inline in bf16.h. */
#include "erase/bf16.h"

#include <math.h>

void er_bf16_from_f_array(er_bf16 *dst, const float *src, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = er_bf16_from_f(src[i]);
}

void er_bf16_to_f_array(float *dst, const er_bf16 *src, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = er_bf16_to_f(src[i]);
}

er_bf16 er_bf16_from_f_ref(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  const er_bf16 sign = (er_bf16)((u >> 16) & 0x8000u), t = (er_bf16)((u >> 16) & 0x7fffu);
  if (isnan(f)) return (er_bf16)(sign | 0x7fc0u | (t & 0x3fu)); /* keep the payload's top bits */
  if (isinf(f)) return (er_bf16)(sign | 0x7f80u);
  /* the two candidates below and above |f| (truncation and the next bf16 magnitude; the one
   * above the largest finite bf16 is inf, at the distance of 2^128) */
  double a = fabs((double)f), lo = fabs((double)er_bf16_to_f(t));
  double hi = t + 1 == 0x7f80u ? ldexp(1.0, 128) : fabs((double)er_bf16_to_f((er_bf16)(t + 1)));
  double dlo = a - lo, dhi = hi - a;
  er_bf16 m = dlo < dhi ? t : dlo > dhi ? (er_bf16)(t + 1) : (t & 1u) ? (er_bf16)(t + 1) : t;
  return (er_bf16)(sign | m);
}
