/* train_private.h: the trainer shared by the files of src/train: what setup builds (setup.c),
 * one epoch (epoch.c), the probe evaluation (evaluate.c), the run log (log.c), checkpoints
 * (checkpoint.c), outputs (output.c) and the run loop (train.c). Not a public API. */
#ifndef ERASE_TRAIN_PRIVATE_H
#define ERASE_TRAIN_PRIVATE_H

#include <stdio.h>

#include "erase/encoder.h"
#include "erase/graph.h"
#include "erase/loss.h"
#include "erase/optim.h"
#include "erase/semantic.h"
#include "erase/train.h"

/* per-epoch metrics, one row per epoch in this column order */
#define ER_HIST_COLS 13
extern const char *const er_hist_names[ER_HIST_COLS];

/* Progress and results of the runs; replicated on every rank except best_L (owned rows). */
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

/* Probe evaluation (ERASE.md section 7), buffers made once by er_eval_create. */
#define ER_EVAL_CHUNK 4096 /* rows normalized and predicted at a time */
typedef struct {
  int d, K;
  int64_t n_train;     /* training rows this rank owns: the probe is fitted on every rank's own */
  float *chunk;        /* (ER_EVAL_CHUNK, d) rows of Z, L2-normalized */
  float *X_train;      /* (n_train, d) this rank's normalized training rows */
  int32_t *y_train;    /* (n_own) their labels; after the fit a chunk's predictions */
  double *W;           /* (K, d + 1) probe weights and intercepts */
  er_lidx *rows;       /* (n_rows) owned labelled rows: the per-epoch evaluation predicts only
                          these when the encoder computes Z only around them */
  int64_t n_rows;
  int rows_only;       /* 1: the encoder's evaluation forward computes just those rows */
  int evaluations;     /* the last fit's objective + gradient evaluations (each one reduce
                          and one broadcast of the probe's gradient over the ranks) */
  int32_t *pred;       /* (n_own) probe predictions */
} er_eval;

/* Collective. Buffers for g's labelled rows; plans the encoder's evaluation rows. */
er_err er_eval_create(const er_dgraph *g, er_encoder_f *enc, int K, int d, er_eval *ev);
void er_eval_free(er_eval *ev);
/* Collective. Fits the probe on the L2-normalized training rows of Z with labels L, predicts
 * (all owned rows, or only ev->rows when rows_only and all_rows == 0) into ev->pred, and
 * returns the probe's accuracy against the clean labels on train/val/test and that of L itself
 * on the training rows and on all labelled rows (percent; label_acc may be NULL). */
er_err er_eval_run(er_eval *ev, const er_dgraph *g, const float *Z, const int32_t *L,
                   const er_train_config *cfg, int all_rows, double acc[3], double label_acc[2]);

/* Parts of an epoch, timed separately (slowest rank) in the JSON log. */
enum {
  ER_PH_ENCODER_FWD, ER_PH_LABELS, ER_PH_LOSS, ER_PH_ENCODER_BWD, ER_PH_GRAD_ALLREDUCE,
  ER_PH_ADAM, ER_PH_EVAL_FWD, ER_PH_PROBE, ER_NPHASE
};
extern const char *const er_phase_names[ER_NPHASE];

/* What one epoch produced. The timings and the stop request are each rank's own until
 * er_epoch_agree() replaces them by the maximum over the ranks. */
typedef struct {
  double loss, R, Rc, delta_R;
  double acc[3];               /* probe accuracy on train, val, test (percent) */
  double semantic_acc[2];      /* semantic labels L vs the clean labels: training rows, all
                                  labelled rows (percent) */
  double phase_s[ER_NPHASE];   /* wall seconds of each part */
  double halo_wait_s[ER_NPHASE]; /* seconds waited for halo exchanges inside each part */
  double compute_s, comm_s;
  double stop_requested;       /* 1 if this rank was asked to stop (SIGTERM / SIGUSR1) */
} er_epoch;

#define ER_HOST_LEN 64

/* Everything a training run holds, built once by er_trainer_setup. */
typedef struct {
  MPI_Comm comm;
  int rank, size;
  const er_train_config *cfg;
  er_dgraph *g;
  int K, d;             /* classes, embedding width */
  uint64_t graph_sum;   /* the dataset's graph checksum */
  float *x;             /* (n_own, F) normalized input features (the encoder reads them) */
  int32_t *noisy;       /* (n_own) labels after label noise (training rows corrupted) */
  double *Y_den;        /* (n_own + n_ghost, K) denoised training labels (ERASE.md section 2) */
  er_encoder_f *enc;
  er_semantic *sem;
  er_mcr2 *mcr;
  er_adam *adam;
  float *dZ;            /* (n_own, d) loss gradient (the encoder's scratch) */
  int32_t *L;           /* (n_own) this epoch's semantic labels */
  er_eval ev;
  er_train_state st;
  FILE *log;            /* --log-json, rank 0 only */
  double setup_s;       /* wall seconds of er_trainer_setup */
  /* training labels against the clean ones (percent of labelled training rows): after the
   * noise, argmax of Y_den, and the rows Y_den reaches at all */
  double noisy_train_acc, denoised_train_acc, denoised_train_coverage;
  char *hosts;          /* rank 0: (size, ER_HOST_LEN) each rank's host name, for the logs */
  int64_t epochs_run;   /* epochs this process has run (for the ETA) */
  double loop_t0;       /* when the first of them started */
} er_trainer;

