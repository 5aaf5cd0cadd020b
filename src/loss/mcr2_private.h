/* mcr2_private.h (private to src/loss): the loss handle and the precision-independent steps of
 * the forward and backward (mcr2.c) that the per-precision files (mcr2_f.c, mcr2_d.c, through
 * mcr2_template.h) call around their own Gram and product loops. Not part of the public API. */
#ifndef ERASE_LOSS_MCR2_PRIVATE_H
#define ERASE_LOSS_MCR2_PRIVATE_H

#include "erase/loss.h"
#include "mcr2_solve.h"

/* Rows per gathered chunk: the unit of the Gram accumulation and of the backward product. */
#define ER_MCR2_CHUNK 256

struct er_mcr2 {
  MPI_Comm comm;
  int d, K;
  double gamma1, gamma2, eps;
  int solver;        /* resolved: ER_MCR2_LAPACK or ER_MCR2_SCALAPACK */
  int nmat;          /* K+1, or K+2 when gamma1 != 1 (R_th needs its own logdet) */
  double *mats;      /* (nmat, d, d): [0] = I + gamma1 d/(m eps) G, [1+j] = I + d/(m_j eps) G_j,
                        [K+1] = I + d/(m eps) G; after forward [0] = M0, [1+j] = B_j (double).
                        Only the row-major upper triangles (i <= j) are kept: all are symmetric */
  float *Bf;         /* (K, d, d) B_j = gamma1 d/(m eps) (M_j - gamma2 M0) in float, upper */
  double *pack;      /* LAPACK path on >1 rank: gathered inverses (er_mcr2_solve_lapack) */
  int *counts;       /* (2 P) its Allgatherv counts and displacements */
  double *logdet;    /* (nmat) */
  double *red;       /* (K * d(d+1)/2 + K + 2) Allreduce buffer: packed Grams, counts, flags */
  double *cnt;       /* (K) global m_j (with the 1e-8) of the last forward */
  float *gramf;      /* (d, d) float Gram of one chunk */
  float *chunkf;     /* (CHUNK, d) gathered rows, float */
  float *outf;       /* (CHUNK, d) their product with B_j, float */
  double *chunkd;    /* (CHUNK, d) gathered rows, double */
  double *outd;      /* (CHUNK, d) their product with B_j, double */
  int64_t *perm;     /* (cap) row indices sorted by class */
  int64_t *start;    /* (K + 1) class offsets into perm */
  int64_t cap;
  int64_t n_fwd;     /* n_local of the last successful forward, -1 if none */
  er_mcr2_grid grid;
  int have_grid;
};

/* Number of rows in the chunk of class j that starts at perm index s. */
static inline int er_mcr2_chunk_rows(const er_mcr2 *h, int j, int64_t s) {
  return (int)(h->start[j + 1] - s < ER_MCR2_CHUNK ? h->start[j + 1] - s : ER_MCR2_CHUNK);
}

/* Forward, before the Grams: resets res and the last forward, checks the local input (have_Z:
 * Z is not NULL) and sorts the rows by class into perm/start. Returns the local verdict (a bad
 * input leaves every class empty); not collective. */
er_err er_mcr2_forward_prepare(er_mcr2 *h, int have_Z, const int32_t *L, int64_t n,
                               er_mcr2_result *res);
/* Forward, after the Grams in mats[1..K] (skipped when local != ER_OK): one Allreduce, the
 * matrices, the logdets and inverses, the loss, and B_j in mats[1+j] and Bf. Collective; every
 * rank returns the same code. t_start: MPI_Wtime() at the start of the forward. */
er_err er_mcr2_forward_finish(er_mcr2 *h, er_err local, int64_t n, double t_start,
                              er_mcr2_result *res);
/* Backward, before the products: checks that a forward succeeded with the same n and sorts the
 * rows by class. Not collective. */
er_err er_mcr2_backward_prepare(er_mcr2 *h, const int32_t *L, int64_t n);

#endif
