/* loss.h: the coding-rate-reduction (MCR²) loss of ERASE.md section 5, forward and backward,
 * over rows of Z spread across the ranks of a communicator, plus a plain serial reference.
 * It does not compute the labels L (labels/) nor touch the encoder: it maps (Z, L) -> loss, dZ.
 *
 * Definitions (m = N, all rows on all ranks; m_j = |{i : L_i = j}| + 1e-8, global counts):
 *   R     = 1/2 logdet(I + gamma1 d/(m eps) Z^T Z)
 *   Rc    = sum_j m_j/(2m) logdet(I + d/(m_j eps) Z_j^T Z_j)
 *   loss  = -gamma2 R + gamma1 Rc
 *   R_th  = 1/2 logdet(I + d/(m eps) Z^T Z),   delta_R = R_th - Rc
 *   dloss/dZ_i = gamma1 d/(m eps) Z_i (M_j - gamma2 M0)  for a row i of class j, with
 *   M0 = (I + gamma1 d/(m eps) Z^T Z)^-1 and M_j = (I + d/(m_j eps) Z_j^T Z_j)^-1.
 * Gram matrices are accumulated in double on each rank, summed with one MPI_Allreduce, then the
 * K+1 d x d SPD matrices are Cholesky-factored and inverted, either with LAPACK, the batch split
 * over the ranks (each matrix factored on one rank, one Allgatherv of the packed inverses), or
 * distributed on a BLACS grid with ScaLAPACK; every rank gets all inverses back.
 * All arrays are row-major. */
#ifndef ERASE_LOSS_H
#define ERASE_LOSS_H

#include <stdint.h>

#include "erase/mem.h"

/* Solver for the log-determinants and inverses. AUTO: LAPACK on one rank or when
 * d < er_mcr2_scalapack_min_d (measured crossover, see benchmarks/RESULTS.md), else ScaLAPACK. */
enum { ER_MCR2_AUTO = 0, ER_MCR2_LAPACK = 1, ER_MCR2_SCALAPACK = 2 };

/* Smallest d for which AUTO picks ScaLAPACK (needs at least 2 ranks). */
extern const int er_mcr2_scalapack_min_d;

typedef struct {
  double loss, R, Rc, R_th, delta_R; /* identical on all ranks */
  double N;                          /* m: total number of rows */
  int solver;                        /* ER_MCR2_LAPACK or ER_MCR2_SCALAPACK: what actually ran */
  double comm_s;    /* forward seconds inside MPI_Allreduce (includes waiting for slower ranks) */
  double compute_s; /* remaining forward seconds (Gram accumulation, factorizations) */
  double solve_s;   /* part of the forward spent in logdets/inverses (incl. their comm) */
} er_mcr2_result;

typedef struct er_mcr2 er_mcr2;

/* Collective on comm. d >= 1, K >= 1, eps > 0. solver: ER_MCR2_*. The handle keeps a reference
 * to comm (not duplicated; comm must outlive it) and, if ScaLAPACK may be used, a BLACS grid. */
er_err er_mcr2_create(MPI_Comm comm, int d, int K, double gamma1, double gamma2, double eps,
                      int solver, er_mcr2 **out);
/* Collective on the comm given at create (frees the BLACS grid). Accepts NULL; sets *h = NULL. */
void er_mcr2_destroy(er_mcr2 **h);
/* Bytes of a handle on a rank with counts c (c->embed = d, c->solver, c->gamma1) once a forward
 * of rows rows has grown its row permutation (its buffer tables, erase/mem.h). */
double er_mcr2_bytes(const er_mem_counts *c, int64_t rows);

/* Forward, collective. Z (n_local, d) rows of this rank, L (n_local) their classes in [0, K).
 * Fills res (same values on every rank) and keeps the inverses M0, M_j for the backward.
 * Errors (labels out of range, N == 0, non-finite Z, Cholesky failure) are agreed on by all
 * ranks: every rank returns the same code. Buffers stay owned by the caller. */
er_err er_mcr2_forward_f(er_mcr2 *h, const float *Z, const int32_t *L, int64_t n_local,
                         er_mcr2_result *res);
/* Double-precision forward (Grams accumulated directly in double; used by gradient checks). */
er_err er_mcr2_forward_d(er_mcr2 *h, const double *Z, const int32_t *L, int64_t n_local,
                         er_mcr2_result *res);

/* Backward, NOT collective (no communication): OVERWRITES dZ (n_local, d) with dloss/dZ of this
 * rank's rows. Z, L, n_local must be those of the last successful forward (either precision).
 * Returns ER_ERR_INTERNAL if no forward succeeded, ER_ERR_INPUT on a label out of range. */
er_err er_mcr2_backward_f(er_mcr2 *h, float *dZ, const float *Z, const int32_t *L,
                          int64_t n_local);
er_err er_mcr2_backward_d(er_mcr2 *h, double *dZ, const double *Z, const int32_t *L,
                          int64_t n_local);

/* Plain serial reference on the whole Z (N, d): naive Gram loops in double, dpotrf, explicit
 * inverses by Cholesky solves. Fills res (timing fields zero) and, if dZ is not NULL, the
 * gradient dZ (N, d). Not collective. Returns ER_ERR_INPUT / ER_ERR_NUM like the forward. */
er_err er_mcr2_ref(const double *Z, const int32_t *L, int64_t N, int d, int K, double gamma1,
                   double gamma2, double eps, er_mcr2_result *res, double *dZ);

#endif
