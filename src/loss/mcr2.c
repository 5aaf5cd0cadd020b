/* mcr2.c: distributed coding-rate-reduction loss (ERASE.md section 5), the part that does not
 * depend on the precision of Z: the handle, the class sort, the Allreduce of the per-class Grams,
 * the Cholesky logdets/inverses, the loss and B_j = gamma1 d/(m eps) (M_j - gamma2 M0) for the
 * backward. The Gram and product loops over Z are in mcr2_template.h. It does not own Z, L or
 * dZ and keeps no autograd state beyond the inverses of the last forward. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcr2_private.h"

/* AUTO picks ScaLAPACK from this d on (and only with >= 2 ranks). Measured by
 * benchmarks/bench_loss_crossover.sh, see benchmarks/RESULTS.md ("MCR² solver crossover"): on the
 * 2-core development machine LAPACK won at every measured d (64..2048) and rank count
 * (1, 2, 4), so the switch sits beyond the largest measured d. Re-measure on a many-core node. */
const int er_mcr2_scalapack_min_d = 4096;

/* The handle's buffer table (erase/mem.h): (lvalue, elements, type, flags) over d x d matrices
 * (dd elements, packlen in a packed triangle), nmat of them, K classes; gather = 1 when the
 * LAPACK path on several (size) ranks gathers the packed inverses; perm grows to the rows of
 * the largest forward. */
#define MCR2_BUFFERS(X)                                                                      \
  X(h->mats, nmat * dd, double, 0)                                                           \
  X(h->Bf, K * dd, float, 0)                                                                 \
  X(h->logdet, nmat, double, 0)                                                              \
  X(h->red, K * packlen + K + 2, double, 0)                                                  \
  X(h->cnt, K, double, 0)                                                                    \
  X(h->gramf, dd, float, 0)                                                                  \
  X(h->chunkf, ER_MCR2_CHUNK * d, float, 0)                                                  \
  X(h->outf, ER_MCR2_CHUNK * d, float, 0)                                                    \
  X(h->chunkd, ER_MCR2_CHUNK * d, double, 0)                                                 \
  X(h->outd, ER_MCR2_CHUNK * d, double, 0)                                                   \
  X(h->start, K + 1, int64_t, 0)                                                             \
  X(h->pack, gather * nmat * (packlen + 2), double, ER_BUF_OPT)                              \
  X(h->counts, gather * 2 * size, int, ER_BUF_OPT)                                           \
  X(h->perm, rows, int64_t, ER_BUF_LAZY)

static int resolve_solver(int solver, int size, int d) {
  if (solver != ER_MCR2_AUTO) return solver;
  return size > 1 && d >= er_mcr2_scalapack_min_d ? ER_MCR2_SCALAPACK : ER_MCR2_LAPACK;
}

double er_mcr2_bytes(const er_mem_counts *c, int64_t rows) {
  const int64_t d = c->embed, K = c->K, size = c->P, dd = d * d;
  const int64_t nmat = K + 1 + (c->gamma1 != 1.0), packlen = (int64_t)er_mcr2_packlen((int)d);
  const int solver = resolve_solver(c->solver, (int)size, (int)d);
  const int64_t gather = solver == ER_MCR2_LAPACK && size > 1;
  double bytes = 0 MCR2_BUFFERS(ER_BUF_BYTES);
  if (solver == ER_MCR2_SCALAPACK) bytes += er_mcr2_grid_bytes((int)size, (int)d, (int)nmat,
                                                               (int)(K + 1));
  return bytes;
}