/* Collective. Loads the dataset, normalizes features, corrupts and denoises the training
 * labels, builds encoder, semantic labels, loss, optimizer and probe buffers (setup.c). */
er_err er_trainer_setup(MPI_Comm comm, const er_train_config *cfg, er_trainer *t);
void er_trainer_free(er_trainer *t);
/* Fresh weights (seeded by the run) and optimizer moments for run `run`. */
void er_trainer_start_run(er_trainer *t, int64_t run);
/* The seed of a run's weights and dropout masks. */
uint64_t er_run_seed(const er_train_config *cfg, int64_t run);

/* Collective. One training step (epoch.c): encoder forward with dropout, semantic labels,
 * MCR2 loss and gradient, encoder backward, gradient Allreduce, Adam. */
er_err er_epoch_train(er_trainer *t, int64_t run, int64_t epoch, er_epoch *ep);
/* Collective. Dropout-free forward and the probe's accuracies. */
er_err er_epoch_evaluate(er_trainer *t, int64_t run, int64_t epoch, er_epoch *ep);
/* The epoch as a row of the metric history (columns er_hist_names). */
void er_epoch_history_row(int64_t run, int64_t epoch, const er_epoch *ep,
                          double row[ER_HIST_COLS]);
/* Collective. Slowest rank's timings; whether any rank was asked to stop. */
er_err er_epoch_agree(MPI_Comm comm, er_epoch *ep);
/* SIGTERM / SIGUSR1 ask every rank to finish the epoch and checkpoint. */
void er_stop_signals_install(void);
int er_stop_requested(void);

/* train --floor (floor.c): an epoch's floor from rates measured in the run itself. */
typedef struct {
  double sgemm_gfs;  /* sgemm rate on the epoch's shapes, GF/s (the slowest rank's) */
  double gather_gbs; /* rate of the GAT passes' row gathers on the rank's own graph, GB/s */
  double gemm_s, gather_s, floor_s; /* the floor: an epoch's products and gathers at those rates */
} er_floor;
/* Collective. Measures the two rates on every rank; floor_s is the slowest rank's. */
er_err er_floor_measure(er_trainer *t, er_floor *f);
/* What er_floor_measure holds on a rank with counts c (its buffer table, erase/mem.h). */
double er_floor_bytes(const er_mem_counts *c);

/* Run log (log.c): --log-json on rank 0 and the console lines. A resumed run keeps the
 * interrupted run's lines up to the checkpoint. */
er_err er_log_open(er_trainer *t, int resumed);
void er_log_header(const er_trainer *t);
void er_log_epoch(const er_trainer *t, int64_t run, int64_t epoch, const er_epoch *ep);
void er_log_run(const er_trainer *t, int64_t run);
void er_log_summary(const er_trainer *t, double mean, double std);
/* The median epoch of this process's epochs (the first left out) against the floors. */
void er_log_floor(const er_trainer *t, const er_floor *before, const er_floor *after);

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

/* Collective. Writes cfg->out (docs/FORMAT.md, run outputs) atomically: the best model's
 * dropout-free embeddings, its probe predictions, the labels and the metrics. Frees the
 * encoder's backward scratch first: training is over. */
er_err er_trainer_write_outputs(er_trainer *t, double test_mean, double test_std);
/* Collective. --dump-step: the first step's inputs and results for the PyTorch twin. */
er_err er_dump_step(er_trainer *t, const er_mcr2_result *mr);

/* Memory model (erase/mem.h) of the trainer's buffer tables on a rank with counts c: its own
 * per-row arrays (setup.c) and the label noise's scratch; the probe's buffers (and its
 * evaluation-row flags while planning) and what an evaluation holds beyond them (evaluate.c);
 * the run state with its history for c->runs x c->epochs and a checkpoint write
 * (checkpoint.c); the optimizer; writing --out beyond the trainer (output.c). */
double er_trainer_bytes(const er_mem_counts *c);
double er_trainer_noise_bytes(const er_mem_counts *c);
double er_trainer_adam_bytes(int64_t n_params);
double er_eval_bytes(const er_mem_counts *c, int planning);
double er_eval_run_bytes(const er_mem_counts *c, int all_rows);
double er_train_state_bytes(const er_mem_counts *c, int64_t n_params);
double er_checkpoint_write_bytes(const er_mem_counts *c);
double er_output_bytes(const er_mem_counts *c, double seal_bytes);

/* 64-bit content hash (splitmix-mixed, order dependent) for checkpoint integrity. */
uint64_t er_hash_bytes(uint64_t h, const void *p, size_t n);

#endif
