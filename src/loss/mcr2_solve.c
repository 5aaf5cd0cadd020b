/* mcr2_solve.c: Cholesky log-determinants and inverses of a batch of d x d SPD matrices, either
 * with LAPACK (dpotrf/dpotri, the batch split over the ranks, results allgathered) or with
 * ScaLAPACK (pdpotrf/pdpotri on a BLACS grid). It does not form the matrices, and it leaves
 * er_agree on its verdict to the caller. */
#include "mcr2_solve.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* No C header exists for BLACS / ScaLAPACK (PLATFORM.md): declare what we use. Fortran character
 * arguments carry a hidden trailing length. */
extern void Cblacs_pinfo(int *mypnum, int *nprocs);
extern int Csys2blacs_handle(MPI_Comm comm);
extern void Cfree_blacs_system_handle(int handle);
extern void Cblacs_gridinit(int *ctxt, const char *order, int nprow, int npcol);
extern void Cblacs_gridinfo(int ctxt, int *nprow, int *npcol, int *myrow, int *mycol);
extern void Cblacs_gridexit(int ctxt);
extern int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc,
                   const int *nprocs);
extern void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
                      const int *irsrc, const int *icsrc, const int *ictxt, const int *lld,
                      int *info);
extern void pdpotrf_(const char *uplo, const int *n, double *a, const int *ia, const int *ja,
                     const int *desca, int *info, size_t uplo_len);
extern void pdpotri_(const char *uplo, const int *n, double *a, const int *ia, const int *ja,
                     const int *desca, int *info, size_t uplo_len);

/* Block size of the block-cyclic layout: 64 is ScaLAPACK's usual choice for this matrix size
 * range; smaller d get a smaller block so that every grid column still owns something. */
#define ER_MCR2_NB 64

//---------------------------------------------------------------------------------------------
// LAPACK, the batch split over the ranks
//---------------------------------------------------------------------------------------------

/* Row-major upper triangle of a d x d matrix <-> packed (row i: d - i entries from the
 * diagonal). */
static void pack_upper(int d, const double *a, double *pk) {
  for (int i = 0; i < d; i++, pk += d - i + 1)
    memcpy(pk, a + (size_t)i * d + i, (size_t)(d - i) * sizeof *pk);
}
static void unpack_upper(int d, const double *pk, double *a) {
  for (int i = 0; i < d; i++, pk += d - i + 1)
    memcpy(a + (size_t)i * d + i, pk, (size_t)(d - i) * sizeof *pk);
}

/* Cholesky logdet and (k < n_inv) inverse of one matrix, in place. A row-major upper triangle is
 * LAPACK's column-major lower one, hence 'L'. Returns 0 or the failing LAPACK info. */
static int factor_one(int d, double *a, int want_inverse, double *logdet) {
  lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', d, a, d);
  if (info != 0) return (int)info;
  double s = 0.0;
  for (int i = 0; i < d; i++) s += log(a[i + (size_t)i * d]);
  *logdet = 2.0 * s;
  if (want_inverse) info = LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'L', d, a, d);
  return (int)info;
}

er_err er_mcr2_solve_lapack(MPI_Comm comm, int d, int nmat, int n_inv, double *mats,
                            double *logdet, double *pack, int *counts, double *comm_s) {
  er_err err = ER_OK;
  size_t dd = (size_t)d * d, slot = er_mcr2_packlen(d) + 2; /* packed inverse, logdet, info */
  int rank, size, lo, hi;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  if (size == 1) {
    for (int k = 0; k < nmat; k++) {
      int info = factor_one(d, mats + (size_t)k * dd, k < n_inv, &logdet[k]);
      ER_CHECK(info == 0, ER_ERR_NUM,
               "Cholesky/inverse of coding-rate matrix %d (d=%d) failed: LAPACK info=%d (matrix "
               "not positive definite: non-finite or huge Z?)",
               k, d, info);
    }
    goto cleanup;
  }
  //---- my block of the batch: factor, then pack into my slots ----
  lo = (int)((int64_t)nmat * rank / size);
  hi = (int)((int64_t)nmat * (rank + 1) / size);
  for (int k = lo; k < hi; k++) {
    double *a = mats + (size_t)k * dd, *pk = pack + (size_t)k * slot;
    int info = factor_one(d, a, k < n_inv, &pk[slot - 2]);
    pk[slot - 1] = info;
    if (info == 0 && k < n_inv) pack_upper(d, a, pk);
  }
  //---- everyone gets every slot (each rank's slots are contiguous) ----
  int *displs = counts + size;
  for (int r = 0; r < size; r++) {
    int64_t a = (int64_t)nmat * r / size, b = (int64_t)nmat * (r + 1) / size;
    counts[r] = (int)((b - a) * (int64_t)slot);
    displs[r] = (int)(a * (int64_t)slot);
  }
  double t0 = MPI_Wtime();
  int mrc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, pack, counts, displs, MPI_DOUBLE,
                           comm);
  *comm_s += MPI_Wtime() - t0;
  ER_CHECK(mrc == MPI_SUCCESS, ER_ERR_MPI, "MPI_Allgatherv of the coding-rate inverses failed");
  //---- the verdict is the same everywhere: every rank reads the same gathered infos ----
  for (int k = 0; k < nmat; k++) {
    const double *pk = pack + (size_t)k * slot;
    ER_CHECK(pk[slot - 1] == 0.0, ER_ERR_NUM,
             "Cholesky/inverse of coding-rate matrix %d (d=%d) failed: LAPACK info=%d (matrix "
             "not positive definite: non-finite or huge Z?)",
             k, d, (int)pk[slot - 1]);
    logdet[k] = pk[slot - 2];
    if (k < n_inv && (k < lo || k >= hi)) unpack_upper(d, pk, mats + (size_t)k * dd);
  }
