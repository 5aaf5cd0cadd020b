/* train_private.h: the training state shared by the loop (train.c), checkpoints
 * (checkpoint.c) and outputs (output.c). Everything here is replicated on all ranks except
 * out_L (owned rows). Not a public API. */
#ifndef ERASE_TRAIN_PRIVATE_H
#define ERASE_TRAIN_PRIVATE_H

#include "erase/encoder.h"
#include "erase/graph.h"
#include "erase/optim.h"
#include "erase/train.h"

/* per-epoch metrics, one row per epoch in this column order */
#define ER_HIST_COLS 11
extern const char *const er_hist_names[ER_HIST_COLS];

typedef struct {
  /* position: the last completed epoch is (run, epoch); epoch 0 = run not started */
  int64_t run, epoch;
  double best_val, best_test; /* current run's best so far (validation decides) */
  int64_t best_epoch;
  double *run_test, *run_val; /* (runs) finished runs */
  int64_t *run_epoch;
  int64_t hist_n, hist_cap;
  double *hist;               /* (hist_cap, ER_HIST_COLS) */
  /* best model over all runs, for the outputs */
  double out_val;
  int64_t out_run, out_epoch;
  float *out_params;          /* (n_params) parameters after that epoch's step */
  int32_t *out_L;             /* (n_own) the semantic labels its probe was fitted on */
  /* identity of what is being trained, checked on resume */
  int64_t num_nodes, K, n_params;
  uint64_t graph_sum;
} er_train_state;

er_err er_train_state_init(er_train_state *st, const er_train_config *cfg, const er_dgraph *g,
                           int64_t K, int64_t n_params, uint64_t graph_sum);
void er_train_state_free(er_train_state *st);
er_err er_train_state_push(er_train_state *st, const double row[ER_HIST_COLS]);

/* Collective. Atomic (temp + rename): the previous checkpoint stays valid until the new one is
 * complete. */
er_err er_checkpoint_write(MPI_Comm comm, const char *path, const er_train_config *cfg,
                           const er_dgraph *g, const er_train_state *st, er_encoder_f *enc,
                           er_adam *adam);
/* Collective. Verifies dataset, model shape and the content checksum before changing
 * anything; fills st, the encoder parameters and the Adam state. */
er_err er_checkpoint_read(MPI_Comm comm, const char *path, const er_train_config *cfg,
                          const er_dgraph *g, er_train_state *st, er_encoder_f *enc,
                          er_adam *adam);

/* Collective. Writes RUN.h5 (docs/FORMAT.md, run outputs) atomically. Z (n_own, d) are the
 * embeddings of the best model, pred its probe predictions, noisy the training labels seen,
 * den the denoised labels (-1 where Y_den is zero). */
er_err er_output_write(MPI_Comm comm, const char *path, const er_train_config *cfg,
                       const er_dgraph *g, const er_train_state *st, const float *Z, int d,
                       const int32_t *pred, const int32_t *noisy, const int32_t *den,
                       double test_mean, double test_std);

/* 64-bit content hash (splitmix-mixed, order dependent) for checkpoint integrity. */
uint64_t er_hash_bytes(uint64_t h, const void *p, size_t n);

#endif
