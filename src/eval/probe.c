/* probe.c: distributed multinomial logistic regression (sklearn LogisticRegression semantics,
 * see probe.h) with liblbfgs; prediction, accuracy and row normalization helpers.
 * Does not normalize embeddings itself, choose training rows, or compute splits. */
#include <cblas.h>
#include <lbfgs.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/mem.h"
#include "erase/probe.h"

#define PREDICT_CHUNK 4096 /* rows converted to double at a time in predict */

/* Buffer tables (erase/mem.h): (lvalue, elements, type, flags). The fit: K classes, then the
 * compact problem of n_local rows of d columns over Kc present classes (nparam = Kc (d + 1));
 * the prediction: chunk rows at a time (every epoch: hot). */
#define FIT_CLASSES(X)                                                                       \
  X(count, K, int64_t, ER_BUF_ZERO)                                                          \
  X(count_all, K, int64_t, ER_BUF_ZERO)                                                      \
  X(cmap, K, int32_t, 0)
#define FIT_BUFFERS(X)                                                                       \
  X(Xd, n_local * d + 1, double, ER_BUF_HOT)                                                 \
  X(yc, n_local + 1, int32_t, ER_BUF_HOT)                                                    \
  X(Z, n_local * Kc + 1, double, ER_BUF_HOT)                                                 \
  X(sbuf, nparam + 1, double, ER_BUF_HOT)                                                    \
  X(rbuf, nparam + 1, double, ER_BUF_HOT)                                                    \
  X(g, nparam, double, ER_BUF_HOT)
#define PREDICT_BUFFERS(X)                                                                   \
  X(Xd, chunk * d, double, ER_BUF_HOT)                                                       \
  X(Z, chunk * K, double, ER_BUF_HOT)
/* liblbfgs's own work space (lbfgs_malloc and lbfgs()): x, xp, g, gp, d, w and the m = 10
 * correction pairs s, y, each of nparam values */
#define LBFGS_WORK_VALUES(nparam) ((6.0 + 2.0 * 10.0) * (double)(nparam))

double er_probe_fit_bytes(int64_t n_local, int d, int K) {
  const int64_t Kc = K, nparam = (int64_t)K * (d + 1);
  return 0 FIT_CLASSES(ER_BUF_BYTES) FIT_BUFFERS(ER_BUF_BYTES) +
         LBFGS_WORK_VALUES(nparam) * sizeof(lbfgsfloatval_t);
}

double er_probe_predict_bytes(int64_t n, int d, int K) {
  const int64_t chunk = n < PREDICT_CHUNK ? n : PREDICT_CHUNK;
  return 0 PREDICT_BUFFERS(ER_BUF_BYTES);
}

//---------------------------------------------------------------------------------------------
// local kernel: loss and gradient (without penalty) of this rank's rows
//---------------------------------------------------------------------------------------------

/* Xd (n, d) doubles; y (n) in [0, Kc); Wc (Kc, d+1). Z (n, Kc) scratch. Writes G (Kc, d+1) and
 * *loss = sum_i logsumexp(z_i) - z_i[y_i]. Intercepts of -INFINITY mean masked classes. */
static void local_loss_grad(const double *Xd, const int32_t *y, int64_t n, int d, int Kc,
                            const double *Wc, double *Z, double *G, double *loss) {
  const int ld = d + 1;
  memset(G, 0, (size_t)Kc * ld * sizeof *G);
  *loss = 0;
  if (n == 0) return;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, Kc, d, 1.0, Xd, d, Wc, ld, 0.0,
              Z, Kc);
  double acc = 0;
  for (int64_t i = 0; i < n; i++) {
    double *z = Z + i * Kc;
    double zmax = -INFINITY;
    for (int c = 0; c < Kc; c++) {
      z[c] += Wc[(int64_t)c * ld + d];
      if (z[c] > zmax) zmax = z[c];
    }
    const int32_t yi = y[i];
    const double zy = z[yi];
    double s = 0;
    for (int c = 0; c < Kc; c++) {
      z[c] = exp(z[c] - zmax); /* masked classes: exp(-inf) = 0 */
      s += z[c];
    }
    acc += (zmax - zy) + log(s); /* logsumexp(z) - z_y */
    for (int c = 0; c < Kc; c++) z[c] /= s;
    z[yi] -= 1.0; /* z is now p - onehot */
  }
  *loss = acc;
  /* G[:, :d] = (P - Y)^T X ; G[:, d] = column sums of (P - Y). */
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Kc, d, (int)n, 1.0, Z, Kc, Xd, d, 0.0, G,
              ld);
  for (int64_t i = 0; i < n; i++)
    for (int c = 0; c < Kc; c++) G[(int64_t)c * ld + d] += Z[i * Kc + c];
}

