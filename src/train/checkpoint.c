/* checkpoint.c: training state <-> HDF5 checkpoint (parameters, Adam moments and step,
 * run/epoch position, best-so-far state, metric history, best model), written atomically and
 * verified on read (dataset, model shape, content checksum). The RNG position is (seed, run,
 * epoch): every draw is addressed, so nothing else needs saving. */
#include <stdlib.h>
#include <string.h>

#include "erase/h5.h"
#include "train_private.h"

const char *const er_hist_names[ER_HIST_COLS] = {
    "run",      "epoch",   "loss",   "R",  "Rc", "delta_R", "train_acc", "val_acc", "test_acc",
    "compute_s", "comm_s", "semantic_train_acc", "semantic_all_acc"};

/* integer root attributes of a checkpoint, in the order both the writer and the reader use */
#define ER_CKPT_NATTR 17
static const char *const ckpt_attrs[ER_CKPT_NATTR] = {
    "run",      "epoch",  "best_epoch", "out_run", "out_epoch", "adam_step",
    "num_nodes", "num_classes", "n_params", "features", "hidden", "heads",
    "embed",    "runs",   "ranks",      "graph_checksum", "checksum"};

/* Buffer tables (erase/mem.h): (lvalue, elements, type, flags). The state: runs, the history
 * (hist_cap epochs; it doubles as it fills), the best model's n_params parameters and the n_own
 * semantic labels. A checkpoint's write and read: the rank's block of rows of the labels, the
 * stored config, and the history and parameters read before they are verified. */
#define STATE_BUFFERS(X)                                                                     \
  X(st->run_test, runs, double, ER_BUF_ZERO)                                                 \
  X(st->run_val, runs, double, ER_BUF_ZERO)                                                  \
  X(st->run_epoch, runs, int64_t, ER_BUF_ZERO)                                               \
  X(st->hist, hist_cap * ER_HIST_COLS, double, 0)                                            \
  X(st->out_params, n_params, float, ER_BUF_ZERO)                                            \
  X(st->out_L, n_own, int32_t, ER_BUF_ZERO)
#define CKPT_WRITE(X) X(blk, rows, int32_t, 0)
#define CKPT_CONFIG(X) X(stored, 1 << 16, char, 0)
#define CKPT_READ(X)                                                                         \
  X(s.hist, s.hist_cap * ER_HIST_COLS, double, 0)                                            \
  X(params, n_params, float, 0)                                                              \
  X(blk, rows, int32_t, 0)

#define ER_HIST_CAP0 64 /* epochs of history allocated at the start */

double er_train_state_bytes(const er_mem_counts *c, int64_t n_params) {
  const double runs = (double)c->runs, n_own = (double)c->n;
  double hist_cap = ER_HIST_CAP0;
  while (hist_cap < (double)(c->runs * c->epochs)) hist_cap *= 2;
  return 0 STATE_BUFFERS(ER_BUF_BYTES);
}

/* A checkpoint write: its block of labels, moved there (er_dgraph_rows_to_block), then the
 * file sealed (er_h5_commit). */
double er_checkpoint_write_bytes(const er_mem_counts *c) {
  const double rows = (double)c->b, move = er_dgraph_block_move_bytes(c, sizeof(int32_t));
  const double seal = er_h5_seal_bytes();
  return (0 CKPT_WRITE(ER_BUF_BYTES)) + (move > seal ? move : seal);
}

er_err er_train_state_init(er_train_state *st, const er_train_config *cfg, const er_dgraph *g,
                           int64_t K, int64_t n_params, uint64_t graph_sum) {
  er_err err = ER_OK;
  memset(st, 0, sizeof *st);
  st->best_val = -1;
  st->out_val = -1;
  st->num_nodes = g->n_global, st->K = K, st->n_params = n_params, st->graph_sum = graph_sum;
  st->hist_cap = ER_HIST_CAP0;
  const int64_t runs = cfg->runs, hist_cap = st->hist_cap, n_own = g->n_own;
  STATE_BUFFERS(ER_BUF_ALLOC)
cleanup:
  return err;
}

void er_train_state_free(er_train_state *st) {
  STATE_BUFFERS(ER_BUF_FREE)
  memset(st, 0, sizeof *st);
}

