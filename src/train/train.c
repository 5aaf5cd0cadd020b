/* train.c: the distributed ERASE training loop (ERASE.md sections 1-7): load the graph, corrupt
 * and denoise the training labels, then per run and epoch: encoder forward with dropout,
 * semantic labels, MCR2 loss and gradient, encoder backward, one gradient Allreduce, Adam;
 * evaluation by a linear probe on the dropout-free embeddings. Rank 0 logs. It does not write
 * outputs or checkpoints (see io/). */
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/dataset.h"
#include "erase/encoder.h"
#include "erase/h5.h"
#include "erase/loss.h"
#include "erase/noise.h"
#include "erase/nn.h"
#include "erase/optim.h"
#include "erase/probe.h"
#include "erase/prop.h"
#include "erase/semantic.h"
#include "erase/train.h"
#include "train_private.h"

/* wall seconds of each part of an epoch (slowest rank), reported in the JSON log */
#define ER_NPHASE 8
static const char *phase_names[ER_NPHASE] = {"encoder_fwd", "labels", "loss", "encoder_bwd",
                                              "grad_allreduce", "adam", "eval_fwd", "probe"};

typedef struct {
  double loss, R, Rc, delta_R, acc[3], compute_s, comm_s;
} epoch_stats;


/* Whether a line of an interrupted run's log survives a resume from (ck_run, ck_epoch done):
 * epochs up to the checkpoint and the summaries of runs finished before it. Everything else
 * (epochs the resumed run logs again, the final summary, a line cut short by a kill) goes. */
static int log_line_kept(const char *line, int64_t ck_run, int64_t ck_epoch) {
  cJSON *o = cJSON_Parse(line);
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "run");
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "epoch");
  int keep = 0;
  if (cJSON_IsNumber(r) && cJSON_IsNumber(e))
    keep = r->valuedouble < (double)ck_run ||
           (r->valuedouble == (double)ck_run && e->valuedouble <= (double)ck_epoch);
  else if (cJSON_IsNumber(r) && cJSON_HasObjectItem(o, "best_epoch"))
    keep = r->valuedouble < (double)ck_run;
  cJSON_Delete(o);
  return keep;
}

/* Opens the --log-json file (rank 0). A fresh run starts it empty. A resumed run keeps the
 * interrupted run's lines that log_line_kept() accepts, written to PATH.tmp and renamed over
 * PATH (a kill leaves the old log or the new one, never half of it), then appends: one log, no
 * repeated epoch, across any number of resumes. */
static er_err open_log(const char *path, int resumed, int64_t ck_run, int64_t ck_epoch,
                       FILE **out) {
  er_err err = ER_OK;
  FILE *in = NULL, *f = NULL;
  char *line = NULL, *tmp = NULL;
  size_t cap = 0;
  *out = NULL;
  if (resumed && (in = fopen(path, "r")) != NULL) {
    ER_MALLOC(tmp, strlen(path) + 5);
    sprintf(tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    ER_CHECK(f != NULL, ER_ERR_IO, "cannot write '%s' (rewriting --log-json)", tmp);
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0)
      if (log_line_kept(line, ck_run, ck_epoch))
        ER_CHECK(fwrite(line, 1, (size_t)n, f) == (size_t)n, ER_ERR_IO, "cannot write '%s'", tmp);
    ER_CHECK(!ferror(in), ER_ERR_IO, "cannot read --log-json file '%s'", path);
    int rc = fclose(f);
    f = NULL;
    ER_CHECK(rc == 0 && rename(tmp, path) == 0, ER_ERR_IO, "cannot replace '%s' by '%s'", path,
             tmp);
    f = fopen(path, "a");
  } else {
    f = fopen(path, "w");
  }
  ER_CHECK(f != NULL, ER_ERR_IO, "cannot write --log-json file '%s'", path);
  *out = f;
  f = NULL;
cleanup:
  if (in) fclose(in);
  if (f) fclose(f);
  if (err != ER_OK && tmp) remove(tmp);
  free(line);
  free(tmp);
  return err;
}

