/* adam.c: Adam / AMSGrad update over a float32 slab, matching torch.optim.Adam (1.13,
 * single-tensor CPU path) operation by operation. No gradient reduction, no scheduling. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/optim.h"

/* The optimizer's buffer table (erase/mem.h): (lvalue, elements, type, flags) over n
 * parameters; vmax only with AMSGrad (ams = 1). */
#define ADAM_BUFFERS(X)                                                                      \
  X(a->m, n, float, ER_BUF_ZERO)                                                             \
  X(a->v, n, float, ER_BUF_ZERO)                                                             \
  X(a->vmax, ams * n, float, ER_BUF_ZERO | ER_BUF_OPT)

double er_adam_bytes(int64_t n, int amsgrad) {
  const int64_t ams = amsgrad != 0;
  return 0 ADAM_BUFFERS(ER_BUF_BYTES);
}

struct er_adam {
  int64_t n;
  int64_t step;
  double lr, beta1, beta2, eps, wd;
  int amsgrad;
  float *m;    /* (n) */
  float *v;    /* (n) */
  float *vmax; /* (n) or NULL */
};

er_err er_adam_create(int64_t n, double lr, double beta1, double beta2, double eps,
                      double weight_decay, int amsgrad, er_adam **opt) {
  er_err err = ER_OK;
  er_adam *a = NULL;
  ER_CHECK(opt != NULL, ER_ERR_INTERNAL, "er_adam_create: NULL output handle");
  *opt = NULL;
  ER_CHECK(n > 0, ER_ERR_INPUT, "adam: parameter count must be positive (got %lld)",
           (long long)n);
  ER_CHECK(lr > 0 && isfinite(lr), ER_ERR_INPUT, "adam: learning rate must be > 0 (got %g)", lr);
  ER_CHECK(beta1 >= 0 && beta1 < 1, ER_ERR_INPUT, "adam: beta1 must be in [0, 1) (got %g)",
           beta1);
  ER_CHECK(beta2 >= 0 && beta2 < 1, ER_ERR_INPUT, "adam: beta2 must be in [0, 1) (got %g)",
           beta2);
  ER_CHECK(eps >= 0 && isfinite(eps), ER_ERR_INPUT, "adam: eps must be >= 0 (got %g)", eps);
  ER_CHECK(weight_decay >= 0 && isfinite(weight_decay), ER_ERR_INPUT,
           "adam: weight decay must be >= 0 (got %g)", weight_decay);
  ER_CALLOC(a, 1);
  a->n = n;
  a->lr = lr;
  a->beta1 = beta1;
  a->beta2 = beta2;
  a->eps = eps;
  a->wd = weight_decay;
  a->amsgrad = amsgrad != 0;
  const int64_t ams = a->amsgrad;
  ADAM_BUFFERS(ER_BUF_ALLOC)
  *opt = a;
  a = NULL;
cleanup:
  er_adam_destroy(&a);
  return err;
}

void er_adam_reset(er_adam *opt) {
  size_t bytes = (size_t)opt->n * sizeof(float);
  memset(opt->m, 0, bytes);
  memset(opt->v, 0, bytes);
  if (opt->vmax) memset(opt->vmax, 0, bytes);
  opt->step = 0;
}

er_err er_adam_step(er_adam *opt, float *params, const float *grad) {
  er_err err = ER_OK;
  ER_CHECK(opt && params && grad, ER_ERR_INTERNAL, "er_adam_step: NULL argument");
  opt->step++;
  /* Scalars exactly as PyTorch forms them: Python doubles, rounded to float when they meet a
   * float32 tensor. */
  const double bc1 = 1.0 - pow(opt->beta1, (double)opt->step);
  const double bc2 = 1.0 - pow(opt->beta2, (double)opt->step);
  const float step_size = (float)(-(opt->lr / bc1)); /* addcdiv_ value=-step_size */
  const float bc2_sqrt = (float)sqrt(bc2);
  const float b1 = (float)opt->beta1, one_b1 = (float)(1.0 - opt->beta1);
  const float b2 = (float)opt->beta2, one_b2 = (float)(1.0 - opt->beta2);
  const float eps = (float)opt->eps, wd = (float)opt->wd;
  const int use_wd = opt->wd != 0.0;
  float *restrict m = opt->m, *restrict v = opt->v, *restrict vmax = opt->vmax;
  float *restrict p = params;
  const float *restrict gr = grad;
  /* branch-free body (the vmax test is loop-invariant) so that the compiler vectorizes it */
  for (int64_t i = 0; i < opt->n; i++) {
    float g = gr[i];
    g = use_wd ? fmaf(wd, p[i], g) : g;          /* grad.add(param, alpha=wd) */
    m[i] = fmaf(one_b1, g, m[i] * b1);           /* exp_avg.mul_(b1).add_(g, alpha=1-b1) */
    const float vi = fmaf(one_b2 * g, g, v[i] * b2); /* exp_avg_sq.mul_(b2).addcmul_(g, g, 1-b2) */
    v[i] = vi;
    float s = vi;
    if (vmax) {
      const float vm = (vi > vmax[i] || vi != vi) ? vi : vmax[i]; /* torch.maximum propagates NaN */
      vmax[i] = vm;
      s = vm;
    }
    const float denom = sqrtf(s) / bc2_sqrt + eps;
    p[i] = p[i] + step_size * m[i] / denom; /* addcdiv_(m, denom, -step_size) */
  }
cleanup:
  return err;
}

er_err er_adam_state(er_adam *opt, er_adam_view *view) {
  er_err err = ER_OK;
  ER_CHECK(opt && view, ER_ERR_INTERNAL, "er_adam_state: NULL argument");
  view->n = opt->n;
  view->step = opt->step;
  view->m = opt->m;
  view->v = opt->v;
  view->vmax = opt->vmax;
cleanup:
  return err;
}

er_err er_adam_set_step(er_adam *opt, int64_t step) {
  er_err err = ER_OK;
  ER_CHECK(opt != NULL, ER_ERR_INTERNAL, "er_adam_set_step: NULL optimizer");
  ER_CHECK(step >= 0, ER_ERR_INPUT, "adam: step count must be >= 0 (got %lld)",
           (long long)step);
  opt->step = step;
cleanup:
  return err;
}

er_err er_adam_set_lr(er_adam *opt, double lr) {
  er_err err = ER_OK;
  ER_CHECK(opt != NULL, ER_ERR_INTERNAL, "er_adam_set_lr: NULL optimizer");
  ER_CHECK(lr > 0 && isfinite(lr), ER_ERR_INPUT, "adam: learning rate must be > 0 (got %g)", lr);
  opt->lr = lr;
cleanup:
  return err;
}

void er_adam_destroy(er_adam **opt) {
  if (!opt || !*opt) return;
  er_adam *a = *opt;
  ADAM_BUFFERS(ER_BUF_FREE)
  free(a);
  *opt = NULL;
}