/* Sum count doubles over comm with a bit-identical result on every rank: reduce to rank 0, then
 * broadcast (an allreduce does not promise identical bits everywhere, and L-BFGS must take the
 * same steps on every rank or the ranks' collective calls stop matching). Every rank makes both
 * calls whatever the first returned and then agrees, so a call that failed on one rank is every
 * rank's error before the next evaluation (a reduction cannot carry its own failure). */
static er_err sum_replicated(MPI_Comm comm, const double *send, double *recv, int count) {
  er_err err = ER_OK;
  ER_MPI_KEEP(err, MPI_Reduce(send, recv, count, MPI_DOUBLE, MPI_SUM, 0, comm));
  ER_MPI_KEEP(err, MPI_Bcast(recv, count, MPI_DOUBLE, 0, comm));
  return er_agree(comm, err);
}

static double max_abs(const double *v, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; i++)
    if (!(fabs(v[i]) <= m)) m = fabs(v[i]); /* NaN propagates */
  return m;
}

/* Rows of in (float) -> out (double). */
static void to_double(double *out, const float *in, int64_t count) {
  for (int64_t i = 0; i < count; i++) out[i] = (double)in[i];
}

//---------------------------------------------------------------------------------------------
// input checks (local; callers agree on the verdict)
//---------------------------------------------------------------------------------------------

static er_err check_inputs(const float *X, const int32_t *y, int64_t n_local, int d, int K,
                           double C) {
  er_err err = ER_OK;
  ER_CHECK(d >= 1, ER_ERR_INPUT, "probe: embedding width must be >= 1 (got %d)", d);
  ER_CHECK(K >= 2, ER_ERR_INPUT, "probe: needs at least 2 classes (K = %d)", K);
  ER_CHECK(C > 0 && isfinite(C), ER_ERR_INPUT, "probe: C must be > 0 (got %g)", C);
  ER_CHECK(n_local >= 0 && n_local <= INT32_MAX, ER_ERR_INPUT,
           "probe: row count %lld out of range", (long long)n_local);
  ER_CHECK((int64_t)K * (d + 1) <= INT32_MAX / 2, ER_ERR_INPUT,
           "probe: K*(d+1) = %lld parameters is too many", (long long)K * (d + 1));
  ER_CHECK(n_local == 0 || (X && y), ER_ERR_INTERNAL, "probe: NULL X or y");
  for (int64_t i = 0; i < n_local; i++)
    ER_CHECK(y[i] >= 0 && y[i] < K, ER_ERR_INPUT,
             "probe: training label %d (local row %lld) is outside [0, %d)", (int)y[i],
             (long long)i, K);
  for (int64_t i = 0; i < n_local * d; i++)
    ER_CHECK(isfinite(X[i]), ER_ERR_NUM, "probe: non-finite embedding value in local row %lld",
             (long long)(i / d));
cleanup:
  return err;
}

/* Collective: d, K, C (and max_iter) must be the same on every rank. */
static er_err check_uniform(MPI_Comm comm, int d, int K, double C, int max_iter) {
  er_err err = ER_OK;
  int mine[6] = {d, -d, K, -K, max_iter, -max_iter}, mx[6];
  double cm[2] = {C, -C}, cx[2];
  ER_MPI_KEEP(err, MPI_Allreduce(mine, mx, 6, MPI_INT, MPI_MAX, comm));
  ER_MPI_KEEP(err, MPI_Allreduce(cm, cx, 2, MPI_DOUBLE, MPI_MAX, comm));
  ER_AGREE(comm); /* both calls made on every rank, whatever the first returned */
  ER_CHECK(mx[0] == -mx[1] && mx[2] == -mx[3] && mx[4] == -mx[5] && cx[0] == -cx[1],
           ER_ERR_INPUT, "probe: d, K, C or max_iter differ between ranks");
cleanup:
  return err;
}