er_err er_train_state_push(er_train_state *st, const double row[ER_HIST_COLS]) {
  er_err err = ER_OK;
  if (st->hist_n == st->hist_cap) {
    double *nh = er_buf_grow(st->hist, (size_t)(2 * st->hist_cap * ER_HIST_COLS) * sizeof(double));
    ER_CHECK(nh, ER_ERR_MEM, "out of memory growing the metric history");
    st->hist = nh;
    st->hist_cap *= 2;
  }
  memcpy(st->hist + st->hist_n++ * ER_HIST_COLS, row, ER_HIST_COLS * sizeof(double));
cleanup:
  return err;
}

uint64_t er_hash_bytes(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; ++i) {
    h ^= b[i];
    h *= 0x100000001b3ULL; /* FNV-1a step */
  }
  h ^= h >> 31;
  h *= 0x7fb5d329728ea185ULL;
  return h ^ (h >> 27);
}

/* hash of everything replicated in the checkpoint (identical on every rank) */
static uint64_t state_hash(const er_train_state *st, const float *params, const er_adam_view *a,
                           int64_t runs) {
  size_t np = (size_t)st->n_params * sizeof(float);
  uint64_t h = 0xcbf29ce484222325ULL;
  h = er_hash_bytes(h, params, np);
  h = er_hash_bytes(h, a->m, np);
  h = er_hash_bytes(h, a->v, np);
  if (a->vmax) h = er_hash_bytes(h, a->vmax, np);
  h = er_hash_bytes(h, st->out_params, np);
  h = er_hash_bytes(h, st->hist, (size_t)(st->hist_n * ER_HIST_COLS) * sizeof(double));
  h = er_hash_bytes(h, st->run_test, (size_t)runs * sizeof(double));
  h = er_hash_bytes(h, st->run_val, (size_t)runs * sizeof(double));
  int64_t pos[5] = {st->run, st->epoch, st->best_epoch, st->out_run, st->out_epoch};
  double best[3] = {st->best_val, st->best_test, st->out_val};
  h = er_hash_bytes(h, pos, sizeof pos);
  return er_hash_bytes(h, best, sizeof best);
}

/* replicated 1-D array: rank 0 writes all rows, the others none */
static er_err put(hid_t fid, int rank, const char *name, hid_t ft, hid_t mt, int64_t n,
                  int64_t ncols, const void *buf) {
  return er_h5_write_rows(fid, name, ft, mt, n, ncols, 0, rank == 0 ? n : 0, buf);
}