cleanup:
  return err;
}

//---------------------------------------------------------------------------------------------
// ScaLAPACK grid
//---------------------------------------------------------------------------------------------

/* The grid's buffer table (erase/mem.h): (lvalue, elements, type, flags): the local piece of a
 * d x d matrix (locr x locc, on grid ranks only: in_grid) and the reduction buffer. */
#define GRID_BUFFERS(X)                                                                      \
  X(g->loc, in_grid * (locr > 0 ? locr : 1) * locc, double, ER_BUF_OPT)                      \
  X(g->pack, pack_len, double, 0)

/* A near-square grid over size ranks: nprow <= npcol; size - nprow*npcol ranks stay outside. */
static void grid_shape(int size, int *nprow, int *npcol) {
  *nprow = 1;
  while ((*nprow + 1) * (*nprow + 1) <= size) ++*nprow;
  *npcol = size / *nprow;
}

static int grid_block(int d, int nprow, int npcol) {
  int maxp = nprow > npcol ? nprow : npcol, nb = (d + maxp - 1) / maxp;
  return nb > ER_MCR2_NB ? ER_MCR2_NB : nb < 1 ? 1 : nb;
}

double er_mcr2_grid_bytes(int size, int d, int nmat, int n_inv) {
  int nprow, npcol;
  grid_shape(size, &nprow, &npcol);
  const int nb = grid_block(d, nprow, npcol), in_grid = 1, blocks = (d + nb - 1) / nb;
  /* grid process (0, 0) holds the most: every nprow-th (npcol-th) block from the first */
  const double locr = (double)((blocks + nprow - 1) / nprow) * nb;
  const double locc = (double)((blocks + npcol - 1) / npcol) * nb;
  const double pack_len = (double)n_inv * (double)er_mcr2_packlen(d) + nmat + 1;
  return 0 GRID_BUFFERS(ER_BUF_BYTES);
}

er_err er_mcr2_grid_create(MPI_Comm comm, int d, int nmat, int n_inv, er_mcr2_grid *g) {
  er_err err = ER_OK;
  memset(g, 0, sizeof *g);
  g->sys = -1;
  g->ctxt = -1;
  g->myrow = g->mycol = -1;
  int size, me, np, nprow, npcol;
  MPI_Comm_size(comm, &size);
  grid_shape(size, &nprow, &npcol);
  Cblacs_pinfo(&me, &np);   /* initializes BLACS if nobody did */
  g->sys = Csys2blacs_handle(comm);
  g->ctxt = g->sys;
  Cblacs_gridinit(&g->ctxt, "Row", nprow, npcol); /* collective over comm */
  g->nprow = nprow;
  g->npcol = npcol;
  if (g->ctxt >= 0) {
    int r, c;
    Cblacs_gridinfo(g->ctxt, &r, &c, &g->myrow, &g->mycol);
  } else {
    g->myrow = g->mycol = -1;
  }
  g->nb = grid_block(d, nprow, npcol);
  const size_t in_grid = g->myrow >= 0;
  if (in_grid) {
    int zero = 0;
    g->locr = numroc_(&d, &g->nb, &g->myrow, &zero, &g->nprow);
    g->locc = numroc_(&d, &g->nb, &g->mycol, &zero, &g->npcol);
  }
  g->pack_len = (size_t)n_inv * er_mcr2_packlen(d) + (size_t)nmat + 1;
  const size_t locr = (size_t)g->locr, locc = (size_t)g->locc, pack_len = g->pack_len;
  GRID_BUFFERS(ER_BUF_ALLOC)
cleanup:
  return err;
}

void er_mcr2_grid_destroy(er_mcr2_grid *g) {
  if (!g) return;
  if (g->ctxt >= 0) Cblacs_gridexit(g->ctxt);
  if (g->sys >= 0) Cfree_blacs_system_handle(g->sys);
  GRID_BUFFERS(ER_BUF_FREE)
  memset(g, 0, sizeof *g);
  g->sys = g->ctxt = g->myrow = g->mycol = -1;
}