er_err er_mcr2_create(MPI_Comm comm, int d, int K, double gamma1, double gamma2, double eps,
                      int solver, er_mcr2 **out) {
  er_err err = ER_OK;
  er_mcr2 *h = NULL;
  int size;
  *out = NULL;
  ER_CHECK(d >= 1 && K >= 1, ER_ERR_INPUT, "mcr2: need d >= 1 and K >= 1 (got d=%d, K=%d)", d,
           K);
  ER_CHECK(eps > 0.0 && isfinite(eps) && isfinite(gamma1) && isfinite(gamma2) && gamma1 > 0.0,
           ER_ERR_INPUT, "mcr2: need eps > 0 and gamma1 > 0 (got eps=%g, gamma1=%g, gamma2=%g)",
           eps, gamma1, gamma2);
  ER_CHECK(solver == ER_MCR2_AUTO || solver == ER_MCR2_LAPACK || solver == ER_MCR2_SCALAPACK,
           ER_ERR_INPUT, "mcr2: unknown solver %d", solver);
  MPI_Comm_size(comm, &size);
  ER_CALLOC(h, 1);
  h->comm = comm;
  h->d = d;
  h->K = K;
  h->gamma1 = gamma1;
  h->gamma2 = gamma2;
  h->eps = eps;
  h->n_fwd = -1;
  h->solver = solver = resolve_solver(solver, size, d);
  h->nmat = K + 1 + (gamma1 != 1.0);
  const size_t nmat = (size_t)h->nmat, dd = (size_t)d * d, packlen = er_mcr2_packlen(d);
  const size_t gather = h->solver == ER_MCR2_LAPACK && size > 1, rows = 0;
  ER_CHECK(!gather || nmat * (packlen + 2) <= INT_MAX, ER_ERR_INPUT,
           "mcr2: d=%d with %d classes is too large for the LAPACK path on several ranks "
           "(use the ScaLAPACK solver)", d, K);
  MCR2_BUFFERS(ER_BUF_ALLOC)
cleanup:
  /* agree before the grid (itself collective) so that no rank enters gridinit alone */
  err = er_agree(comm, err);
  if (err == ER_OK && h->solver == ER_MCR2_SCALAPACK) {
    err = er_mcr2_grid_create(comm, d, h->nmat, K + 1, &h->grid);
    h->have_grid = 1;
    err = er_agree(comm, err);
  }
  if (err != ER_OK) {
    er_mcr2_destroy(&h);
    return err;
  }
  *out = h;
  return ER_OK;
}

void er_mcr2_destroy(er_mcr2 **hp) {
  if (!hp || !*hp) return;
  er_mcr2 *h = *hp;
  if (h->have_grid) er_mcr2_grid_destroy(&h->grid);
  MCR2_BUFFERS(ER_BUF_FREE)
  free(h);
  *hp = NULL;
}

//---------------------------------------------------------------------------------------------
// helpers
//---------------------------------------------------------------------------------------------

/* Counting sort of the local rows by class into h->perm / h->start. Local check of the labels:
 * returns ER_ERR_INPUT (message set) on a label outside [0, K), leaving perm unusable. */
static er_err sort_by_class(er_mcr2 *h, const int32_t *L, int64_t n) {
  er_err err = ER_OK;
  int K = h->K, rank;
  MPI_Comm_rank(h->comm, &rank);
  if (n > h->cap) {
    int64_t *p = er_buf_grow(h->perm, (size_t)n * sizeof *p);
    ER_CHECK(p, ER_ERR_MEM, "out of memory sorting %lld rows by class", (long long)n);
    h->perm = p;
    h->cap = n;
  }
  memset(h->start, 0, (size_t)(K + 1) * sizeof *h->start);
  for (int64_t i = 0; i < n; i++) {
    ER_CHECK(L[i] >= 0 && L[i] < K, ER_ERR_INPUT,
             "mcr2: label %d of local row %lld on rank %d is outside [0, %d)", (int)L[i],
             (long long)i, rank, K);
    h->start[L[i] + 1]++;
  }
  for (int j = 0; j < K; j++) h->start[j + 1] += h->start[j];
  /* use start[j] as the fill cursor, then shift back */
  for (int64_t i = 0; i < n; i++) h->perm[h->start[L[i]]++] = i;
  for (int j = K; j > 0; j--) h->start[j] = h->start[j - 1];
  h->start[0] = 0;
cleanup:
  return err;
}

//---------------------------------------------------------------------------------------------
// forward: around the per-class Grams of mcr2_template.h
//---------------------------------------------------------------------------------------------