static void json_line(FILE *f, cJSON *o) {
  char *s = cJSON_PrintUnformatted(o);
  if (s) {
    fprintf(f, "%s\n", s);
    fflush(f);
    free(s);
  }
  cJSON_Delete(o);
}

/* Probe on dropout-free embeddings: fit on the L2-normalized training rows with labels L,
 * predict every row (normalized in chunks, no N x d copy), accuracy vs clean labels on
 * train/val/test (percent). Xtr holds this rank's training rows (n_train_local, d), Zc a chunk. */
#define ER_EVAL_CHUNK 4096
static er_err evaluate(MPI_Comm comm, const er_dgraph *g, const float *Z, int d, int K,
                       const int32_t *L, const er_train_config *cfg, float *Zc, float *Xtr,
                       int64_t Xtr_cap, int32_t *ytr, double *W, const er_lidx *rows,
                       int64_t n_rows, int32_t *pred, double acc[3]) {
  er_err err = ER_OK;
  int64_t nt = 0, off = 0;
  for (er_lidx i = 0; i < g->n_own; ++i) nt += (g->split[i] & ER_SPLIT_TRAIN) != 0;
  ER_CALL_MPI(MPI_Exscan(&nt, &off, 1, MPI_INT64_T, MPI_SUM, comm));
  int rank_;
  MPI_Comm_rank(comm, &rank_);
  if (rank_ == 0) off = 0;
  nt = 0;
  for (er_lidx i = 0; i < g->n_own; ++i)
    if (g->split[i] & ER_SPLIT_TRAIN) {
      ER_CALL(er_rows_l2_normalize(Xtr + (off + nt) * d, Z + (size_t)i * d, 1, d));
      ytr[off + nt++] = L[i];
    }
  /* the probe's training set is small (labelled nodes): gather it on every rank once and fit
   * there, instead of one collective per L-BFGS evaluation; every rank fits the same rows in
   * the same (rank) order, so every rank gets the same W */
  int size;
  MPI_Comm_size(comm, &size);
  if (size > 1) {
    int cnt = (int)nt, tot = 0, *counts = NULL, *displ = NULL;
    ER_CALLOC(counts, size);
    ER_CALLOC(displ, size);
    ER_CALL_MPI(MPI_Allgather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, comm));
    for (int r = 0; r < size; ++r) displ[r] = tot, tot += counts[r];
    err = tot <= Xtr_cap ? ER_OK : ER_ERROR(ER_ERR_INTERNAL, "probe buffer too small");
    if (err == ER_OK)
      err = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ytr, counts, displ, MPI_INT32_T,
                           comm) == MPI_SUCCESS ? ER_OK : ER_ERROR(ER_ERR_MPI, "Allgatherv failed");
    for (int r = 0; r < size; ++r) counts[r] *= d, displ[r] *= d;
    if (err == ER_OK)
      err = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, Xtr, counts, displ, MPI_FLOAT,
                           comm) == MPI_SUCCESS ? ER_OK : ER_ERROR(ER_ERR_MPI, "Allgatherv failed");
    free(counts);
    free(displ);
    ER_CALL(err);
    nt = tot;
  }
  er_probe_info info;
  ER_CALL(er_probe_fit(MPI_COMM_SELF, Xtr, ytr, nt, d, K, cfg->probe_C, (int)cfg->probe_iters, W,
                       &info));
  /* predictions of every owned row, or (rows != NULL) of the listed ones, by chunks; a listed
   * chunk's predictions pass through ytr (free once the probe is fitted, >= n_own entries) */
  for (int64_t r0 = 0; r0 < (rows ? n_rows : g->n_own); r0 += ER_EVAL_CHUNK) {
    int64_t left = (rows ? n_rows : g->n_own) - r0, nr = left < ER_EVAL_CHUNK ? left : ER_EVAL_CHUNK;
    if (!rows) {
      ER_CALL(er_rows_l2_normalize(Zc, Z + (size_t)r0 * d, nr, d));
      ER_CALL(er_probe_predict(W, Zc, nr, d, K, pred + r0));
      continue;
    }
    for (int64_t r = 0; r < nr; ++r)
      ER_CALL(er_rows_l2_normalize(Zc + r * d, Z + (size_t)rows[r0 + r] * d, 1, d));
    ER_CALL(er_probe_predict(W, Zc, nr, d, K, ytr));
    for (int64_t r = 0; r < nr; ++r) pred[rows[r0 + r]] = ytr[r];
  }
  int64_t cnt[6] = {0};
  for (er_lidx i = 0; i < g->n_own; ++i)
    for (int s = 0; s < 3; ++s)
      if ((g->split[i] & (1 << s)) && g->labels[i] >= 0) {
        cnt[2 * s]++;
        cnt[2 * s + 1] += pred[i] == g->labels[i];
      }
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, cnt, 6, MPI_INT64_T, MPI_SUM, comm));
  for (int s = 0; s < 3; ++s) acc[s] = cnt[2 * s] ? 100.0 * cnt[2 * s + 1] / cnt[2 * s] : 0.0;
