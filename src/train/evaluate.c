/* evaluate.c: the linear probe of ERASE.md section 7 inside training: fit on the L2-normalized
 * training rows of Z with the semantic labels (each rank holds its own rows; the fit sums their
 * loss and gradient over the ranks), predict by chunks, accuracy against the clean labels.
 * Buffers are made once. The probe itself is src/eval. */
#include <stdlib.h>

#include "erase/nn.h"
#include "erase/probe.h"
#include "train_private.h"

/* The probe's buffer tables (erase/mem.h): (lvalue, elements, type, flags) over n_own rows,
 * n_train training rows of this rank, d embedding columns, K classes; the flags of the rows the
 * encoder's evaluation forward needs, while it plans them. */
#define EVAL_BUFFERS(X)                                                                      \
  X(ev->chunk, ER_EVAL_CHUNK * d, float, 0)                                                  \
  X(ev->X_train, n_train * d, float, ER_BUF_OPT)                                             \
  X(ev->y_train, n_own, int32_t, 0)                                                          \
  X(ev->W, K * (d + 1), double, 0)                                                           \
  X(ev->pred, n_own, int32_t, 0)                                                             \
  X(ev->rows, n_own, er_lidx, 0)
#define EVAL_PLAN(X) X(want, n_own, uint8_t, 0)

double er_eval_bytes(const er_mem_counts *c, int planning) {
  const double n_own = (double)c->n, n_train = (double)c->t, d = (double)c->embed;
  const double K = (double)c->K;
  return (0 EVAL_BUFFERS(ER_BUF_BYTES)) + (planning ? 0 EVAL_PLAN(ER_BUF_BYTES) : 0);
}

/* What an evaluation holds beyond the buffers: the probe's fit, then its predictions, a chunk
 * of the rows it predicts at a time (every owned row, or the labelled ones, c->sub[0], when the
 * encoder computes Z only around them). */
double er_eval_run_bytes(const er_mem_counts *c, int all_rows) {
  double fit = er_probe_fit_bytes(c->t, (int)c->embed, (int)c->K);
  int64_t rows = all_rows || c->sub[0] == 0 ? c->n : c->sub[0];
  if (rows > ER_EVAL_CHUNK) rows = ER_EVAL_CHUNK;
  double predict = er_probe_predict_bytes(rows, (int)c->embed, (int)c->K);
  return fit > predict ? fit : predict;
}

er_err er_eval_create(const er_dgraph *g, er_encoder_f *enc, int K, int d, er_eval *ev) {
  er_err err = ER_OK;
  uint8_t *want = NULL;
  const int64_t n_own = g->n_own;
  ev->d = d, ev->K = K;
  int64_t n_train = 0;
  for (int64_t i = 0; i < n_own; ++i) n_train += (g->split[i] & ER_SPLIT_TRAIN) != 0;
  ev->n_train = n_train;
  /* per-epoch evaluation needs Z only at labelled rows (train/val/test): the encoder computes
   * just their two-hop neighbourhood when that is at most half of the graph */
  EVAL_BUFFERS(ER_BUF_ALLOC)
  EVAL_PLAN(ER_BUF_ALLOC)
  for (int64_t i = 0; i < n_own; ++i)
    if ((want[i] = (g->split[i] & (ER_SPLIT_TRAIN | ER_SPLIT_VAL | ER_SPLIT_TEST)) != 0))
      ev->rows[ev->n_rows++] = (er_lidx)i;
cleanup:
  err = ER_FINISH(g->comm);
  if (err == ER_OK) err = er_encoder_eval_rows_f(enc, want, 0.5, &ev->rows_only);
  EVAL_PLAN(ER_BUF_FREE)
  return err;
}

void er_eval_free(er_eval *ev) { EVAL_BUFFERS(ER_BUF_FREE) }

/* This rank's normalized training rows and their labels, in local order; returns their
 * number. Local. */
