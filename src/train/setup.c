/* setup.c: everything a training run builds once, in the order of ERASE.md: the rank's share
 * of the graph, normalized input features (section 3), label noise on the training labels (1)
 * and the denoising propagation (2); then encoder, semantic labels, loss, optimizer and probe
 * buffers. It does not train. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/dataset.h"
#include "erase/h5.h"
#include "erase/nn.h"
#include "erase/noise.h"
#include "erase/partition.h"
#include "erase/prop.h"
#include "train_private.h"

/* Adam as the reference uses it (ERASE.md section 6): PyTorch's defaults with amsgrad. */
#define ER_ADAM_BETA1 0.9
#define ER_ADAM_BETA2 0.999
#define ER_ADAM_EPS 1e-8
#define ER_ADAM_AMSGRAD 1

/* The trainer's buffer tables (erase/mem.h): (lvalue, elements, type, flags) over n_own rows,
 * n_tot rows with ghosts, F input features, K classes; the label noise's scratch. */
#define TRAINER_BUFFERS(X)                                                                   \
  X(t->x, n_own * F, float, 0)                                                               \
  X(t->noisy, n_own, int32_t, 0)                                                             \
  X(t->Y_den, n_tot * K, double, 0)                                                          \
  X(t->L, n_own, int32_t, 0)
/* rank 0: every rank's host name (hosts of the size ranks; none elsewhere) */
#define HOST_NAMES(X) X(t->hosts, hosts * ER_HOST_LEN, char, ER_BUF_OPT)
#define NOISE_SCRATCH(X)                                                                     \
  X(is_train, n_own, uint8_t, 0)                                                             \
  X(per_class, K, int64_t, ER_BUF_ZERO)

double er_trainer_bytes(const er_mem_counts *c) {
  const double n_own = (double)c->n, n_tot = (double)(c->n + c->g);
  const double F = (double)c->F, K = (double)c->K, hosts = (double)c->P; /* as on rank 0 */
  return 0 TRAINER_BUFFERS(ER_BUF_BYTES) HOST_NAMES(ER_BUF_BYTES);
}

double er_trainer_noise_bytes(const er_mem_counts *c) {
  const double n_own = (double)c->n, K = (double)c->K;
  return 0 NOISE_SCRATCH(ER_BUF_BYTES);
}

double er_trainer_adam_bytes(int64_t n_params) { return er_adam_bytes(n_params, ER_ADAM_AMSGRAD); }

uint64_t er_run_seed(const er_train_config *cfg, int64_t run) {
  return (uint64_t)cfg->seed + 100u * (uint64_t)run; /* seed, seed + 100, ... */
}

/* --partition auto on more than one rank and no partition for this rank count stored in the
 * dataset or its sidecar (a checkpoint resumed at another count, a dataset never partitioned):
 * PT-Scotch makes one on these ranks, each holding its block of the graph, and stores it in the
 * sidecar, where the load below and later runs find it. A failure (e.g. a read-only directory)
 * is an error like any other; --partition block skips this. */
static er_err partition_if_missing(er_trainer *t, hid_t fid) {
  er_err err = ER_OK;
  hid_t pfid = -1;
  char name[64];
  ER_CALL(er_partition_locate(fid, t->size, &pfid, name, sizeof name));
  if (pfid < 0) {
    er_log(t->comm, "train: no partition for %d ranks stored: making one with PT-Scotch "
           "(--partition block skips this)\n", t->size);
    er_part_opts o = {.parts = t->size, .method = ER_PART_PTSCOTCH,
                      .objective = ER_PART_OBJ_CUT, .weights = ER_PART_WEIGHTS_NONE, .seed = 0};
    er_part_stats stats;
    ER_CALL(er_partition_run(t->comm, t->cfg->data, &o, &stats));
  }
cleanup:
  er_partition_release(fid, &pfid);
  return ER_FINISH(t->comm);
}

