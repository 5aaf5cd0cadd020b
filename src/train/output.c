/* output.c: the files a training run writes besides checkpoints: RUN.h5 of `--out` (embeddings
 * and labels of the best model in the dataset's node order, metrics, provenance; layout in
 * docs/FORMAT.md) and the first step of `--dump-step` for the PyTorch twin. Both are written
 * under a temporary name and renamed when complete. */
#include <stdlib.h>
#include <string.h>

#include "erase/h5.h"
#include "erase/nn.h"
#include "erase/progress.h"
#include "train_private.h"

#ifndef ERASE_GIT_REV
#define ERASE_GIT_REV "unknown"
#endif

static er_err put_block(hid_t fid, const er_dgraph *g, const char *name, hid_t ft, hid_t mt,
                        MPI_Datatype t, const void *rows, int ncols, void *blk, int64_t lo,
                        int64_t n) {
  er_err err = ER_OK;
  ER_CALL(er_dgraph_rows_to_block(g, rows, ncols, t, blk));
  ER_CALL(er_h5_write_rows(fid, name, ft, mt, g->n_global, ncols > 1 ? ncols : 0, lo, n, blk));
cleanup:
  return err;
}

/* The node-indexed arrays of RUN.h5 (docs/FORMAT.md), in the owned-row order. */
typedef struct {
  const float *Z;                     /* (n_own, d) embeddings of the best model */
  const int32_t *lab[6];              /* (n_own) each, in the order of label_names */
} node_outputs;
static const char *const label_names[6] = {"/labels/denoised",  "/labels/semantic",
                                           "/labels/predicted", "/labels/noisy",
                                           "/labels/clean",     "/labels/split"};

static er_err output_write(const er_trainer *t, const node_outputs *nodes, double test_mean,
                           double test_std) {
  er_err err = ER_OK;
  MPI_Comm comm = t->comm;
  const er_train_config *cfg = t->cfg;
  const er_dgraph *g = t->g;
  const er_train_state *st = &t->st;
  const char *path = cfg->out;
  hid_t fid = -1;
  char *tmp = NULL, *conf = NULL;
  void *blk = NULL;
  double *col = NULL;
  int d = t->d;
  int64_t lo, hi;
  er_block_range(g->n_global, t->size, t->rank, &lo, &hi);
  ER_MALLOC(blk, (size_t)(hi - lo) * (size_t)d * sizeof(float) + 1);
  ER_AGREE(comm);
  ER_CALL(er_h5_room(comm, path, (double)g->n_global * (4.0 * d + 4.0 * 6) +
                                     8.0 * (st->hist_n * ER_HIST_COLS + 4 * cfg->runs)));
  ER_CALL(er_h5_create(comm, path, &fid, &tmp));
  er_fault_stall("out"); /* tests kill a rank here: mid-write */
  //---- node-indexed results ----
  ER_CALL(put_block(fid, g, "/embeddings", H5T_NATIVE_FLOAT, H5T_NATIVE_FLOAT, MPI_FLOAT,
                    nodes->Z, d, blk, lo, hi - lo));
  for (int k = 0; k < 6; ++k)
    ER_CALL(put_block(fid, g, label_names[k], H5T_NATIVE_INT32, H5T_NATIVE_INT32, MPI_INT32_T,
                      nodes->lab[k], 1, blk, lo, hi - lo));
  //---- metrics (replicated: rank 0 writes) ----
  int64_t n = st->hist_n, n0 = t->rank == 0 ? n : 0;
  hid_t I64 = H5T_NATIVE_INT64, F64 = H5T_NATIVE_DOUBLE;
  ER_MALLOC(col, n + cfg->runs + 1);
  for (int c = 0; c < ER_HIST_COLS; ++c) {
    char name[64];
    snprintf(name, sizeof name, "/metrics/epoch/%s", er_hist_names[c]);
    for (int64_t r = 0; r < n; ++r) col[r] = st->hist[r * ER_HIST_COLS + c];
    ER_CALL(er_h5_write_rows(fid, name, c < 2 ? I64 : F64, F64, n, 0, 0, n0, col));
  }
  int64_t runs = cfg->runs, r0 = t->rank == 0 ? runs : 0;
  for (int64_t r = 0; r < runs; ++r) col[r] = (double)r;
  ER_CALL(er_h5_write_rows(fid, "/metrics/runs/run", I64, F64, runs, 0, 0, r0, col));
  ER_CALL(er_h5_write_rows(fid, "/metrics/runs/best_epoch", I64, I64, runs, 0, 0, r0,
                           st->run_epoch));
  ER_CALL(er_h5_write_rows(fid, "/metrics/runs/val_acc", F64, F64, runs, 0, 0, r0, st->run_val));
  ER_CALL(er_h5_write_rows(fid, "/metrics/runs/test_acc", F64, F64, runs, 0, 0, r0, st->run_test));
  ER_CALL(er_h5_attr_set_f64(fid, "/metrics/runs", "test_mean", test_mean));
  ER_CALL(er_h5_attr_set_f64(fid, "/metrics/runs", "test_std", test_std));
  ER_CALL(er_h5_attr_set_f64(fid, "/labels", "noisy_train_acc", t->noisy_train_acc));
  ER_CALL(er_h5_attr_set_f64(fid, "/labels", "denoised_train_acc", t->denoised_train_acc));
  ER_CALL(er_h5_attr_set_f64(fid, "/labels", "denoised_train_coverage",
                             t->denoised_train_coverage));
  //---- provenance ----
  conf = er_train_config_string(cfg);
  ER_CHECK(conf, ER_ERR_MEM, "out of memory");
  char sum[32];
  snprintf(sum, sizeof sum, "%016llx", (unsigned long long)st->graph_sum);
  ER_CALL(er_h5_attr_set_str(fid, "/", "config", conf));
  ER_CALL(er_h5_attr_set_str(fid, "/", "version", ER_VERSION));
  ER_CALL(er_h5_attr_set_str(fid, "/", "git_revision", ERASE_GIT_REV));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "ranks", t->size));
  ER_CALL(er_h5_attr_set_str(fid, "/", "dataset", cfg->data));
  ER_CALL(er_h5_attr_set_str(fid, "/", "dataset_graph_checksum", sum));
  ER_CALL(er_h5_attr_set_str(fid, "/", "partition", g->partition));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "num_nodes", g->n_global));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "num_classes", t->K));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "best_run", st->out_run));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "best_epoch", st->out_epoch));
  ER_CALL(er_h5_attr_set_f64(fid, "/", "best_val_acc", st->out_val));
  ER_CALL(er_h5_commit(comm, fid, path, &tmp));
  fid = -1;