//---------------------------------------------------------------------------------------------
// fit: liblbfgs callbacks over the compact (present classes only) problem
//---------------------------------------------------------------------------------------------

typedef struct {
  MPI_Comm comm;
  const double *X;  /* (n, d) */
  const int32_t *y; /* (n) compact labels in [0, Kc) */
  int64_t n;
  int d, Kc, nparam; /* nparam = Kc * (d + 1) */
  double lambda;     /* 1 / C (C / 2 for two classes) */
  double *Z;         /* (n, Kc) scratch */
  double *sbuf;      /* (nparam + 1) local gradient, local loss */
  double *rbuf;      /* (nparam + 1) summed */
  int evals, iters;
  double f_prev;
  int stop_set;
  er_probe_end ending;
  er_err err;
} fit_ctx;

static double fit_eval(fit_ctx *ctx, const double *x, double *g) {
  const int ld = ctx->d + 1, np = ctx->nparam;
  if (ctx->err != ER_OK) { /* agreed: every rank is here, and L-BFGS ends at its next check */
    for (int k = 0; k < np; k++) g[k] = 0.0;
    return INFINITY;
  }
  local_loss_grad(ctx->X, ctx->y, ctx->n, ctx->d, ctx->Kc, x, ctx->Z, ctx->sbuf,
                  &ctx->sbuf[np]);
  er_err e = sum_replicated(ctx->comm, ctx->sbuf, ctx->rbuf, np + 1);
  if (e != ER_OK && ctx->err == ER_OK) ctx->err = e;
  double pen = 0;
  for (int c = 0; c < ctx->Kc; c++) {
    for (int j = 0; j < ctx->d; j++) {
      const int64_t k = (int64_t)c * ld + j;
      pen += x[k] * x[k];
      g[k] = ctx->rbuf[k] + ctx->lambda * x[k];
    }
    g[(int64_t)c * ld + ctx->d] = ctx->rbuf[(int64_t)c * ld + ctx->d];
  }
  ctx->evals++;
  return ctx->rbuf[np] + 0.5 * ctx->lambda * pen;
}

static lbfgsfloatval_t cb_evaluate(void *instance, const lbfgsfloatval_t *x, lbfgsfloatval_t *g,
                                   const int n, const lbfgsfloatval_t step) {
  (void)n, (void)step;
  return fit_eval((fit_ctx *)instance, x, g);
}

/* scipy L-BFGS-B's tests after each iteration, in its order: projected-gradient max-norm, then
 * relative reduction of f; plus maxfun. A nonzero return stops liblbfgs (returned as is). */
static int cb_progress(void *instance, const lbfgsfloatval_t *x, const lbfgsfloatval_t *g,
                       const lbfgsfloatval_t fx, const lbfgsfloatval_t xnorm,
                       const lbfgsfloatval_t gnorm, const lbfgsfloatval_t step, int n, int k,
                       int ls) {
  (void)x, (void)xnorm, (void)gnorm, (void)step, (void)ls;
  fit_ctx *ctx = instance;
  ctx->iters = k;
  if (ctx->err != ER_OK) return 1;
  if (max_abs(g, n) <= ER_PROBE_GTOL) {
    ctx->ending = ER_PROBE_END_GTOL, ctx->stop_set = 1;
    return 1;
  }
  const double scale = fmax(fmax(fabs(ctx->f_prev), fabs(fx)), 1.0);
  if (ctx->f_prev - fx <= ER_PROBE_FTOL * scale) {
    ctx->ending = ER_PROBE_END_FTOL, ctx->stop_set = 1;
    return 1;
  }
  ctx->f_prev = fx;
  if (ctx->evals >= ER_PROBE_MAXFUN) {
    ctx->ending = ER_PROBE_END_MAXFUN, ctx->stop_set = 1;
    return 1;
  }
  return 0;
}