/* The rank's share of the dataset; refuses a dataset without training split or labels. */
static er_err load_graph(er_trainer *t) {
  er_err err = ER_OK;
  const er_train_config *cfg = t->cfg;
  hid_t fid = -1;
  er_meta meta;
  er_part_choice part;
  ER_CALL(er_part_choice_parse(cfg->partition, &part));
  ER_CALL(er_h5_open(t->comm, cfg->data, 0, &fid));
  if (part.kind == ER_PART_CHOICE_AUTO && t->size > 1) ER_CALL(partition_if_missing(t, fid));
  ER_CALL(er_dataset_meta(t->comm, fid, &meta));
  ER_CHECK(meta.n_train > 0, ER_ERR_INPUT, "dataset '%s' has no training split", cfg->data);
  ER_CALL(er_dgraph_create(t->comm, fid, part, 1, &t->g));
  ER_CALL(er_dgraph_reorder(t->g, (er_order_kind)cfg->reorder));
  er_mem_mark("graph");
  t->graph_sum = t->g->graph_sum; /* summed while the block was read */
  er_h5_close(&fid);
  int64_t labelled = 0;
  for (er_lidx i = 0; i < t->g->n_own; ++i) labelled += t->g->labels[i] >= 0;
  ER_AGREE(t->comm);
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, &labelled, 1, MPI_INT64_T, MPI_SUM, t->comm));
  ER_CHECK(labelled > 0, ER_ERR_INPUT, "dataset '%s' has no labels (all -1)", cfg->data);
cleanup:
  err = ER_FINISH(t->comm);
  er_h5_close(&fid);
  return err;
}

/* NormalizeFeatures (global minimum, then row sums) or the raw features; the raw ones go. */
static er_err normalize_features(er_trainer *t) {
  er_err err = ER_OK;
  er_dgraph *g = t->g;
  if (t->cfg->feature_norm == ER_FEATURE_NORM_PYG) {
    double gmin = er_features_min_f(g->x, g->n_own, g->F);
    ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, &gmin, 1, MPI_DOUBLE, MPI_MIN, t->comm));
    er_normalize_features_f(t->x, g->x, gmin, g->n_own, g->F);
  } else {
    memcpy(t->x, g->x, (size_t)g->n_own * (size_t)g->F * sizeof(float));
  }
  ER_BUF_RELEASE(g->x);
cleanup:
  return ER_FINISH(t->comm);
}

/* Label noise on the training rows; every class must keep a training node (its prototype). */
static er_err corrupt_labels(er_trainer *t) {
  er_err err = ER_OK;
  const er_dgraph *g = t->g;
  uint8_t *is_train = NULL;
  int64_t *per_class = NULL;
  const size_t n_own = (size_t)g->n_own, K = (size_t)t->K;
  NOISE_SCRATCH(ER_BUF_ALLOC)
  for (size_t i = 0; i < n_own; ++i) is_train[i] = (g->split[i] & ER_SPLIT_TRAIN) != 0;
  err = er_noise_apply(g->labels, g->gid, is_train, g->n_own, t->K, t->cfg->noise,
                       t->cfg->noise_ratio, (uint64_t)t->cfg->noise_seed, t->noisy);
  for (size_t i = 0; i < n_own; ++i)
    if (is_train[i] && t->noisy[i] >= 0 && t->noisy[i] < t->K) per_class[t->noisy[i]]++;
  ER_AGREE(t->comm);
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, per_class, t->K, MPI_INT64_T, MPI_SUM, t->comm));
  for (int c = 0; c < t->K; ++c)
    ER_CHECK(per_class[c] > 0, ER_ERR_INPUT, "class %d has no training node (after label "
             "noise): the prototype of an empty class is undefined", c);
cleanup:
  err = ER_FINISH(t->comm);
  NOISE_SCRATCH(ER_BUF_FREE)
  return err;
}

/* How right the training labels are before and after denoising (the report's label quality). */
static er_err label_quality(er_trainer *t) {
  er_err err = ER_OK;
  const er_dgraph *g = t->g;
  int64_t cnt[4] = {0}; /* labelled training rows, noisy right, denoised right, denoised at all */
  for (er_lidx i = 0; i < g->n_own; ++i) {
    if (!(g->split[i] & ER_SPLIT_TRAIN) || g->labels[i] < 0) continue;
    const double *y = t->Y_den + (size_t)i * t->K;
    int best = 0;
    for (int c = 1; c < t->K; ++c)
      if (y[c] > y[best]) best = c;
    cnt[0]++;
    cnt[1] += t->noisy[i] == g->labels[i];
    cnt[2] += y[best] > 0 && best == g->labels[i];
    cnt[3] += y[best] > 0;
  }
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, cnt, 4, MPI_INT64_T, MPI_SUM, t->comm));
  double n = cnt[0] > 0 ? (double)cnt[0] : 1.0;
  t->noisy_train_acc = 100.0 * (double)cnt[1] / n;
  t->denoised_train_acc = 100.0 * (double)cnt[2] / n;
  t->denoised_train_coverage = 100.0 * (double)cnt[3] / n;
cleanup:
  return ER_FINISH(t->comm);
}