er_err er_checkpoint_write(MPI_Comm comm, const char *path, const er_train_config *cfg,
                           const er_dgraph *g, const er_train_state *st, er_encoder_f *enc,
                           er_adam *adam) {
  er_err err = ER_OK;
  hid_t fid = -1;
  char *tmp = NULL, *conf = NULL;
  int32_t *blk = NULL;
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const er_encoder_layout *lay = er_encoder_layout_f(enc);
  er_adam_view a;
  ER_CALL(er_adam_state(adam, &a));
  int64_t lo, hi, np = st->n_params, runs = cfg->runs;
  er_block_range(g->n_global, size, rank, &lo, &hi);
  const int64_t rows = hi - lo;
  CKPT_WRITE(ER_BUF_ALLOC)
  conf = er_train_config_string(cfg);
  ER_CHECK(conf, ER_ERR_MEM, "out of memory");
  ER_AGREE(comm);
  ER_CALL(er_dgraph_rows_to_block(g, st->out_L, 1, MPI_INT32_T, blk));
  double bytes = (4.0 + (a.vmax != NULL)) * np * 4 + (st->hist_n * ER_HIST_COLS + 3.0 * runs) * 8 +
                 4.0 * g->n_global;
  ER_CALL(er_h5_room(comm, path, bytes));
  ER_CALL(er_h5_create_whole(comm, path, &fid, &tmp));
  hid_t F = H5T_NATIVE_FLOAT, D = H5T_NATIVE_DOUBLE, I = H5T_NATIVE_INT64, I32 = H5T_NATIVE_INT32;
  ER_CALL(put(fid, rank, "/params", F, F, np, 0, er_encoder_params_f(enc)));
  er_fault_stall("checkpoint"); /* tests kill a rank here: mid-write */
  ER_CALL(put(fid, rank, "/adam/m", F, F, np, 0, a.m));
  ER_CALL(put(fid, rank, "/adam/v", F, F, np, 0, a.v));
  if (a.vmax) ER_CALL(put(fid, rank, "/adam/vmax", F, F, np, 0, a.vmax));
  ER_CALL(put(fid, rank, "/history", D, D, st->hist_n, ER_HIST_COLS, st->hist));
  ER_CALL(put(fid, rank, "/runs/test_acc", D, D, runs, 0, st->run_test));
  ER_CALL(put(fid, rank, "/runs/val_acc", D, D, runs, 0, st->run_val));
  ER_CALL(put(fid, rank, "/runs/best_epoch", I, I, runs, 0, st->run_epoch));
  ER_CALL(put(fid, rank, "/best/params", F, F, np, 0, st->out_params));
  ER_CALL(er_h5_write_rows(fid, "/best/semantic_labels", I32, I32, g->n_global, 0, lo, hi - lo, blk));
  int64_t iv[ER_CKPT_NATTR] = {st->run, st->epoch, st->best_epoch, st->out_run, st->out_epoch, a.step,
                  st->num_nodes, st->K, np, lay->F, lay->hidden, lay->heads, lay->embed, runs,
                  size, (int64_t)st->graph_sum,
                  (int64_t)state_hash(st, er_encoder_params_f(enc), &a, runs)};
  for (int k = 0; k < ER_CKPT_NATTR; ++k) ER_CALL(er_h5_attr_set_i64(fid, "/", ckpt_attrs[k], iv[k]));
  ER_CALL(er_h5_attr_set_f64(fid, "/", "best_val", st->best_val));
  ER_CALL(er_h5_attr_set_f64(fid, "/", "best_test", st->best_test));
  ER_CALL(er_h5_attr_set_f64(fid, "/", "out_val", st->out_val));
  ER_CALL(er_h5_attr_set_str(fid, "/", "kind", "erase-mpi checkpoint"));
  ER_CALL(er_h5_attr_set_str(fid, "/", "version", ER_VERSION));
  ER_CALL(er_h5_attr_set_str(fid, "/", "dataset", cfg->data));
  ER_CALL(er_h5_attr_set_str(fid, "/", "config", conf));
  ER_CALL(er_h5_commit(comm, fid, path, &tmp));
  fid = -1;
cleanup:
  err = ER_FINISH(comm);
  if (err && tmp) er_h5_abort(comm, fid, &tmp);
  CKPT_WRITE(ER_BUF_FREE)
  free(conf);
  return err;
}

/* Options a resume may change: when to stop, where to run, where to write. Every other option
 * decides what a step computes (hyperparameters, noise, seeds, solver, probe) and must be the
 * checkpoint's. */
static int free_on_resume(const char *key) {
  static const char *const keys[] = {"data",       "partition", "reorder",   "epochs",
                                     "runs",       "patience",  "log-json",  "out",
                                     "checkpoint", "checkpoint-every", "resume", "quiet",
                                     "dump-step"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; ++i)
    if (!strcmp(key, keys[i])) return 1;
  return 0;
}