static const char *lbfgs_code_name(int code) {
  switch (code) {
    case LBFGSERR_LOGICERROR: return "logic error";
    case LBFGSERR_OUTOFMEMORY: return "out of memory";
    case LBFGSERR_CANCELED: return "canceled";
    case LBFGSERR_OUTOFINTERVAL: return "line search step out of interval";
    case LBFGSERR_INCORRECT_TMINMAX: return "line search interval inconsistent";
    case LBFGSERR_MAXIMUMSTEP: return "line search step became too large";
    case LBFGSERR_INVALIDPARAMETERS: return "invalid line search parameters";
    case LBFGSERR_INCREASEGRADIENT: return "search direction is not a descent direction";
    default: return code <= LBFGSERR_INVALID_ORTHANTWISE_END && code >= LBFGSERR_INVALID_N
                        ? "invalid parameter"
                        : "unknown";
  }
}

er_err er_probe_fit(MPI_Comm comm, const float *X, const int32_t *y, int64_t n_local, int d,
                    int K, double C, int max_iter, double *W, er_probe_info *info) {
  er_err err = ER_OK;
  int64_t *count = NULL, *count_all = NULL;
  int32_t *cmap = NULL, *yc = NULL;
  double *Xd = NULL, *Z = NULL, *sbuf = NULL, *rbuf = NULL, *g = NULL;
  lbfgsfloatval_t *x = NULL;
  er_probe_info inf;
  memset(&inf, 0, sizeof inf);
  const int ld = d + 1;

  //---- inputs: local checks, agreed; then sizes must match across ranks
  er_err local = check_inputs(X, y, n_local, d, K, C);
  if (local == ER_OK && max_iter < 1)
    local = ER_ERROR(ER_ERR_INPUT, "probe: max_iter must be >= 1 (got %d)", max_iter);
  if (local == ER_OK && !W) local = ER_ERROR(ER_ERR_INTERNAL, "probe: NULL W");
  ER_CALL(er_agree(comm, local));
  ER_CALL(check_uniform(comm, d, K, C, max_iter));

  //---- classes present among the global training labels
  local = ER_OK;
  FIT_CLASSES(ER_BUF_TRY)
  ER_CALL(er_agree(comm, local));
  for (int64_t i = 0; i < n_local; i++) count[y[i]]++;
  ER_CALL_MPI(MPI_Allreduce(count, count_all, K, MPI_INT64_T, MPI_SUM, comm));
  int Kc = 0;
  for (int c = 0; c < K; c++) {
    cmap[c] = count_all[c] > 0 ? Kc++ : -1;
    inf.n_train += count_all[c];
  }
  inf.n_present = Kc;
  ER_CHECK(inf.n_train > 0, ER_ERR_INPUT, "probe: no training rows on any rank");
  for (int64_t k = 0; k < (int64_t)K * ld; k++) W[k] = 0.0;
  for (int c = 0; c < K; c++)
    if (cmap[c] < 0) W[(int64_t)c * ld + d] = -INFINITY;
  if (Kc == 1) { /* sklearn refuses; the only sensible predictor is the constant one */
    inf.ending = ER_PROBE_END_TRIVIAL;
    goto cleanup;
  }

  //---- compact problem over the present classes
  const int nparam = Kc * ld;
  local = ER_OK;
  FIT_BUFFERS(ER_BUF_TRY)
  x = lbfgs_malloc(nparam);
  if (!x && local == ER_OK)
    local = ER_ERROR(ER_ERR_MEM, "probe: out of memory for %lld rows x %d", (long long)n_local,
                     d);
  ER_CALL(er_agree(comm, local));
  to_double(Xd, X, n_local * d);
  for (int64_t i = 0; i < n_local; i++) yc[i] = cmap[y[i]];
  for (int k = 0; k < nparam; k++) x[k] = 0.0;

  fit_ctx ctx = {.comm = comm, .X = Xd, .y = yc, .n = n_local, .d = d, .Kc = Kc,
                 .nparam = nparam, .lambda = 1.0 / (Kc == 2 ? 0.5 * C : C), .Z = Z,
                 .sbuf = sbuf, .rbuf = rbuf, .err = ER_OK};

  //---- scipy first checks the gradient at the starting point
  ctx.f_prev = fit_eval(&ctx, x, g);
  ER_CALL(ctx.err);
  if (max_abs(g, nparam) <= ER_PROBE_GTOL) {
    inf.ending = ER_PROBE_END_GTOL;
  } else {
    lbfgs_parameter_t param;
    lbfgs_parameter_init(&param);
    param.m = 10;               /* scipy maxcor */
    param.epsilon = 0.0;        /* gradient test done in cb_progress (max-norm, not 2-norm) */
    param.past = 0;             /* relative-reduction test done in cb_progress */
    param.max_iterations = max_iter;
    param.linesearch = LBFGS_LINESEARCH_MORETHUENTE;
    param.max_linesearch = 20;  /* scipy maxls */
    param.ftol = 1e-3;          /* scipy dcsrch sufficient decrease */
    param.gtol = 0.9;           /* scipy dcsrch curvature */
    lbfgsfloatval_t fx = 0;
    /* Note: liblbfgs allocates its work space before the first evaluation; a failure there on
     * one rank only would leave the others waiting in the first reduction (tiny allocation). */
    int ret = lbfgs(nparam, x, &fx, cb_evaluate, cb_progress, &ctx, &param);
    inf.lbfgs_status = ret;
    ER_CALL(ctx.err);
    if (ctx.stop_set) {
      inf.ending = ctx.ending;
    } else if (ret == LBFGS_SUCCESS || ret == LBFGS_ALREADY_MINIMIZED) {
      inf.ending = ER_PROBE_END_GTOL; /* gradient exactly zero */
    } else if (ret == LBFGSERR_MAXIMUMITERATION) {
      inf.ending = ER_PROBE_END_MAXITER;
    } else if (ret == LBFGSERR_ROUNDING_ERROR || ret == LBFGSERR_MAXIMUMLINESEARCH ||
               ret == LBFGSERR_MINIMUMSTEP || ret == LBFGSERR_WIDTHTOOSMALL) {
      inf.ending = ER_PROBE_END_STALL; /* x is the last accepted point */
    } else {
      ER_CHECK(0, ER_ERR_LIB, "probe: liblbfgs failed with code %d (%s) after %d iterations",
               ret, lbfgs_code_name(ret), ctx.iters);
    }
    inf.iterations = ctx.iters;
  }

  //---- loss and gradient exactly at the returned point (liblbfgs may report a trial point)
  inf.loss = fit_eval(&ctx, x, g);
  ER_CALL(ctx.err);
  inf.grad_inf = max_abs(g, nparam);
  inf.evaluations = ctx.evals;
  ER_CHECK(isfinite(inf.loss), ER_ERR_NUM, "probe: non-finite loss %g", inf.loss);
  for (int c = 0; c < K; c++)
    if (cmap[c] >= 0) memcpy(W + (int64_t)c * ld, x + (int64_t)cmap[c] * ld, ld * sizeof *W);

cleanup:
  if (info) *info = inf;
  FIT_CLASSES(ER_BUF_FREE)
  FIT_BUFFERS(ER_BUF_FREE)
  lbfgs_free(x);
  return err;
}

