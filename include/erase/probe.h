/* probe.h: linear-probe evaluation (ERASE.md section 7): multinomial logistic regression with
 * scikit-learn 1.2 LogisticRegression(penalty='l2', C, fit_intercept=True, solver='lbfgs',
 * tol=1e-4, max_iter) semantics, fitted by liblbfgs on training rows spread over the ranks.
 *
 * Objective (sklearn's, over the classes PRESENT among the training labels only):
 *   f(W, b) = sum_i [ logsumexp_c(x_i.W_c + b_c) - (x_i.W_y(i) + b_y(i)) ] + 1/(2C) ||W||_F^2
 * summed (not averaged) over the global training rows; intercepts b are not penalized; the fit
 * starts from zero. Classes absent from the training labels are never predicted (weights 0,
 * intercept -INFINITY). With exactly two present classes sklearn fits ONE binary logistic
 * vector (multi_class='auto' -> 'ovr'); the symmetric two-vector multinomial with C/2 has the
 * same optimum (w1 - w0 = w_binary), the same objective value and the same predictions, and
 * is what is fitted here. With one present class sklearn raises an error; here the fit is the
 * constant predictor of that class (info->n_present = 1, zero iterations).
 *
 * Stopping (emulating scipy L-BFGS-B as sklearn calls it): stop when max|grad| <= 1e-4
 * (pgtol = tol), or when (f_prev - f) <= 2.22e-9 * max(|f_prev|, |f|, 1) (scipy ftol), after
 * max_iter iterations, or after 15000 evaluations (scipy maxfun). History m = 10 (maxcor),
 * More-Thuente line search with ftol 1e-3, gtol 0.9 and at most 20 trials (scipy maxls).
 * Known differences: liblbfgs is plain L-BFGS (no bounds, no skipping of curvature pairs with
 * y.s <= eps y.y, its own More-Thuente bracketing), so iterates could differ from scipy's; on
 * the multiclass test problems they did not (same iteration count, W equal to 1e-13). The
 * two-class reparametrization changes the iterates slightly (W within 3e-5, loss within 1e-9
 * relative, identical predictions).
 *
 * Distribution: every rank runs liblbfgs on the same replicated parameter vector; each
 * evaluation sums the per-rank partial loss and gradient (MPI_Reduce to rank 0 then MPI_Bcast,
 * so every rank gets bit-identical values and takes identical steps). Different rank counts sum
 * in different orders, so results agree across rank counts only to rounding (measured 1e-13
 * on the test problem: same iterations, W max difference 1.4e-13 between 1 and 4 ranks).
 *
 * W layout: (K, d + 1) row-major doubles: W[c*(d+1) + j] is the weight of feature j for class
 * c, W[c*(d+1) + d] the intercept of class c. X is (n, d) row-major float32; embeddings are
 * expected to be row-L2-normalized by the caller (er_rows_l2_normalize). */
#ifndef ERASE_PROBE_H
#define ERASE_PROBE_H

#include <stdint.h>

#include "erase/core.h"

#define ER_PROBE_GTOL 1e-4                  /* sklearn tol -> scipy pgtol */
#define ER_PROBE_FTOL 2.2204460492503131e-9 /* scipy L-BFGS-B default ftol */
#define ER_PROBE_MAXFUN 15000               /* scipy L-BFGS-B default maxfun */

typedef enum {
  ER_PROBE_END_GTOL = 0,     /* max|grad| <= ER_PROBE_GTOL */
  ER_PROBE_END_FTOL = 1,     /* relative reduction of f below ER_PROBE_FTOL */
  ER_PROBE_END_MAXITER = 2,  /* max_iter iterations */
  ER_PROBE_END_MAXFUN = 3,   /* ER_PROBE_MAXFUN evaluations */
  ER_PROBE_END_STALL = 4,    /* line search could not improve (rounding): accepted ending */
  ER_PROBE_END_TRIVIAL = 5   /* one present class: constant predictor, nothing fitted */
} er_probe_end;

typedef struct {
  int iterations;      /* L-BFGS iterations */
  int evaluations;     /* objective + gradient evaluations, incl. the first and a final one */
  int lbfgs_status;    /* raw liblbfgs return code */
  er_probe_end ending; /* why the fit stopped */
  int n_present;       /* classes present among the training labels */
  int64_t n_train;     /* training rows over all ranks */
  double loss;         /* objective at the returned W (sklearn's value, see above) */
  double grad_inf;     /* max |gradient| at the returned W */
} er_probe_info;

/* out[i] = in[i] / max(||in[i]||_2, 1e-12) per row (sklearn.preprocessing.normalize; the norm
 * is accumulated in double). out may equal in. Not collective. */
er_err er_rows_l2_normalize(float *out, const float *in, int64_t n, int d);

/* Collective on comm. X (n_local, d), y (n_local) labels in [0, K) of this rank's training
 * rows (n_local may be 0). C > 0, K >= 2, d >= 1, max_iter >= 1, identical on all ranks.
 * W (K*(d+1)) output, identical on every rank; info may be NULL.
 * ER_ERR_INPUT: bad sizes/labels, no training rows at all; ER_ERR_NUM: non-finite X;
 * ER_ERR_LIB: liblbfgs failure other than the accepted endings, which are: convergence,
 * LBFGSERR_MAXIMUMITERATION, and line-search stalls LBFGSERR_ROUNDING_ERROR,
 * LBFGSERR_MAXIMUMLINESEARCH, LBFGSERR_MINIMUMSTEP, LBFGSERR_WIDTHTOOSMALL (scipy ends those as
 * ABNORMAL_TERMINATION_IN_LNSRCH and sklearn keeps the result with a warning). */
er_err er_probe_fit(MPI_Comm comm, const float *X, const int32_t *y, int64_t n_local, int d,
                    int K, double C, int max_iter, double *W, er_probe_info *info);

/* pred[i] = argmax_c (X_i . W_c + b_c), lowest class on ties (numpy argmax). Not collective. */
/* Bytes er_probe_fit (n_local rows of d columns, K classes, liblbfgs included) and
 * er_probe_predict (n rows) hold while they run (their buffer tables, erase/mem.h). */
double er_probe_fit_bytes(int64_t n_local, int d, int K);
double er_probe_predict_bytes(int64_t n, int d, int K);
er_err er_probe_predict(const double *W, const float *X, int64_t n, int d, int K,
                        int32_t *pred);

/* Collective. Objective f (above, penalty 1/(2C) over all K rows of W) and, if grad is not
 * NULL, its gradient (K*(d+1), same layout; zero for classes with intercept -INFINITY).
 * For a W fitted with exactly two present classes, pass C/2 to reproduce info->loss. */
er_err er_probe_objective(MPI_Comm comm, const double *W, const float *X, const int32_t *y,
                          int64_t n_local, int d, int K, double C, double *loss, double *grad);

/* Collective. Fraction of rows with mask[i] != 0 (mask NULL: all) and label[i] >= 0 whose
 * prediction equals label[i], over all ranks; *acc = NaN if there are none. */
er_err er_probe_accuracy(MPI_Comm comm, const double *W, const float *X, const int32_t *label,
                         const uint8_t *mask, int64_t n_local, int d, int K, double *acc);

#endif