/* Every rank's host name on rank 0 (runs across nodes say where each rank ran). */
static er_err gather_hosts(er_trainer *t) {
  er_err err = ER_OK;
  char mine[ER_HOST_LEN] = "";
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  if (MPI_Get_processor_name(name, &len) == MPI_SUCCESS) snprintf(mine, sizeof mine, "%.63s", name);
  const int64_t hosts = t->rank == 0 ? t->size : 0;
  HOST_NAMES(ER_BUF_ALLOC)
  ER_AGREE(t->comm);
  ER_CALL_MPI(MPI_Gather(mine, ER_HOST_LEN, MPI_CHAR, t->hosts, ER_HOST_LEN, MPI_CHAR, 0,
                         t->comm));
cleanup:
  return ER_FINISH(t->comm);
}

er_err er_trainer_setup(MPI_Comm comm, const er_train_config *cfg, er_trainer *t) {
  er_err err = ER_OK;
  memset(t, 0, sizeof *t);
  t->comm = comm;
  t->cfg = cfg;
  MPI_Comm_rank(comm, &t->rank);
  MPI_Comm_size(comm, &t->size);
  t->d = (int)cfg->embed;
  const er_path paths[] = {
      {"--data", cfg->data, 0, NULL},          {"--resume", cfg->resume, 0, "--checkpoint"},
      {"--out", cfg->out, 1, NULL},            {"--checkpoint", cfg->checkpoint, 1, "--resume"},
      {"--log-json", cfg->log_json, 1, NULL},  {"--dump-step", cfg->dump_step, 1, NULL},
  };
  ER_CALL(er_paths_check(comm, paths, (int)(sizeof paths / sizeof paths[0])));

  ER_CALL(gather_hosts(t));
  ER_CALL(load_graph(t));
  er_dgraph *g = t->g;
  t->K = g->K;
  {
    const size_t n_own = (size_t)g->n_own, n_tot = n_own + (size_t)g->n_ghost;
    const size_t F = (size_t)g->F, K = (size_t)t->K;
    TRAINER_BUFFERS(ER_BUF_ALLOC)
  }
  ER_AGREE(comm);
  ER_CALL(normalize_features(t));
  er_mem_mark("normalize");
  ER_CALL(corrupt_labels(t));
  ER_CALL(er_denoise(g, t->noisy, t->K, cfg->denoise, cfg->alpha, (int)cfg->T, t->Y_den));
  ER_CALL(label_quality(t));
  er_mem_mark("denoise");

  ER_AGREE(comm);
  ER_CALL(er_encoder_create_f(g, t->x, cfg->hidden, cfg->heads, cfg->embed, cfg->dropout,
                              cfg->gather_precision == ER_GATHER_BF16, &t->enc));
  ER_CALL(er_semantic_create(g, t->K, t->d, t->Y_den, cfg->alpha, cfg->beta, (int)cfg->T,
                             &t->sem));
  ER_CALL(er_mcr2_create(comm, t->d, t->K, cfg->gamma1, cfg->gamma2, cfg->eps, cfg->solver,
                         &t->mcr));
  const er_encoder_layout *lay = er_encoder_layout_f(t->enc);
  t->dZ = er_encoder_dz_buffer_f(t->enc);
  ER_CALL(er_eval_create(g, t->enc, t->K, t->d, &t->ev));
  ER_CALL(er_train_state_init(&t->st, cfg, g, t->K, lay->n_params, t->graph_sum));
  ER_CALL(er_adam_create(lay->n_params, cfg->lr, ER_ADAM_BETA1, ER_ADAM_BETA2, ER_ADAM_EPS,
                         cfg->weight_decay, ER_ADAM_AMSGRAD, &t->adam));
  er_mem_mark("setup");
cleanup:
  return ER_FINISH(comm);
}

void er_trainer_start_run(er_trainer *t, int64_t run) {
  er_encoder_init_f(t->enc, er_run_seed(t->cfg, run));
  er_adam_reset(t->adam);
  er_train_state *st = &t->st;
  st->run = run, st->epoch = 0, st->best_val = -1, st->best_test = 0, st->best_epoch = 0;
}

void er_trainer_free(er_trainer *t) {
  if (t->log) fclose(t->log);
  er_train_state_free(&t->st);
  er_adam_destroy(&t->adam);
  er_mcr2_destroy(&t->mcr);
  er_semantic_destroy(&t->sem);
  er_encoder_destroy_f(&t->enc);
  er_dgraph_destroy(&t->g);
  er_eval_free(&t->ev);
  TRAINER_BUFFERS(ER_BUF_FREE)
  HOST_NAMES(ER_BUF_FREE)
  memset(t, 0, sizeof *t);
}