//---------------------------------------------------------------------------------------------
// objective, prediction, accuracy, normalization
//---------------------------------------------------------------------------------------------

er_err er_probe_objective(MPI_Comm comm, const double *W, const float *X, const int32_t *y,
                          int64_t n_local, int d, int K, double C, double *loss, double *grad) {
  er_err err = ER_OK;
  double *Xd = NULL, *Z = NULL, *sbuf = NULL, *rbuf = NULL;
  const int ld = d + 1;
  er_err local = check_inputs(X, y, n_local, d, K, C);
  if (local == ER_OK && (!W || !loss)) local = ER_ERROR(ER_ERR_INTERNAL, "probe: NULL W/loss");
  if (local == ER_OK) {
    const int64_t np = (int64_t)K * ld;
    Xd = malloc((size_t)(n_local * d + 1) * sizeof *Xd);
    Z = malloc((size_t)(n_local * K + 1) * sizeof *Z);
    sbuf = malloc((size_t)(np + 1) * sizeof *sbuf);
    rbuf = malloc((size_t)(np + 1) * sizeof *rbuf);
    if (!Xd || !Z || !sbuf || !rbuf) local = ER_ERROR(ER_ERR_MEM, "probe: out of memory");
  }
  ER_CALL(er_agree(comm, local));
  ER_CALL(check_uniform(comm, d, K, C, 1));
  const int np = K * ld;
  to_double(Xd, X, n_local * d);
  local_loss_grad(Xd, y, n_local, d, K, W, Z, sbuf, &sbuf[np]);
  ER_CALL(sum_replicated(comm, sbuf, rbuf, np + 1));
  double pen = 0;
  for (int c = 0; c < K; c++) {
    for (int j = 0; j < d; j++) {
      const int64_t k = (int64_t)c * ld + j;
      pen += W[k] * W[k];
      if (grad) grad[k] = rbuf[k] + W[k] / C;
    }
    if (grad) grad[(int64_t)c * ld + d] = rbuf[(int64_t)c * ld + d];
  }
  *loss = rbuf[np] + 0.5 * pen / C;
cleanup:
  free(Xd), free(Z), free(sbuf), free(rbuf);
  return err;
}