er_err er_mcr2_forward_prepare(er_mcr2 *h, int have_Z, const int32_t *L, int64_t n,
                               er_mcr2_result *res) {
  h->n_fwd = -1;
  memset(res, 0, sizeof *res);
  er_err local = (n < 0 || (n > 0 && (!have_Z || !L)))
                     ? ER_ERROR(ER_ERR_INPUT, "mcr2: bad local input (n_local=%lld)", (long long)n)
                     : sort_by_class(h, L, n);
  /* a bad input is remembered; its rank contributes empty classes */
  if (local != ER_OK) memset(h->start, 0, (size_t)(h->K + 1) * sizeof *h->start);
  return local;
}

er_err er_mcr2_forward_finish(er_mcr2 *h, er_err local, int64_t n, double t_start,
                              er_mcr2_result *res) {
  er_err err = ER_OK;
  int d = h->d, K = h->K;
  size_t dd = (size_t)d * d, plen = er_mcr2_packlen(d);
  double comm_s = 0.0;
  double *red = h->red, *rcnt = red + (size_t)K * plen, *rflag = rcnt + K;
  int bad_input = local != ER_OK;

  //---- local: pack the per-class Grams (zeros after a bad input) and counts, check them ----
  for (int j = 0; j < K; j++) {
    const double *G = h->mats + (size_t)(1 + j) * dd;
    double *pk = red + (size_t)j * plen;
    for (int i = 0; i < d; pk += d - i, i++)
      if (bad_input)
        memset(pk, 0, (size_t)(d - i) * sizeof *pk);
      else
        memcpy(pk, G + (size_t)i * d + i, (size_t)(d - i) * sizeof *pk);
    rcnt[j] = (double)(h->start[j + 1] - h->start[j]);
  }
  int nonfinite = 0;
  if (!bad_input)
    for (size_t q = 0; q < (size_t)K * plen; q++)
      if (!isfinite(red[q])) {
        int rank;
        MPI_Comm_rank(h->comm, &rank);
        nonfinite = 1;
        local = ER_ERROR(ER_ERR_NUM,
                         "mcr2: non-finite entries (NaN/Inf) in the rows of Z on rank %d", rank);
        break;
      }
  rflag[0] = bad_input;
  rflag[1] = nonfinite;

  //---- one Allreduce: K packed Grams, K counts, 2 flags ----
  double t0 = MPI_Wtime();
  int mrc = MPI_Allreduce(MPI_IN_PLACE, red, (int)((size_t)K * plen + K + 2), MPI_DOUBLE, MPI_SUM,
                          h->comm);
  if (mrc == MPI_SUCCESS && er_fault(ER_FAULT_MPI)) mrc = MPI_ERR_OTHER;
  /* a failure of this reduction is this rank's alone and its flags cannot carry it: agreed
   * before any rank goes on to the solve's collectives */
  ER_CALL(er_agree(h->comm, mrc == MPI_SUCCESS ? ER_OK
                                               : er_mpi_error(mrc, "MPI_Allreduce of the Grams",
                                                              __FILE__, __LINE__)));
  comm_s += MPI_Wtime() - t0;
  /* flags are exact sums of 0/1: the same on every rank, so branching on them is collective */
  if (rflag[0] > 0 || rflag[1] > 0) {
    err = er_agree(h->comm, local);
    if (err == ER_OK) err = ER_ERROR(ER_ERR_INTERNAL, "mcr2: inconsistent error flags");
    goto cleanup;
  }
  double m = 0.0;
  for (int j = 0; j < K; j++) m += rcnt[j];
  if (m <= 0.0) {
    err = ER_ERROR(ER_ERR_INPUT, "mcr2: no rows at all (N = 0)");
    goto cleanup; /* same verdict everywhere: m is an exact sum */
  }

  //---- build I + c G matrices (upper triangles; row i holds columns i..d-1) ----
  double c0 = d / (m * h->eps);
  double *A0 = h->mats;
  for (int i = 0; i < d; i++) memset(A0 + (size_t)i * d + i, 0, (size_t)(d - i) * sizeof *A0);
  for (int j = 0; j < K; j++) {
    double *G = h->mats + (size_t)(1 + j) * dd;
    const double *pk = red + (size_t)j * plen;
    h->cnt[j] = rcnt[j] + 1e-8;
    double cj = d / (h->cnt[j] * h->eps);
    for (int i = 0; i < d; i++) {
      double *g = G + (size_t)i * d, *a = A0 + (size_t)i * d;
      for (int c = i; c < d; c++, pk++) {
        a[c] += *pk; /* total Gram = sum of class Grams */
        g[c] = cj * *pk;
      }
      g[i] += 1.0;
    }
  }
  double *Ath = h->nmat > K + 1 ? h->mats + (size_t)(K + 1) * dd : NULL;
  for (int i = 0; i < d; i++) {
    double *a = A0 + (size_t)i * d;
    if (Ath) {
      double *t = Ath + (size_t)i * d;
      for (int c = i; c < d; c++) t[c] = c0 * a[c];
      t[i] += 1.0;
    }
    for (int c = i; c < d; c++) a[c] *= h->gamma1 * c0;
    a[i] += 1.0;
  }

  //---- logdets and inverses ----
  double t_solve = MPI_Wtime();
  if (h->solver == ER_MCR2_SCALAPACK) {
    local = er_mcr2_solve_scalapack(&h->grid, h->comm, d, h->nmat, K + 1, h->mats, h->logdet,
                                    &comm_s);
  } else {
    local = er_mcr2_solve_lapack(h->comm, d, h->nmat, K + 1, h->mats, h->logdet, h->pack,
                                 h->counts, &comm_s);
  }
  if (local == ER_OK)
    for (int k = 0; k < h->nmat; k++)
      if (!isfinite(h->logdet[k]))
        local = ER_ERROR(ER_ERR_NUM, "mcr2: log-determinant %d is not finite (d=%d)", k, d);
  ER_CALL(er_agree(h->comm, local));
  res->solve_s = MPI_Wtime() - t_solve;

  //---- scalars (rank 0's values broadcast, so they are bitwise identical everywhere) ----
  double sc[4];
  sc[0] = 0.5 * h->logdet[0];
  sc[1] = 0.0;
  for (int j = 0; j < K; j++) sc[1] += h->cnt[j] / (2.0 * m) * h->logdet[1 + j];
  sc[2] = h->nmat > K + 1 ? 0.5 * h->logdet[K + 1] : sc[0];
  sc[3] = -h->gamma2 * sc[0] + h->gamma1 * sc[1];
  t0 = MPI_Wtime();
  ER_CALL_MPI(MPI_Bcast(sc, 4, MPI_DOUBLE, 0, h->comm));
  comm_s += MPI_Wtime() - t0;
  res->R = sc[0];
  res->Rc = sc[1];
  res->R_th = sc[2];
  res->loss = sc[3];
  res->delta_R = res->R_th - res->Rc;
  res->N = m;
  res->solver = h->solver;

  //---- keep B_j = gamma1 d/(m eps) (M_j - gamma2 M0) for the backward ----
  double cb = h->gamma1 * c0;
  const double *M0 = h->mats;
  for (int j = 0; j < K; j++) {
    double *B = h->mats + (size_t)(1 + j) * dd;
    float *Bf = h->Bf + (size_t)j * dd;
    for (int i = 0; i < d; i++)
      for (size_t q = (size_t)i * d + i; q < (size_t)(i + 1) * d; q++) {
        B[q] = cb * (B[q] - h->gamma2 * M0[q]);
        Bf[q] = (float)B[q];
      }
  }
  h->n_fwd = n;
  res->comm_s = comm_s;
  res->compute_s = MPI_Wtime() - t_start - comm_s;
cleanup:
  return err;
}

//---------------------------------------------------------------------------------------------
// backward: before the per-class products of mcr2_template.h
//---------------------------------------------------------------------------------------------

er_err er_mcr2_backward_prepare(er_mcr2 *h, const int32_t *L, int64_t n) {
  er_err err = ER_OK;
  ER_CHECK(h->n_fwd >= 0, ER_ERR_INTERNAL, "mcr2: backward without a successful forward");
  ER_CHECK(n == h->n_fwd, ER_ERR_INTERNAL, "mcr2: backward n_local=%lld but forward had %lld",
           (long long)n, (long long)h->n_fwd);
  ER_CALL(sort_by_class(h, L, n));
cleanup:
  return err;
}