cleanup:
  return err;
}

//---- SIGTERM / SIGUSR1: finish the epoch, checkpoint, exit 75 ----------------------------------
static volatile sig_atomic_t er_stop_flag = 0;
static void er_on_signal(int sig) {
  (void)sig;
  er_stop_flag = 1;
}
static void er_train_signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = er_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
}
static double er_train_stop_requested(void) { return er_stop_flag ? 1.0 : 0.0; }

/* --dump-step: the first training step's inputs and results for the PyTorch twin
 * (benchmarks/torch_twin.py). One rank only: rows are written in local order = global order. */
static er_err dump_step(MPI_Comm comm, const char *path, const er_dgraph *g, er_encoder_f *enc,
                        const int32_t *L, const er_mcr2_result *mr) {
  er_err err = ER_OK;
  hid_t fid = -1;
  char *tmp = NULL;
  float *xd = NULL;
  int size;
  MPI_Comm_size(comm, &size);
  ER_CHECK(size == 1, ER_ERR_INPUT, "--dump-step needs a 1-rank run");
  const er_encoder_layout *lay = er_encoder_layout_f(enc);
  int64_t n = g->n_own;
  ER_MALLOC(xd, n * lay->F);
  er_encoder_input_f(enc, xd);
  ER_CALL(er_h5_create(comm, path, &fid, &tmp));
  ER_CALL(er_h5_write_rows(fid, "/x_dropped", H5T_NATIVE_FLOAT, H5T_NATIVE_FLOAT, n, lay->F, 0, n, xd));
  ER_CALL(er_h5_write_rows(fid, "/params", H5T_NATIVE_FLOAT, H5T_NATIVE_FLOAT, lay->n_params, 0, 0,
                           lay->n_params, er_encoder_params_f(enc)));
  ER_CALL(er_h5_write_rows(fid, "/grads", H5T_NATIVE_FLOAT, H5T_NATIVE_FLOAT, lay->n_params, 0, 0,
                           lay->n_params, er_encoder_grads_f(enc)));
  ER_CALL(er_h5_write_rows(fid, "/L", H5T_NATIVE_INT32, H5T_NATIVE_INT32, n, 0, 0, n, L));
  const char *an[] = {"F", "hidden", "heads", "embed"};
  const int64_t av[] = {lay->F, lay->hidden, lay->heads, lay->embed};
  for (int k = 0; k < 4; ++k) ER_CALL(er_h5_attr_set_i64(fid, "/", an[k], av[k]));
  ER_CALL(er_h5_attr_set_f64(fid, "/", "loss", mr->loss));
  ER_CALL(er_h5_attr_set_f64(fid, "/", "R", mr->R));
  ER_CALL(er_h5_attr_set_f64(fid, "/", "Rc", mr->Rc));
  ER_CALL(er_h5_commit(comm, fid, path, &tmp));
  fid = -1;
cleanup:
  if (err) er_h5_abort(comm, fid, &tmp);
  free(xd);
  return err;
}

