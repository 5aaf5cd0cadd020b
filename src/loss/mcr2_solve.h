/* mcr2_solve.h (private to src/loss): log-determinants and inverses of a batch of d x d SPD
 * matrices, LAPACK with the batch split over the ranks or ScaLAPACK on a BLACS grid. Knows
 * nothing about the loss. */
#ifndef ERASE_LOSS_MCR2_SOLVE_H
#define ERASE_LOSS_MCR2_SOLVE_H

#include "erase/mem.h"

/* BLACS process grid over a communicator (myrow = -1 on ranks outside the grid). */
typedef struct {
  int sys;                  /* BLACS system handle of the communicator, -1 if none */
  int ctxt;                 /* grid context, -1 outside the grid */
  int nprow, npcol, myrow, mycol;
  int nb;                   /* block-cyclic block size */
  int locr, locc;           /* local rows/cols of a d x d matrix */
  double *loc;              /* (locr * locc) column-major local piece */
  double *pack;             /* reduction buffer for inverses + logdets + failure count */
  size_t pack_len;
} er_mcr2_grid;

/* Collective on comm: build a near-square grid over all ranks of comm for d x d matrices whose
 * inverses come back for up to n_inv matrices and logdets for up to nmat. */
er_err er_mcr2_grid_create(MPI_Comm comm, int d, int nmat, int n_inv, er_mcr2_grid *g);
void er_mcr2_grid_destroy(er_mcr2_grid *g);
/* Bytes the grid's buffers take on its first grid rank (its buffer table, erase/mem.h). */
double er_mcr2_grid_bytes(int size, int d, int nmat, int n_inv);

/* mats: nmat symmetric d x d matrices, contiguous, of which only the row-major upper triangle
 * (i <= j) is read. Matrices 0..n_inv-1 are replaced by their inverses, again in the upper
 * triangle only (the lower one is left unspecified); logdet[k] receives logdet(mats[k]) for every
 * k. Both are collective on comm, return the same verdict on every rank, and add their MPI
 * seconds to *comm_s.
 * LAPACK: rank r factors the contiguous block [nmat r/P, nmat (r+1)/P) of the batch, then one
 * MPI_Allgatherv of packed inverses (pack: nmat * (packlen(d) + 2) doubles; counts: 2 P ints of
 * scratch) gives every rank all of them; with one rank nothing is packed. ScaLAPACK: every grid
 * rank works on every matrix. */
er_err er_mcr2_solve_lapack(MPI_Comm comm, int d, int nmat, int n_inv, double *mats,
                            double *logdet, double *pack, int *counts, double *comm_s);
er_err er_mcr2_solve_scalapack(er_mcr2_grid *g, MPI_Comm comm, int d, int nmat, int n_inv,
                               double *mats, double *logdet, double *comm_s);

/* Packed upper triangle (row-major, i <= j) helpers: index and length. */
static inline size_t er_mcr2_packlen(int d) { return (size_t)d * (size_t)(d + 1) / 2; }
static inline size_t er_mcr2_packidx(int d, int i, int j) {
  return (size_t)i * (size_t)(2 * d - i + 1) / 2 + (size_t)(j - i);
}

#endif