/* The value of key in a "key = value" config string, into val; 0 if absent. */
static int config_value(const char *conf, const char *key, char *val, size_t len) {
  size_t kl = strlen(key);
  for (const char *p = conf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (!strncmp(p, key, kl) && !strncmp(p + kl, " = ", 3)) {
      const char *v = p + kl + 3, *e = strchr(v, '\n');
      snprintf(val, len, "%.*s", (int)(e ? e - v : (ptrdiff_t)strlen(v)), v);
      return 1;
    }
  return 0;
}

/* A resume must follow the checkpoint's trajectory: refuse an option that changes it. */
static er_err check_trajectory(const char *path, const char *stored, const char *current) {
  er_err err = ER_OK;
  char key[64], was[4200], now[4200];
  for (const char *p = current; *p && strchr(p, '\n'); p = strchr(p, '\n') + 1) {
    const char *eq = strstr(p, " = ");
    if (!eq) break;
    snprintf(key, sizeof key, "%.*s", (int)(eq - p), p);
    if (free_on_resume(key) || !config_value(current, key, now, sizeof now)) continue;
    ER_CHECK(config_value(stored, key, was, sizeof was), ER_ERR_INPUT, "checkpoint '%s' does not "
             "record --%s (written by another version of erase-mpi)", path, key);
    ER_CHECK(!strcmp(was, now), ER_ERR_INPUT, "checkpoint '%s' was written with --%s %s, this "
             "run has %s: a resume keeps every option that decides a step (only epochs, runs, "
             "patience, partition, reorder and outputs may change)", path, key, was, now);
  }
cleanup:
  return err;
}

/* Collective: dataset name is 1-D with rows entries (at least rows unless exact). */
static er_err ckpt_rows(hid_t fid, const char *path, const char *name, int64_t rows, int exact) {
  er_err err = ER_OK;
  int nd;
  int64_t dims[2];
  ER_CALL(er_h5_shape(fid, name, &nd, dims));
  ER_CHECK(nd == 1 && (exact ? dims[0] == rows : dims[0] >= rows), ER_ERR_INPUT,
           "checkpoint '%s': %s has %lld entries (%d-D), expected %s%lld (1-D)", path, name,
           (long long)dims[0], nd, exact ? "" : "at least ", (long long)rows);
cleanup:
  return err;
}

er_err er_checkpoint_read(MPI_Comm comm, const char *path, const er_train_config *cfg,
                          const er_dgraph *g, er_train_state *st, er_encoder_f *enc,
                          er_adam *adam) {
  er_err err = ER_OK;
  hid_t fid = -1;
  int32_t *blk = NULL;
  float *params = NULL;
  char *stored = NULL, *current = NULL;
  er_train_state s = {0}; /* the checkpoint's state, read and verified before it replaces st */
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const er_encoder_layout *lay = er_encoder_layout_f(enc);
  char kind[64];
  int64_t v[ER_CKPT_NATTR];
  int whole;
  /* a flipped byte anywhere, before HDF5 parses the file (a damaged file can crash it) */
  ER_CALL(er_h5_check_whole(comm, path, &whole));
  ER_CALL(er_h5_open(comm, path, 0, &fid));
  err = er_h5_attr_get_str(fid, "/", "kind", kind, sizeof kind);
  if (err || strcmp(kind, "erase-mpi checkpoint"))
    err = ER_ERROR(ER_ERR_INPUT, "'%s' is not an erase-mpi checkpoint", path);
  ER_CALL(er_agree(comm, err));
  ER_CHECK(whole, ER_ERR_INPUT, "checkpoint '%s' carries no whole-file checksum (written by "
           "another version of erase-mpi)", path);
  for (int k = 0; k < ER_CKPT_NATTR; ++k) ER_CALL(er_h5_attr_get_i64(fid, "/", ckpt_attrs[k], &v[k]));
  //---- the checkpoint must belong to this dataset and this model ----
  ER_CHECK(v[6] == st->num_nodes && (uint64_t)v[15] == st->graph_sum && v[7] == st->K,
           ER_ERR_INPUT, "checkpoint '%s' was written for another dataset (N=%lld, K=%lld, graph "
           "checksum %016llx; this dataset: N=%lld, K=%lld, %016llx)", path, (long long)v[6],
           (long long)v[7], (unsigned long long)v[15], (long long)st->num_nodes,
           (long long)st->K, (unsigned long long)st->graph_sum);
  ER_CHECK(v[8] == st->n_params && v[9] == lay->F && v[10] == lay->hidden && v[11] == lay->heads &&
               v[12] == lay->embed,
           ER_ERR_INPUT, "checkpoint '%s' holds another model shape (hidden %lld, heads %lld, "
           "embed %lld; this run: %lld, %lld, %lld)", path, (long long)v[10], (long long)v[11],
           (long long)v[12], (long long)lay->hidden, (long long)lay->heads, (long long)lay->embed);
  ER_CHECK(v[13] <= cfg->runs, ER_ERR_INPUT, "checkpoint '%s' has %lld runs; --runs is %lld",
           path, (long long)v[13], (long long)cfg->runs);
  ER_CHECK(v[13] >= 0 && v[0] >= 0 && v[0] <= v[13] && v[1] >= 0 && v[5] >= 0, ER_ERR_INPUT,
           "checkpoint '%s' records an impossible position (run %lld of %lld, epoch %lld, step "
           "%lld)", path, (long long)v[0], (long long)v[13], (long long)v[1], (long long)v[5]);
  //---- every array must have the length its reader's buffer has ----
  static const char *const slabs[] = {"/params", "/adam/m", "/adam/v", "/best/params"};
  for (int k = 0; k < 4; ++k) ER_CALL(ckpt_rows(fid, path, slabs[k], st->n_params, 1));
  if (er_h5_exists(fid, "/adam/vmax"))
    ER_CALL(ckpt_rows(fid, path, "/adam/vmax", st->n_params, 1));
  static const char *const per_run[] = {"/runs/test_acc", "/runs/val_acc", "/runs/best_epoch"};
  for (int k = 0; k < 3; ++k) ER_CALL(ckpt_rows(fid, path, per_run[k], v[13], 0));
  ER_CALL(ckpt_rows(fid, path, "/best/semantic_labels", g->n_global, 1));
  current = er_train_config_string(cfg);
  ER_CHECK(current, ER_ERR_MEM, "out of memory");
  CKPT_CONFIG(ER_BUF_ALLOC)
  ER_AGREE(comm);
  ER_CALL(er_h5_attr_get_str(fid, "/", "config", stored, 1 << 16));
  ER_CALL(check_trajectory(path, stored, current)); /* the same verdict on every rank */
  //---- read everything into scratch first, verify, then commit into the live state ----
  s = *st;
  s.hist = NULL;
  int64_t np = st->n_params, nd;
  {
    int ndim;
    int64_t dims[2];
    ER_CALL(er_h5_shape(fid, "/history", &ndim, dims));
    ER_CHECK(ndim == 2 && dims[1] == ER_HIST_COLS, ER_ERR_INPUT, "checkpoint '%s' keeps %lld "
             "metrics per epoch, this version %d (written by another version of erase-mpi)",
             path, (long long)(ndim == 2 ? dims[1] : 0), ER_HIST_COLS);
    nd = dims[0];
  }
  s.hist_cap = nd + 64;
  int64_t lo, hi;
  er_block_range(g->n_global, size, rank, &lo, &hi);
  er_adam_view a;
  const int64_t n_params = np, rows = hi - lo;
  CKPT_READ(ER_BUF_ALLOC)
  ER_CALL(er_adam_state(adam, &a));
  ER_AGREE(comm);
  s.hist_n = nd;
  ER_CALL(er_h5_read_all(fid, "/history", H5T_NATIVE_DOUBLE, s.hist));
  ER_CALL(er_h5_read_all(fid, "/params", H5T_NATIVE_FLOAT, params));
  ER_CALL(er_h5_read_all(fid, "/adam/m", H5T_NATIVE_FLOAT, a.m));
  ER_CALL(er_h5_read_all(fid, "/adam/v", H5T_NATIVE_FLOAT, a.v));
  if (a.vmax) ER_CALL(er_h5_read_all(fid, "/adam/vmax", H5T_NATIVE_FLOAT, a.vmax));
  ER_CALL(er_h5_read_rows(fid, "/runs/test_acc", H5T_NATIVE_DOUBLE, 0, v[13], st->run_test));
  ER_CALL(er_h5_read_rows(fid, "/runs/val_acc", H5T_NATIVE_DOUBLE, 0, v[13], st->run_val));
  ER_CALL(er_h5_read_rows(fid, "/runs/best_epoch", H5T_NATIVE_INT64, 0, v[13], st->run_epoch));
  ER_CALL(er_h5_read_all(fid, "/best/params", H5T_NATIVE_FLOAT, st->out_params));
  ER_CALL(er_h5_read_rows(fid, "/best/semantic_labels", H5T_NATIVE_INT32, lo, hi - lo, blk));
  ER_CALL(er_dgraph_rows_from_block(g, blk, 1, MPI_INT32_T, st->out_L));
  s.run = v[0], s.epoch = v[1], s.best_epoch = v[2], s.out_run = v[3], s.out_epoch = v[4];
  ER_CALL(er_h5_attr_get_f64(fid, "/", "best_val", &s.best_val));
  ER_CALL(er_h5_attr_get_f64(fid, "/", "best_test", &s.best_test));
  ER_CALL(er_h5_attr_get_f64(fid, "/", "out_val", &s.out_val));
  a.step = v[5];
  uint64_t h = state_hash(&s, params, &a, v[13]);
  ER_CHECK(h == (uint64_t)v[16], ER_ERR_INPUT, "checkpoint '%s' is corrupted (content checksum "
           "mismatch)", path);
  ER_BUF_RELEASE(st->hist);
  *st = s;
  s.hist = NULL; /* now st's */
  memcpy(er_encoder_params_f(enc), params, (size_t)np * sizeof(float));
  ER_CALL(er_adam_set_step(adam, v[5]));
cleanup:
  err = ER_FINISH(comm);
  er_h5_close(&fid);
  CKPT_READ(ER_BUF_FREE)
  CKPT_CONFIG(ER_BUF_FREE)
  free(current);
  return err;
}