er_err er_train(MPI_Comm comm, const er_train_config *cfg, er_train_result *res) {
  er_err err = ER_OK;
  int rank, size;
  hid_t fid = -1;
  er_dgraph *g = NULL;
  er_encoder_f *enc = NULL;
  er_semantic *sem = NULL;
  er_mcr2 *mcr = NULL;
  er_adam *adam = NULL;
  float *xn = NULL, *dZ = NULL, *Zn = NULL, *Xtr = NULL;
  double *Yden = NULL, *W = NULL;
  int32_t *noisy = NULL, *L = NULL, *ytr = NULL, *pred = NULL;
  er_lidx *ev_rows = NULL; /* owned labelled rows, the only ones evaluated per epoch */
  int64_t n_ev = 0;
  int ev_active = 0;
  FILE *jf = NULL;
  er_train_state st;
  memset(&st, 0, sizeof st);
  uint64_t graph_sum = 0, feat_sum = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  memset(res, 0, sizeof *res);

  //---- data ------------------------------------------------------------------------------------
  double t_setup = er_wtime();
  er_meta meta;
  ER_CALL(er_h5_open(comm, cfg->data, 0, &fid));
  ER_CALL(er_dataset_meta(comm, fid, &meta));
  ER_CHECK(meta.n_train > 0, ER_ERR_INPUT, "dataset '%s' has no training split", cfg->data);
  ER_CALL(er_dgraph_create(comm, fid, cfg->partition, 1, &g));
  ER_CALL(er_dataset_checksum(comm, fid, &graph_sum, &feat_sum));
  er_h5_close(&fid);
  int K = g->K, d = (int)cfg->embed;
  int64_t labeled = 0;
  for (er_lidx i = 0; i < g->n_own; ++i) labeled += g->labels[i] >= 0;
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, &labeled, 1, MPI_INT64_T, MPI_SUM, comm));
  ER_CHECK(labeled > 0, ER_ERR_INPUT, "dataset '%s' has no labels (all -1)", cfg->data);
  size_t no = (size_t)g->n_own, nt = no + (size_t)g->n_ghost;

  /* normalized features: global minimum, then row sums */
  ER_MALLOC(xn, no * g->F);
  if (!strcmp(cfg->feature_norm, "pyg")) {
    double gmin = er_features_min_f(g->x, g->n_own, g->F);
    ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, &gmin, 1, MPI_DOUBLE, MPI_MIN, comm));
    er_normalize_features_f(xn, g->x, gmin, g->n_own, g->F);
  } else {
    memcpy(xn, g->x, no * (size_t)g->F * sizeof(float));
  }
  free(g->x); /* raw features are not needed any more */
  g->x = NULL;

  /* label noise on training rows, then every class must keep a training node */
  er_noise_type nt_type = !strcmp(cfg->noise, "asymm") ? ER_NOISE_ASYMM
                          : !strcmp(cfg->noise, "symm") ? ER_NOISE_SYMM : ER_NOISE_NONE;
  ER_MALLOC(noisy, no);
  {
    uint8_t *is_train = NULL;
    ER_MALLOC(is_train, no);
    for (size_t i = 0; i < no; ++i) is_train[i] = (g->split[i] & ER_SPLIT_TRAIN) != 0;
    err = er_noise_apply(g->labels, g->gid, is_train, g->n_own, K, nt_type, cfg->noise_ratio,
                         (uint64_t)cfg->noise_seed, noisy);
    free(is_train);
    ER_CALL(er_agree(comm, err));
  }
  {
    int64_t *per = NULL;
    ER_CALLOC(per, K);
    for (size_t i = 0; i < no; ++i)
      if ((g->split[i] & ER_SPLIT_TRAIN) && noisy[i] >= 0 && noisy[i] < K) per[noisy[i]]++;
    err = MPI_Allreduce(MPI_IN_PLACE, per, K, MPI_INT64_T, MPI_SUM, comm) == MPI_SUCCESS
              ? ER_OK : ER_ERROR(ER_ERR_MPI, "Allreduce of class counts failed");
    for (int c = 0; c < K && err == ER_OK; ++c)
      if (per[c] == 0)
        err = ER_ERROR(ER_ERR_INPUT, "class %d has no training node (after label noise): the "
                       "prototype of an empty class is undefined", c);
    free(per);
    ER_CALL(err);
  }

  /* denoising propagation, once */
  ER_MALLOC(Yden, nt * K);
  ER_CALL(er_denoise(g, noisy, K, !strcmp(cfg->denoise, "global") ? ER_DENOISE_GLOBAL
                                                                   : ER_DENOISE_TRAIN_SUBGRAPH,
                     cfg->alpha, (int)cfg->T, Yden));

  //---- model, loss, probe buffers ---------------------------------------------------------------
  ER_CALL(er_encoder_create_f(g, xn, cfg->hidden, cfg->heads, cfg->embed, cfg->dropout, &enc));
  ER_CALL(er_semantic_create(g, K, d, Yden, cfg->alpha, cfg->beta, (int)cfg->T, &sem));
  int solver = !strcmp(cfg->solver, "lapack") ? ER_MCR2_LAPACK
               : !strcmp(cfg->solver, "scalapack") ? ER_MCR2_SCALAPACK : ER_MCR2_AUTO;
  ER_CALL(er_mcr2_create(comm, d, K, cfg->gamma1, cfg->gamma2, cfg->eps, solver, &mcr));
  const er_encoder_layout *lay = er_encoder_layout_f(enc);
  int64_t n_train_local = 0;
  for (size_t i = 0; i < no; ++i) n_train_local += (g->split[i] & ER_SPLIT_TRAIN) != 0;
  int64_t n_train_all = n_train_local; /* the probe fits all training rows on every rank */
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, &n_train_all, 1, MPI_INT64_T, MPI_SUM, comm));
  dZ = er_encoder_dz_buffer_f(enc);
  ER_MALLOC(Zn, (size_t)ER_EVAL_CHUNK * d);
  ER_MALLOC(Xtr, n_train_all * d);
  ytr = NULL;
  ER_MALLOC(ytr, n_train_all > (int64_t)no ? n_train_all : (int64_t)no);
  ER_MALLOC(L, no);
  ER_MALLOC(pred, no);
  /* per-epoch evaluation needs Z only at labelled rows (train/val/test): the encoder computes
   * just their two-hop neighbourhood when that is at most half of the graph */
  {
    uint8_t *want = malloc(no + 1);
    ev_rows = malloc((no + 1) * sizeof *ev_rows);
    err = er_agree(comm, want && ev_rows ? ER_OK
                                         : ER_ERROR(ER_ERR_MEM, "out of memory listing labelled rows"));
    if (err != ER_OK) {
      free(want);
      goto cleanup;
    }
    for (size_t i = 0; i < no; ++i)
      if ((want[i] = (g->split[i] & (ER_SPLIT_TRAIN | ER_SPLIT_VAL | ER_SPLIT_TEST)) != 0))
        ev_rows[n_ev++] = (er_lidx)i;
    err = er_encoder_eval_rows_f(enc, want, 0.5, &ev_active);
    free(want);
    ER_CALL(err);
  }
  ER_MALLOC(W, (size_t)K * (d + 1));
  ER_CALLOC(res->best_test, cfg->runs);
  ER_CALLOC(res->best_val, cfg->runs);
  ER_CALLOC(res->best_epoch, cfg->runs);
  t_setup = er_wtime() - t_setup;
  er_log(comm, "train: %s N=%lld E=%lld F=%lld K=%d on %d ranks (partition %s), %lld params, "
               "setup %.2f s\n", cfg->data, (long long)g->n_global, (long long)g->e_global,
         (long long)lay->F, K, size, g->partition, (long long)lay->n_params, t_setup);
  if (ev_active)
    er_log(comm, "train: per-epoch evaluation computes Z only around the labelled nodes (their "
                 "two-hop neighbourhood)\n");
  if (!cfg->quiet)
    er_log(comm, "%4s %5s %11s %9s %9s %9s %7s %7s %7s %8s %8s\n", "run", "epoch", "loss", "R",
           "Rc", "deltaR", "train", "val", "test", "comp_s", "comm_s");

  //---- state: fresh, or resumed from a checkpoint ----------------------------------------------
  ER_CALL(er_train_state_init(&st, cfg, g, K, lay->n_params, graph_sum));
  ER_CALL(er_adam_create(lay->n_params, cfg->lr, 0.9, 0.999, 1e-8, cfg->weight_decay, 1, &adam));
  int resumed = 0;
  if (cfg->resume[0]) {
    ER_CALL(er_checkpoint_read(comm, cfg->resume, cfg, g, &st, enc, adam));
    resumed = 1;
    er_log(comm, "resumed from %s: run %lld, epoch %lld done\n", cfg->resume,
           (long long)st.run, (long long)st.epoch);
  }
  if (rank == 0 && cfg->log_json[0])
    err = open_log(cfg->log_json, cfg->resume[0] != 0, st.run, st.epoch, &jf);
  ER_CALL(er_agree(comm, err));
  er_train_signals_install();

  //---- runs ---------------------------------------------------------------------------------------
  for (int run = (int)st.run; run < cfg->runs; ++run) {
    uint64_t seed = (uint64_t)cfg->seed + 100u * (uint64_t)run;
    if (!resumed) { /* a new run: fresh weights and optimizer */
      er_encoder_init_f(enc, seed);
      er_adam_destroy(&adam);
      ER_CALL(er_adam_create(lay->n_params, cfg->lr, 0.9, 0.999, 1e-8, cfg->weight_decay, 1, &adam));
      st.run = run, st.epoch = 0, st.best_val = -1, st.best_test = 0, st.best_epoch = 0;
    }
    resumed = 0;
    while (st.epoch < cfg->epochs && !(st.epoch - st.best_epoch > cfg->patience)) {
      int epoch = (int)st.epoch + 1;
      epoch_stats es = {0};
      er_halo_stats h0, h1;
      er_halo_get_stats(g->halo, &h0);
      /* ph: phase seconds, compute, comm, stop flag, then the halo waits inside each phase */
      double t0 = er_wtime(), comm_s = 0, ph[2 * ER_NPHASE + 3] = {0}, tp = t0, hw = h0.wait_s;
      double *phw = ph + ER_NPHASE + 3;
#define PHASE(k)                                                                                 \
  do {                                                                                           \
    er_halo_stats hs_;                                                                           \
    er_halo_get_stats(g->halo, &hs_);                                                            \
    phw[k] = hs_.wait_s - hw, hw = hs_.wait_s;                                                   \
    ph[k] = er_wtime() - tp, tp += ph[k];                                                        \
  } while (0)
      const float *Z;
      er_encoder_zero_grads_f(enc);
      ER_CALL(er_encoder_forward_f(enc, 1, seed, epoch, &Z));
      PHASE(0);
      ER_CALL(er_semantic_labels(sem, Z, L, &comm_s));
      PHASE(1);
      er_mcr2_result mr;
      ER_CALL(er_mcr2_forward(mcr, Z, L, g->n_own, &mr));
      comm_s += mr.comm_s;
      ER_CALL(er_mcr2_backward(mcr, dZ, Z, L, g->n_own));
      PHASE(2);
      ER_CALL(er_encoder_backward_f(enc, dZ));
      PHASE(3);
      if (run == 0 && epoch == 1 && cfg->dump_step[0])
        ER_CALL(dump_step(comm, cfg->dump_step, g, enc, L, &mr));
      tp = er_wtime();
      ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, er_encoder_grads_f(enc), (int)lay->n_params,
                                MPI_FLOAT, MPI_SUM, comm));
      PHASE(4);
      comm_s += ph[4];
      ER_CALL(er_adam_step(adam, er_encoder_params_f(enc), er_encoder_grads_f(enc)));
      PHASE(5);
      /* evaluation on dropout-free embeddings; probe labels are this epoch's L */
      const float *Ze;
      ER_CALL(er_encoder_forward_f(enc, ER_FWD_EVAL_ROWS, seed, epoch, &Ze));
      PHASE(6);
      ER_CALL(evaluate(comm, g, Ze, d, K, L, cfg, Zn, Xtr, n_train_all, ytr, W,
                       ev_active ? ev_rows : NULL, n_ev, pred, es.acc));
      PHASE(7);
