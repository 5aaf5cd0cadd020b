/* noise.h: synthetic label noise for experiments (ERASE.md section 1): asymmetric (class i ->
 * one fixed other class t(i)) or symmetric (uniform over the other classes) corruption of the
 * training labels. Every draw is addressed by (seed, ER_STREAM_NOISE, global id), so the result
 * of a row depends only on its global id and label, never on the rank count or row order.
 * Not collective: inputs are checked locally; callers agree on the verdict with er_agree. */
#ifndef ERASE_NOISE_H
#define ERASE_NOISE_H

#include <stdint.h>

#include "erase/core.h"

typedef enum { ER_NOISE_NONE = 0, ER_NOISE_ASYMM = 1, ER_NOISE_SYMM = 2 } er_noise_type;

/* The names of the types, index = er_noise_type: "none", "asymm", "symm". */
extern const er_enum_names er_noise_types;

/* Asymmetric flip targets: t[i] (K entries) is the class that class i turns into; t[i] != i,
 * drawn uniformly from the other K-1 classes from the seed alone (same on every rank).
 * K >= 2, else ER_ERR_INPUT. */
er_err er_noise_targets(int K, uint64_t seed, int32_t *t);

/* noisy[r] = corrupted clean[r] for the n rows given. gid (n): global node ids (>= 0).
 * is_train (n): nonzero marks a training row; NULL means every row is a training row.
 * Training rows keep their label with probability 1 - ratio, otherwise become t(label)
 * (ER_NOISE_ASYMM) or a uniformly drawn other class (ER_NOISE_SYMM). Non-training rows and
 * rows labelled -1 (unlabelled) are copied unchanged. ER_NOISE_NONE copies everything.
 * ER_ERR_INPUT: ratio outside [0, 1), K < 2, unknown type, a label outside [-1, K) or a
 * negative gid. clean and noisy may be the same array. */
er_err er_noise_apply(const int32_t *clean, const int64_t *gid, const uint8_t *is_train,
                      int64_t n, int K, er_noise_type type, double ratio, uint64_t seed,
                      int32_t *noisy);

#endif