cleanup:
  err = ER_FINISH(comm);
  if (err && tmp) er_h5_abort(comm, fid, &tmp);
  free(blk);
  free(col);
  free(conf);
  return err;
}

er_err er_trainer_write_outputs(er_trainer *t, double test_mean, double test_std) {
  er_err err = ER_OK;
  const er_dgraph *g = t->g;
  const er_train_state *st = &t->st;
  const er_encoder_layout *lay = er_encoder_layout_f(t->enc);
  int32_t *den = NULL, *seen = NULL, *split = NULL;
  size_t n_own = (size_t)g->n_own;
  const float *Z;
  double acc[3];
  er_progress prog;
  er_progress_begin(&prog, t->comm, "train: writing --out", 0);
  er_encoder_release_backward_f(t->enc); /* before the output buffers are made */
  memcpy(er_encoder_params_f(t->enc), st->out_params, (size_t)lay->n_params * sizeof(float));
  ER_CALL(er_encoder_forward_f(t->enc, ER_FWD_EVAL, er_run_seed(t->cfg, st->out_run),
                               st->out_epoch, &Z));
  ER_CALL(er_eval_run(&t->ev, g, Z, st->out_L, t->cfg, 1, acc, NULL));
  den = malloc(n_own * sizeof(int32_t) + 1);
  seen = malloc(n_own * sizeof(int32_t) + 1);
  split = malloc(n_own * sizeof(int32_t) + 1);
  ER_CHECK(den && seen && split, ER_ERR_MEM, "out of memory");
  for (size_t i = 0; i < n_own; ++i) {
    const double *y = t->Y_den + i * t->K;
    int b = 0;
    for (int c = 1; c < t->K; ++c)
      if (y[c] > y[b]) b = c;
    den[i] = y[b] > 0 ? b : -1;
    seen[i] = (g->split[i] & ER_SPLIT_TRAIN) ? t->noisy[i] : -1;
    split[i] = g->split[i];
  }
cleanup:
  err = ER_FINISH(t->comm);
  if (err == ER_OK) {
    node_outputs nodes = {Z, {den, st->out_L, t->ev.pred, seen, g->labels, split}};
    err = output_write(t, &nodes, test_mean, test_std);
  }
  free(den);
  free(seen);
  free(split);
  er_progress_end(&prog);
  if (err == ER_OK)
    er_log(t->comm, "wrote %s (best run %lld epoch %lld: val %.2f%%, test %.2f%%)\n", t->cfg->out,
           (long long)st->out_run, (long long)st->out_epoch, acc[1], acc[2]);
  return err;
}

/* --dump-step: the first training step's inputs and results for the PyTorch twin
 * (benchmarks/torch_twin.py). One rank only: rows are written in local order = global order. */
er_err er_dump_step(er_trainer *t, const er_mcr2_result *mr) {
  er_err err = ER_OK;
  hid_t fid = -1;
  char *tmp = NULL;
  float *x_dropped = NULL;
  const char *path = t->cfg->dump_step;
  ER_CHECK(t->size == 1, ER_ERR_INPUT, "--dump-step needs a 1-rank run");
  const er_encoder_layout *lay = er_encoder_layout_f(t->enc);
  int64_t n = t->g->n_own, np = lay->n_params;
  hid_t F = H5T_NATIVE_FLOAT, I32 = H5T_NATIVE_INT32;
  ER_MALLOC(x_dropped, n * lay->F);
  er_encoder_input_f(t->enc, x_dropped);
  ER_CALL(er_h5_create(t->comm, path, &fid, &tmp));
  ER_CALL(er_h5_write_rows(fid, "/x_dropped", F, F, n, lay->F, 0, n, x_dropped));
  ER_CALL(er_h5_write_rows(fid, "/params", F, F, np, 0, 0, np, er_encoder_params_f(t->enc)));
  ER_CALL(er_h5_write_rows(fid, "/grads", F, F, np, 0, 0, np, er_encoder_grads_f(t->enc)));
  ER_CALL(er_h5_write_rows(fid, "/L", I32, I32, n, 0, 0, n, t->L));
  const char *names[] = {"F", "hidden", "heads", "embed"};
  const int64_t values[] = {lay->F, lay->hidden, lay->heads, lay->embed};
  for (int k = 0; k < 4; ++k) ER_CALL(er_h5_attr_set_i64(fid, "/", names[k], values[k]));
  ER_CALL(er_h5_attr_set_f64(fid, "/", "loss", mr->loss));
  ER_CALL(er_h5_attr_set_f64(fid, "/", "R", mr->R));
  ER_CALL(er_h5_attr_set_f64(fid, "/", "Rc", mr->Rc));
  ER_CALL(er_h5_commit(t->comm, fid, path, &tmp));
  fid = -1;
cleanup:
  if (err) er_h5_abort(t->comm, fid, &tmp);
  free(x_dropped);
  return err;
}
