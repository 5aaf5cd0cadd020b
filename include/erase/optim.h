/* optim.h: Adam / AMSGrad over one contiguous float32 parameter slab with PyTorch 1.13
 * torch.optim.Adam semantics (weight decay is L2 added to the gradient, not AdamW).
 * Not collective and not distributed: callers sum gradients across ranks before stepping. */
#ifndef ERASE_OPTIM_H
#define ERASE_OPTIM_H

#include <stdint.h>

#include "erase/mem.h"

typedef struct er_adam er_adam;

/* Live view of the optimizer state for checkpointing. The arrays (n floats each) belong to the
 * optimizer; write into them to restore a checkpoint. vmax is NULL unless amsgrad. */
typedef struct {
  int64_t n;    /* number of parameters */
  int64_t step; /* steps taken so far (PyTorch's state['step']) */
  float *m;     /* (n) first moment, exp_avg */
  float *v;     /* (n) second moment, exp_avg_sq */
  float *vmax;  /* (n) max_exp_avg_sq, or NULL */
} er_adam_view;

/* Not collective. n > 0, lr > 0, beta1/beta2 in [0, 1), eps >= 0, weight_decay >= 0, else
 * ER_ERR_INPUT. Moments start at zero, step at 0. */
er_err er_adam_create(int64_t n, double lr, double beta1, double beta2, double eps,
                      double weight_decay, int amsgrad, er_adam **opt);
/* One update of params (n) in place from grad (n), exactly as torch.optim.Adam's
 * _single_tensor_adam on float32 CPU tensors:
 *   t += 1; g = grad + wd * p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g g;
 *   vmax = max(vmax, v) (amsgrad); denom = sqrt(vmax or v) / sqrt(1 - b2^t) + eps;
 *   p = p - lr / (1 - b1^t) * m / denom.
 * Element arithmetic is float32 with the scalars rounded to float, in PyTorch's order and with
 * its fused multiply-adds (add_ with alpha and addcmul_ are one fmaf each in ATen's AVX2
 * kernels); the bias corrections are computed in double as in PyTorch. Measured: bitwise equal
 * to torch 1.13 over 50 closed-loop steps (tests/test_adam.c). */
er_err er_adam_step(er_adam *opt, float *params, const float *grad);
/* Pointers to the state arrays and the current step (see er_adam_view). */
er_err er_adam_state(er_adam *opt, er_adam_view *view);
/* Restore the step count (>= 0) after writing the moments through er_adam_state. */
er_err er_adam_set_step(er_adam *opt, int64_t step);
/* Back to the state of a fresh optimizer: zero moments, step 0 (a new run). */
void er_adam_reset(er_adam *opt);
/* Change the learning rate (> 0) for subsequent steps. */
er_err er_adam_set_lr(er_adam *opt, double lr);
/* Accepts NULL; sets *opt to NULL. */
void er_adam_destroy(er_adam **opt);
/* Bytes of an optimizer over n parameters (its buffer table, erase/mem.h). */
double er_adam_bytes(int64_t n, int amsgrad);

#endif
