/* mcr2_d.c: the double coding-rate loss (gradient checks): er_mcr2_forward_d and
 * er_mcr2_backward_d, by instantiating mcr2_template.h for double. Grams accumulate directly in
 * double (dsyrk with beta 1); the backward multiplies by the double B_j kept in mats. */
#include <cblas.h>
#include <string.h>

#include "mcr2_private.h"

#define REAL double
#define ER_SYMM cblas_dsymm

/* The template defines NAME_T; each NAME_T is the double name declared in loss.h. */
#define er_mcr2_forward_T  er_mcr2_forward_d
#define er_mcr2_backward_T er_mcr2_backward_d

static double *chunk_rows(er_mcr2 *h) { return h->chunkd; }
static double *chunk_out(er_mcr2 *h) { return h->outd; }

/* G (double, upper triangle) += chunk^T chunk */
static void chunk_gram_add(er_mcr2 *h, const double *chunk, int rows, double *G) {
  int d = h->d;
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, rows, 1.0, chunk, d, 1.0, G, d);
}

static const double *class_matrix(const er_mcr2 *h, int j) {
  return h->mats + (size_t)(1 + j) * h->d * h->d;
}

#include "mcr2_template.h"