er_err er_probe_predict(const double *W, const float *X, int64_t n, int d, int K,
                        int32_t *pred) {
  er_err err = ER_OK;
  double *Xd = NULL, *Z = NULL;
  const int ld = d + 1;
  ER_CHECK(d >= 1 && K >= 1 && n >= 0, ER_ERR_INPUT, "probe predict: bad sizes n=%lld d=%d K=%d",
           (long long)n, d, K);
  ER_CHECK(n == 0 || (W && X && pred), ER_ERR_INTERNAL, "probe predict: NULL argument");
  if (n == 0) goto cleanup;
  const int64_t chunk = n < PREDICT_CHUNK ? n : PREDICT_CHUNK;
  PREDICT_BUFFERS(ER_BUF_ALLOC)
  for (int64_t r0 = 0; r0 < n; r0 += chunk) {
    const int m = (int)(n - r0 < chunk ? n - r0 : chunk);
    to_double(Xd, X + r0 * d, (int64_t)m * d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, K, d, 1.0, Xd, d, W, ld, 0.0, Z, K);
    for (int i = 0; i < m; i++) {
      const double *z = Z + (int64_t)i * K;
      int best = 0;
      double bz = z[0] + W[d];
      for (int c = 1; c < K; c++) {
        const double v = z[c] + W[(int64_t)c * ld + d];
        if (v > bz || (isnan(bz) && !isnan(v))) bz = v, best = c;
      }
      pred[r0 + i] = best;
    }
  }
cleanup:
  PREDICT_BUFFERS(ER_BUF_FREE)
  return err;
}

er_err er_probe_accuracy(MPI_Comm comm, const double *W, const float *X, const int32_t *label,
                         const uint8_t *mask, int64_t n_local, int d, int K, double *acc) {
  er_err err = ER_OK;
  int32_t *pred = NULL;
  int64_t loc[2] = {0, 0}, tot[2];
  er_err local = ER_OK;
  if (!acc || (n_local > 0 && !label)) local = ER_ERROR(ER_ERR_INTERNAL, "probe: NULL argument");
  if (local == ER_OK && !(pred = malloc((size_t)(n_local + 1) * sizeof *pred)))
    local = ER_ERROR(ER_ERR_MEM, "probe: out of memory");
  if (local == ER_OK) local = er_probe_predict(W, X, n_local, d, K, pred);
  ER_CALL(er_agree(comm, local));
  for (int64_t i = 0; i < n_local; i++) {
    if ((mask && !mask[i]) || label[i] < 0) continue;
    loc[0] += pred[i] == label[i];
    loc[1]++;
  }
  ER_CALL_MPI(MPI_Allreduce(loc, tot, 2, MPI_INT64_T, MPI_SUM, comm));
  *acc = tot[1] > 0 ? (double)tot[0] / (double)tot[1] : NAN;
cleanup:
  free(pred);
  return err;
}

er_err er_rows_l2_normalize(float *out, const float *in, int64_t n, int d) {
  er_err err = ER_OK;
  ER_CHECK(n >= 0 && d >= 1, ER_ERR_INPUT, "normalize: bad sizes n=%lld d=%d", (long long)n, d);
  ER_CHECK(n == 0 || (out && in), ER_ERR_INTERNAL, "normalize: NULL argument");
  for (int64_t i = 0; i < n; i++) {
    const float *r = in + i * d;
    double s;
    ER_SUM8(s, d, j, (double)r[j] * (double)r[j]);
    const double nrm = fmax(sqrt(s), 1e-12);
    for (int j = 0; j < d; j++) out[i * d + j] = (float)((double)r[j] / nrm);
  }
cleanup:
  return err;
}