#undef PHASE
      er_halo_get_stats(g->halo, &h1);
      comm_s += h1.wait_s - h0.wait_s;
      double total = er_wtime() - t0;
      /* rank 0 reports the slowest rank's split and phases; the same reduction tells every
       * rank whether any of them was asked to stop (SIGTERM / SIGUSR1) */
      ph[ER_NPHASE] = total - comm_s;
      ph[ER_NPHASE + 1] = comm_s;
      ph[ER_NPHASE + 2] = er_train_stop_requested();
      ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, ph, 2 * ER_NPHASE + 3, MPI_DOUBLE, MPI_MAX, comm));
      es.loss = mr.loss, es.R = mr.R, es.Rc = mr.Rc, es.delta_R = mr.delta_R;
      es.compute_s = ph[ER_NPHASE], es.comm_s = ph[ER_NPHASE + 1];
      if (!cfg->quiet)
        er_log(comm, "%4d %5d %11.6f %9.5f %9.5f %9.5f %7.2f %7.2f %7.2f %8.4f %8.4f\n", run,
               epoch, es.loss, es.R, es.Rc, es.delta_R, es.acc[0], es.acc[1], es.acc[2],
               es.compute_s, es.comm_s);
      double row[ER_HIST_COLS] = {run, epoch, es.loss, es.R, es.Rc, es.delta_R, es.acc[0],
                                  es.acc[1], es.acc[2], es.compute_s, es.comm_s};
      if (jf) { /* the JSON epoch line carries the history row under the same names */
        cJSON *o = cJSON_CreateObject();
        for (int c = 0; c < ER_HIST_COLS; ++c) cJSON_AddNumberToObject(o, er_hist_names[c], row[c]);
        cJSON *phs = cJSON_AddObjectToObject(o, "phases");
        for (int k = 0; k < ER_NPHASE; ++k) cJSON_AddNumberToObject(phs, phase_names[k], ph[k]);
        cJSON *hws = cJSON_AddObjectToObject(o, "halo_wait");
        for (int k = 0; k < ER_NPHASE; ++k)
          if (phw[k] > 0) cJSON_AddNumberToObject(hws, phase_names[k], phw[k]);
        json_line(jf, o);
      }
      ER_CALL(er_train_state_push(&st, row));
      st.epoch = epoch;
      if (es.acc[1] > st.best_val) {
        st.best_val = es.acc[1];
        st.best_test = es.acc[2];
        st.best_epoch = epoch;
        if (st.best_val > st.out_val) { /* best model over all runs: kept for the outputs */
          st.out_val = st.best_val, st.out_run = run, st.out_epoch = epoch;
          memcpy(st.out_params, er_encoder_params_f(enc), (size_t)lay->n_params * sizeof(float));
          memcpy(st.out_L, L, no * sizeof(int32_t));
        }
      }
      int stop = ph[ER_NPHASE + 2] > 0;
      if (cfg->checkpoint[0] && (stop || (cfg->checkpoint_every > 0 && epoch % cfg->checkpoint_every == 0)))
        ER_CALL(er_checkpoint_write(comm, cfg->checkpoint, cfg, g, &st, enc, adam));
      if (stop) {
        if (cfg->checkpoint[0])
          err = ER_ERROR(ER_INTERRUPTED, "checkpoint written to %s at run %d epoch %d",
                         cfg->checkpoint, run, epoch);
        else
          err = ER_ERROR(ER_INTERRUPTED, "stopped at run %d epoch %d without a checkpoint "
                         "(give --checkpoint FILE to keep progress)", run, epoch);
        goto cleanup;
      }
    }
    st.run_test[run] = st.best_test;
    st.run_val[run] = st.best_val;
    st.run_epoch[run] = st.best_epoch;
    st.epoch = 0;
    st.run = run + 1;
    er_log(comm, "run %d: best epoch %lld, val %.2f%%, test %.2f%%\n", run,
           (long long)st.best_epoch, st.best_val, st.best_test);
    if (jf) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddNumberToObject(o, "run", run);
      cJSON_AddNumberToObject(o, "best_epoch", (double)st.best_epoch);
      cJSON_AddNumberToObject(o, "val_acc", st.best_val);
      cJSON_AddNumberToObject(o, "test_acc", st.best_test);
      json_line(jf, o);
    }
  }
  res->runs = (int)cfg->runs;
  double mean = 0, var = 0;
  for (int r = 0; r < cfg->runs; ++r) {
    res->best_test[r] = st.run_test[r];
    res->best_val[r] = st.run_val[r];
    res->best_epoch[r] = (int)st.run_epoch[r];
    mean += st.run_test[r] / cfg->runs;
  }
  for (int r = 0; r < cfg->runs; ++r) var += pow(st.run_test[r] - mean, 2) / cfg->runs;
  res->test_mean = mean;
  res->test_std = sqrt(var);
  er_log(comm, "summary: test accuracy %.2f +- %.2f over %lld runs\n", mean, sqrt(var),
         (long long)cfg->runs);
  if (jf) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "test_mean", mean);
    cJSON_AddNumberToObject(o, "test_std", sqrt(var));
    cJSON_AddNumberToObject(o, "runs", (double)cfg->runs);
    json_line(jf, o);
  }
  //---- outputs: the best model's embeddings, labels and predictions ----------------------------
  if (cfg->out[0]) {
    /* training is over: give the backward scratch back before the output buffers are made */
    er_encoder_release_backward_f(enc);
    memcpy(er_encoder_params_f(enc), st.out_params, (size_t)lay->n_params * sizeof(float));
    const float *Ze;
    uint64_t seed = (uint64_t)cfg->seed + 100u * (uint64_t)st.out_run;
    ER_CALL(er_encoder_forward_f(enc, 0, seed, st.out_epoch, &Ze));
    double acc[3];
    ER_CALL(evaluate(comm, g, Ze, d, K, st.out_L, cfg, Zn, Xtr, n_train_all, ytr, W, NULL, 0,
                     pred, acc));
    int32_t *den = NULL, *seen = NULL;
    den = malloc(no * sizeof(int32_t) + 1);
    seen = malloc(no * sizeof(int32_t) + 1);
    err = den && seen ? ER_OK : ER_ERROR(ER_ERR_MEM, "out of memory");
    for (size_t i = 0; err == ER_OK && i < no; ++i) {
      const double *y = Yden + i * K;
      int b = 0;
      for (int c = 1; c < K; ++c)
        if (y[c] > y[b]) b = c;
      den[i] = y[b] > 0 ? b : -1;
      seen[i] = (g->split[i] & ER_SPLIT_TRAIN) ? noisy[i] : -1;
    }
    if (err == ER_OK)
      err = er_output_write(comm, cfg->out, cfg, g, &st, Ze, d, pred, seen, den, mean, sqrt(var));
    free(den);
    free(seen);
    ER_CALL(err);
    er_log(comm, "wrote %s (best run %lld epoch %lld: val %.2f%%, test %.2f%%)\n", cfg->out,
           (long long)st.out_run, (long long)st.out_epoch, acc[1], acc[2]);
  }
cleanup:
  if (jf) fclose(jf);
  er_h5_close(&fid);
  er_train_state_free(&st);
  er_adam_destroy(&adam);
  er_mcr2_destroy(&mcr);
  er_semantic_destroy(&sem);
  er_encoder_destroy_f(&enc);
  er_dgraph_destroy(&g);
  free(xn), free(Zn), free(Xtr), free(Yden), free(W), free(ev_rows);
  free(noisy), free(L), free(ytr), free(pred);
  return err;
}

void er_train_result_free(er_train_result *res) {
  free(res->best_test), free(res->best_val), free(res->best_epoch);
  memset(res, 0, sizeof *res);
}

er_err er_cmd_train(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  er_train_config cfg;
  er_train_result res = {0};
  er_train_config_defaults(&cfg);
  err = er_train_config_parse(comm, argc, argv, &cfg);
  if (err == ER_HELP_SHOWN) return err;
  ER_CALL(err);
  ER_CALL(er_train(comm, &cfg, &res));
cleanup:
  er_train_result_free(&res);
  return err;
}