static er_err own_training_rows(er_eval *ev, const er_dgraph *g, const float *Z,
                                const int32_t *L, int64_t *n_out) {
  er_err err = ER_OK;
  const int d = ev->d;
  int64_t n = 0;
  for (er_lidx i = 0; i < g->n_own; ++i)
    if (g->split[i] & ER_SPLIT_TRAIN) {
      ER_CHECK(n < ev->n_train, ER_ERR_INTERNAL, "probe buffer too small");
      ER_CALL(er_rows_l2_normalize(ev->X_train + n * d, Z + (size_t)i * d, 1, d));
      ev->y_train[n++] = L[i];
    }
  *n_out = n;
cleanup:
  return err;
}

er_err er_eval_run(er_eval *ev, const er_dgraph *g, const float *Z, const int32_t *L,
                   const er_train_config *cfg, int all_rows, double acc[3], double label_acc[2]) {
  er_err err = ER_OK;
  int d = ev->d, K = ev->K;
  int64_t n_train = 0;
  er_probe_info info;
  err = own_training_rows(ev, g, Z, L, &n_train);
  ER_AGREE(g->comm); /* the evaluation forward's last kernels are local */
  ER_CALL(er_probe_fit(g->comm, ev->X_train, ev->y_train, n_train, d, K, cfg->probe_C,
                       (int)cfg->probe_iters, ev->W, &info));
  ev->evaluations = info.evaluations;
  /* predictions of every owned row, or of the listed ones, by chunks; a listed chunk's
   * predictions pass through y_train (free once the probe is fitted, n_own entries) */
  const er_lidx *rows = ev->rows_only && !all_rows ? ev->rows : NULL;
  int64_t n = rows ? ev->n_rows : g->n_own;
  for (int64_t r0 = 0; r0 < n; r0 += ER_EVAL_CHUNK) {
    int64_t nr = n - r0 < ER_EVAL_CHUNK ? n - r0 : ER_EVAL_CHUNK;
    if (!rows) {
      ER_CALL(er_rows_l2_normalize(ev->chunk, Z + (size_t)r0 * d, nr, d));
      ER_CALL(er_probe_predict(ev->W, ev->chunk, nr, d, K, ev->pred + r0));
      continue;
    }
    for (int64_t r = 0; r < nr; ++r)
      ER_CALL(er_rows_l2_normalize(ev->chunk + r * d, Z + (size_t)rows[r0 + r] * d, 1, d));
    ER_CALL(er_probe_predict(ev->W, ev->chunk, nr, d, K, ev->y_train));
    for (int64_t r = 0; r < nr; ++r) ev->pred[rows[r0 + r]] = ev->y_train[r];
  }
  /* labelled rows and correct answers: the probe per split (train, val, test), then L on the
   * training rows and on every labelled row */
  int64_t cnt[10] = {0};
  for (er_lidx i = 0; i < g->n_own; ++i) {
    if (g->labels[i] < 0) continue;
    for (int s = 0; s < 3; ++s)
      if (g->split[i] & (1 << s)) {
        cnt[2 * s]++;
        cnt[2 * s + 1] += ev->pred[i] == g->labels[i];
      }
    int train = (g->split[i] & ER_SPLIT_TRAIN) != 0, right = L[i] == g->labels[i];
    cnt[6] += train, cnt[7] += train && right;
    cnt[8]++, cnt[9] += right;
  }
  ER_AGREE(g->comm); /* the probe's fit and predictions are local */
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, cnt, 10, MPI_INT64_T, MPI_SUM, g->comm));
  for (int s = 0; s < 5; ++s) {
    double pct = cnt[2 * s] ? 100.0 * cnt[2 * s + 1] / cnt[2 * s] : 0.0;
    if (s < 3) acc[s] = pct;
    else if (label_acc) label_acc[s - 3] = pct;
  }
cleanup:
  return ER_FINISH(g->comm);
}
