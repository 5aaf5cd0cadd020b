/* mcr2_f.c: the float coding-rate loss (training): er_mcr2_forward_f and er_mcr2_backward_f, by
 * instantiating mcr2_template.h for float. Each chunk's Gram is formed in float (one ssyrk) and
 * added into the double accumulators; the backward multiplies by Bf, the float copy of B_j. */
#include <cblas.h>
#include <string.h>

#include "mcr2_private.h"

#define REAL float
#define ER_SYMM cblas_ssymm

/* The template defines NAME_T; each NAME_T is the _f name declared in loss.h. */
#define er_mcr2_forward_T  er_mcr2_forward_f
#define er_mcr2_backward_T er_mcr2_backward_f

static float *chunk_rows(er_mcr2 *h) { return h->chunkf; }
static float *chunk_out(er_mcr2 *h) { return h->outf; }

/* G (double, upper triangle) += chunk^T chunk, formed in float by one ssyrk: the float rounding
 * grows over at most ER_MCR2_CHUNK rows, and the product keeps BLAS-3 speed. */
static void chunk_gram_add(er_mcr2 *h, const float *chunk, int rows, double *G) {
  int d = h->d;
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, d, rows, 1.0f, chunk, d, 0.0f, h->gramf, d);
  for (int i = 0; i < d; i++)
    for (int c = i; c < d; c++) G[(size_t)i * d + c] += (double)h->gramf[(size_t)i * d + c];
}

static const float *class_matrix(const er_mcr2 *h, int j) {
  return h->Bf + (size_t)j * h->d * h->d;
}

#include "mcr2_template.h"
