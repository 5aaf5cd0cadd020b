/* output.c: RUN.h5, the results of `erase-mpi train --out`: embeddings and labels of the best
 * model in the dataset's node order (rows moved to contiguous blocks, collective writes),
 * per-epoch and per-run metrics, and the provenance attributes. Written under a temporary name
 * and renamed when complete. Layout: docs/FORMAT.md. */
#include <stdlib.h>
#include <string.h>

#include "erase/h5.h"
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

er_err er_output_write(MPI_Comm comm, const char *path, const er_train_config *cfg,
                       const er_dgraph *g, const er_train_state *st, const float *Z, int d,
                       const int32_t *pred, const int32_t *noisy, const int32_t *den,
                       double test_mean, double test_std) {
  er_err err = ER_OK;
  hid_t fid = -1;
  char *tmp = NULL, *conf = NULL;
  void *blk = NULL;
  double *col = NULL;
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int64_t lo, hi;
  er_block_range(g->n_global, size, rank, &lo, &hi);
  ER_MALLOC(blk, (size_t)(hi - lo) * (size_t)d * sizeof(float) + 1);
  ER_CALL(er_h5_create(comm, path, &fid, &tmp));
  //---- node-indexed results ----
  ER_CALL(put_block(fid, g, "/embeddings", H5T_NATIVE_FLOAT, H5T_NATIVE_FLOAT, MPI_FLOAT, Z, d,
                    blk, lo, hi - lo));
  const char *ln[4] = {"/labels/denoised", "/labels/semantic", "/labels/predicted", "/labels/noisy"};
  const int32_t *lv[4] = {den, st->out_L, pred, noisy};
  for (int k = 0; k < 4; ++k)
    ER_CALL(put_block(fid, g, ln[k], H5T_NATIVE_INT32, H5T_NATIVE_INT32, MPI_INT32_T, lv[k], 1,
                      blk, lo, hi - lo));
  //---- metrics (replicated: rank 0 writes) ----
  int64_t n = st->hist_n, n0 = rank == 0 ? n : 0;
  ER_MALLOC(col, n + cfg->runs + 1);
  for (int c = 0; c < ER_HIST_COLS; ++c) {
    char name[64];
    snprintf(name, sizeof name, "/metrics/epoch/%s", er_hist_names[c]);
    for (int64_t r = 0; r < n; ++r) col[r] = st->hist[r * ER_HIST_COLS + c];
    hid_t ft = c < 2 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
    ER_CALL(er_h5_write_rows(fid, name, ft, H5T_NATIVE_DOUBLE, n, 0, 0, n0, col));
  }
  int64_t runs = cfg->runs, r0 = rank == 0 ? runs : 0;
  for (int64_t r = 0; r < runs; ++r) col[r] = (double)r;
  ER_CALL(er_h5_write_rows(fid, "/metrics/runs/run", H5T_NATIVE_INT64, H5T_NATIVE_DOUBLE, runs, 0, 0, r0, col));
  ER_CALL(er_h5_write_rows(fid, "/metrics/runs/best_epoch", H5T_NATIVE_INT64, H5T_NATIVE_INT64, runs, 0, 0, r0, st->run_epoch));
  ER_CALL(er_h5_write_rows(fid, "/metrics/runs/val_acc", H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE, runs, 0, 0, r0, st->run_val));
  ER_CALL(er_h5_write_rows(fid, "/metrics/runs/test_acc", H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE, runs, 0, 0, r0, st->run_test));
  ER_CALL(er_h5_attr_set_f64(fid, "/metrics/runs", "test_mean", test_mean));
  ER_CALL(er_h5_attr_set_f64(fid, "/metrics/runs", "test_std", test_std));
  //---- provenance ----
  conf = er_train_config_string(cfg);
  ER_CHECK(conf, ER_ERR_MEM, "out of memory");
  char sum[32];
  snprintf(sum, sizeof sum, "%016llx", (unsigned long long)st->graph_sum);
  ER_CALL(er_h5_attr_set_str(fid, "/", "config", conf));
  ER_CALL(er_h5_attr_set_str(fid, "/", "version", ER_VERSION));
  ER_CALL(er_h5_attr_set_str(fid, "/", "git_revision", ERASE_GIT_REV));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "ranks", size));
  ER_CALL(er_h5_attr_set_str(fid, "/", "dataset", cfg->data));
  ER_CALL(er_h5_attr_set_str(fid, "/", "dataset_graph_checksum", sum));
  ER_CALL(er_h5_attr_set_str(fid, "/", "partition", g->partition));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "num_nodes", g->n_global));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "best_run", st->out_run));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "best_epoch", st->out_epoch));
  ER_CALL(er_h5_attr_set_f64(fid, "/", "best_val_acc", st->out_val));
  ER_CALL(er_h5_commit(comm, fid, path, &tmp));
  fid = -1;
cleanup:
  err = er_agree(comm, err);
  if (err && tmp) er_h5_abort(comm, fid, &tmp);
  free(blk);
  free(col);
  free(conf);
  return err;
}
