/* evaluate.c: the linear probe of ERASE.md section 7 inside training: fit on the L2-normalized
 * training rows of Z (gathered on every rank) with the semantic labels, predict by chunks,
 * accuracy against the clean labels. Buffers are made once. The probe itself is src/eval. */
#include <stdlib.h>

#include "erase/nn.h"
#include "erase/probe.h"
#include "train_private.h"

er_err er_eval_create(const er_dgraph *g, er_encoder_f *enc, int K, int d, er_eval *ev) {
  er_err err = ER_OK;
  int size;
  uint8_t *want = NULL;
  MPI_Comm_size(g->comm, &size);
  size_t n_own = (size_t)g->n_own;
  ev->d = d, ev->K = K;
  int64_t n_train = 0;
  for (size_t i = 0; i < n_own; ++i) n_train += (g->split[i] & ER_SPLIT_TRAIN) != 0;
  ev->n_train_all = n_train;
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, &ev->n_train_all, 1, MPI_INT64_T, MPI_SUM, g->comm));
  ER_AGREE(g->comm);
  ER_MALLOC(ev->chunk, (size_t)ER_EVAL_CHUNK * d);
  ER_MALLOC(ev->X_train, ev->n_train_all * d);
  ER_MALLOC(ev->y_train, ev->n_train_all > (int64_t)n_own ? ev->n_train_all : (int64_t)n_own);
  ER_MALLOC(ev->W, (size_t)K * (d + 1));
  ER_MALLOC(ev->counts, size);
  ER_MALLOC(ev->displs, size);
  ER_MALLOC(ev->pred, n_own);
  /* per-epoch evaluation needs Z only at labelled rows (train/val/test): the encoder computes
   * just their two-hop neighbourhood when that is at most half of the graph */
  ER_MALLOC(want, n_own);
  ER_MALLOC(ev->rows, n_own);
  for (size_t i = 0; i < n_own; ++i)
    if ((want[i] = (g->split[i] & (ER_SPLIT_TRAIN | ER_SPLIT_VAL | ER_SPLIT_TEST)) != 0))
      ev->rows[ev->n_rows++] = (er_lidx)i;
cleanup:
  err = ER_FINISH(g->comm);
  if (err == ER_OK) err = er_encoder_eval_rows_f(enc, want, 0.5, &ev->rows_only);
  free(want);
  return err;
}

void er_eval_free(er_eval *ev) {
  free(ev->chunk), free(ev->X_train), free(ev->y_train), free(ev->W);
  free(ev->counts), free(ev->displs), free(ev->rows), free(ev->pred);
}

/* Every rank's normalized training rows and labels, in rank order, on every rank: the probe's
 * training set is small (labelled nodes), so every rank fits the same rows in the same order
 * and gets the same W without one collective per L-BFGS evaluation. Returns their number. */
static er_err gather_training_rows(er_eval *ev, const er_dgraph *g, const float *Z,
                                   const int32_t *L, int64_t *n_out) {
  er_err err = ER_OK;
  int rank, size, d = ev->d;
  MPI_Comm_rank(g->comm, &rank);
  MPI_Comm_size(g->comm, &size);
  int64_t n_train = 0, off = 0;
  for (er_lidx i = 0; i < g->n_own; ++i) n_train += (g->split[i] & ER_SPLIT_TRAIN) != 0;
  ER_AGREE(g->comm); /* the evaluation forward's last kernels are local */
  ER_CALL_MPI(MPI_Exscan(&n_train, &off, 1, MPI_INT64_T, MPI_SUM, g->comm));
  if (rank == 0) off = 0;
  n_train = 0;
  for (er_lidx i = 0; i < g->n_own; ++i)
    if (g->split[i] & ER_SPLIT_TRAIN) {
      ER_CALL(er_rows_l2_normalize(ev->X_train + (off + n_train) * d, Z + (size_t)i * d, 1, d));
      ev->y_train[off + n_train++] = L[i];
    }
  if (size > 1) {
    int mine = (int)n_train, total = 0;
    ER_AGREE(g->comm);
    ER_CALL_MPI(MPI_Allgather(&mine, 1, MPI_INT, ev->counts, 1, MPI_INT, g->comm));
    for (int r = 0; r < size; ++r) ev->displs[r] = total, total += ev->counts[r];
    ER_CHECK(total <= ev->n_train_all, ER_ERR_INTERNAL, "probe buffer too small");
    ER_AGREE(g->comm);
    ER_CALL_MPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ev->y_train, ev->counts,
                               ev->displs, MPI_INT32_T, g->comm));
    for (int r = 0; r < size; ++r) ev->counts[r] *= d, ev->displs[r] *= d;
    ER_AGREE(g->comm);
    ER_CALL_MPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ev->X_train, ev->counts,
                               ev->displs, MPI_FLOAT, g->comm));
    n_train = total;
  }
  *n_out = n_train;
cleanup:
  return ER_FINISH(g->comm);
}

er_err er_eval_run(er_eval *ev, const er_dgraph *g, const float *Z, const int32_t *L,
                   const er_train_config *cfg, int all_rows, double acc[3], double label_acc[2]) {
  er_err err = ER_OK;
  int d = ev->d, K = ev->K;
  int64_t n_train = 0;
  er_probe_info info;
  ER_CALL(gather_training_rows(ev, g, Z, L, &n_train));
  ER_CALL(er_probe_fit(MPI_COMM_SELF, ev->X_train, ev->y_train, n_train, d, K, cfg->probe_C,
                       (int)cfg->probe_iters, ev->W, &info));
  /* predictions of every owned row, or of the listed ones, by chunks; a listed chunk's
   * predictions pass through y_train (free once the probe is fitted, >= n_own entries) */
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
