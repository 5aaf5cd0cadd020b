/* mcr2_template.h: the precision-dependent loops of the coding-rate loss, written once for REAL:
 * the per-class Grams of this rank's rows (forward) and dZ_i = Z_i B_j per class (backward), over
 * rows gathered by class in chunks of ER_MCR2_CHUNK. The reduction, the solves and the loss are
 * shared (mcr2.c). Included by mcr2_f.c and mcr2_d.c, which define REAL, ER_SYMM, NAME_T for the
 * public functions below, and the helpers chunk_rows, chunk_out, chunk_gram_add, class_matrix. */
#ifndef REAL
#error "mcr2_template.h is included by mcr2_f.c / mcr2_d.c only"
#endif
/* An unmapped NAME_T would be defined under that name, without the prototype from loss.h. */
#pragma GCC diagnostic error "-Wmissing-prototypes"

/* rows (n, d) = the rows perm[0..n) of Z (row-major, d wide) */
static void gather_rows(REAL *rows, const REAL *Z, const int64_t *perm, int n, int d) {
  for (int r = 0; r < n; r++)
    memcpy(rows + (size_t)r * d, Z + (size_t)perm[r] * d, (size_t)d * sizeof(REAL));
}

/* Per-class partial Grams (upper triangles) into mats[1+j]; zeroed first. */
static void class_grams(er_mcr2 *h, const REAL *Z) {
  int d = h->d;
  size_t dd = (size_t)d * d;
  REAL *chunk = chunk_rows(h);
  for (int j = 0; j < h->K; j++) {
    double *G = h->mats + (size_t)(1 + j) * dd;
    memset(G, 0, dd * sizeof *G);
    for (int64_t s = h->start[j]; s < h->start[j + 1]; s += ER_MCR2_CHUNK) {
      int rows = er_mcr2_chunk_rows(h, j, s);
      gather_rows(chunk, Z, h->perm + s, rows, d);
      chunk_gram_add(h, chunk, rows, G);
    }
  }
}

er_err er_mcr2_forward_T(er_mcr2 *h, const REAL *Z, const int32_t *L, int64_t n_local,
                         er_mcr2_result *res) {
  double t_start = MPI_Wtime();
  er_err local = er_mcr2_forward_prepare(h, Z != NULL, L, n_local, res);
  if (local == ER_OK) class_grams(h, Z);
  return er_mcr2_forward_finish(h, local, n_local, t_start, res);
}

/* per class j: gather its rows, one symmetric product with B_j, scatter into dZ */
er_err er_mcr2_backward_T(er_mcr2 *h, REAL *dZ, const REAL *Z, const int32_t *L,
                          int64_t n_local) {
  er_err err = ER_OK;
  int d = h->d;
  REAL *chunk = chunk_rows(h), *out = chunk_out(h);
  ER_CALL(er_mcr2_backward_prepare(h, L, n_local));
  for (int j = 0; j < h->K; j++) {
    const REAL *B = class_matrix(h, j);
    for (int64_t s = h->start[j]; s < h->start[j + 1]; s += ER_MCR2_CHUNK) {
      int rows = er_mcr2_chunk_rows(h, j, s);
      gather_rows(chunk, Z, h->perm + s, rows, d);
      ER_SYMM(CblasRowMajor, CblasRight, CblasUpper, rows, d, (REAL)1, B, d, chunk, d, (REAL)0,
              out, d);
      for (int r = 0; r < rows; r++)
        memcpy(dZ + (size_t)h->perm[s + r] * d, out + (size_t)r * d, (size_t)d * sizeof(REAL));
    }
  }
cleanup:
  return err;
}