/* Global index of local index l in a block-cyclic dimension (source process 0). */
static inline int glob_index(int l, int nb, int me, int np) {
  return ((l / nb) * np + me) * nb + l % nb;
}

//---------------------------------------------------------------------------------------------
// ScaLAPACK solve
//---------------------------------------------------------------------------------------------

/* Every rank already holds the full matrices (they come out of an Allreduce), so the grid ranks
 * copy their block-cyclic pieces without communication. After pdpotri, each grid rank writes its
 * pieces of the upper triangle into a zeroed packed buffer and one MPI_Allreduce (sum) returns
 * all inverses and the log-determinants to every rank, including ranks outside the grid. */
er_err er_mcr2_solve_scalapack(er_mcr2_grid *g, MPI_Comm comm, int d, int nmat, int n_inv,
                               double *mats, double *logdet, double *comm_s) {
  er_err err = ER_OK;
  size_t dd = (size_t)d * d, plen = er_mcr2_packlen(d);
  double *buf = g->pack, *bld = g->pack + (size_t)n_inv * plen, *bfail = bld + nmat;
  int first_fail = -1;
  memset(buf, 0, g->pack_len * sizeof *buf);

  if (g->myrow >= 0) {
    int desc[9], info = 0, one = 1, zero = 0, lld = g->locr > 0 ? g->locr : 1;
    descinit_(desc, &d, &d, &g->nb, &g->nb, &zero, &zero, &g->ctxt, &lld, &info);
    if (info != 0) *bfail += 1.0; /* cannot happen with our lld; never skip the Allreduce */
    for (int k = 0; k < nmat && info == 0; k++) {
      const double *a = mats + (size_t)k * dd;
      for (int lj = 0; lj < g->locc; lj++) {
        int gj = glob_index(lj, g->nb, g->mycol, g->npcol);
        for (int li = 0; li < g->locr; li++) {
          int gi = glob_index(li, g->nb, g->myrow, g->nprow);
          g->loc[li + (size_t)lj * lld] =
              gi <= gj ? a[(size_t)gi * d + gj] : a[(size_t)gj * d + gi];
        }
      }
      /* info of pdpotrf/pdpotri is broadcast over the grid by ScaLAPACK, so every grid rank
       * takes the same branch below. */
      pdpotrf_("U", &d, g->loc, &one, &one, desc, &info, 1);
      if (info != 0) {
        if (first_fail < 0) first_fail = k;
        if (g->myrow == 0 && g->mycol == 0) *bfail += 1.0;
        continue;
      }
      double s = 0.0;
      for (int lj = 0; lj < g->locc; lj++) {
        int gj = glob_index(lj, g->nb, g->mycol, g->npcol);
        for (int li = 0; li < g->locr; li++)
          if (glob_index(li, g->nb, g->myrow, g->nprow) == gj)
            s += log(g->loc[li + (size_t)lj * lld]);
      }
      bld[k] = 2.0 * s;
      if (k >= n_inv) continue;
      pdpotri_("U", &d, g->loc, &one, &one, desc, &info, 1);
      if (info != 0) {
        if (first_fail < 0) first_fail = k;
        if (g->myrow == 0 && g->mycol == 0) *bfail += 1.0;
        continue;
      }
      double *pk = buf + (size_t)k * plen;
      for (int lj = 0; lj < g->locc; lj++) {
        int gj = glob_index(lj, g->nb, g->mycol, g->npcol);
        for (int li = 0; li < g->locr; li++) {
          int gi = glob_index(li, g->nb, g->myrow, g->nprow);
          if (gi <= gj) pk[er_mcr2_packidx(d, gi, gj)] = g->loc[li + (size_t)lj * lld];
        }
      }
    }
  }

  double t0 = MPI_Wtime();
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, buf, (int)g->pack_len, MPI_DOUBLE, MPI_SUM, comm));
  *comm_s += MPI_Wtime() - t0;

  /* after the Allreduce *bfail is the same on every rank: a collective verdict */
  if (*bfail > 0.0) {
    err = ER_ERROR(ER_ERR_NUM,
                   "ScaLAPACK Cholesky/inverse failed for %d coding-rate matrix(es) (first: %d, "
                   "d=%d): matrix not positive definite (non-finite or huge Z?)",
                   (int)*bfail, first_fail, d);
    goto cleanup;
  }
  for (int k = 0; k < nmat; k++) logdet[k] = bld[k];
  for (int k = 0; k < n_inv; k++) {
    double *a = mats + (size_t)k * dd;
    const double *pk = buf + (size_t)k * plen;
    for (int i = 0; i < d; i++)
      for (int j = i; j < d; j++) a[(size_t)i * d + j] = pk[er_mcr2_packidx(d, i, j)];
  }
cleanup:
  return err;
}
