/* train.h: `erase-mpi train`: configuration (options and INI keys from one table), the
 * distributed ERASE training loop and its results. Collective on comm. */
#ifndef ERASE_TRAIN_H
#define ERASE_TRAIN_H

#include "erase/core.h"
#include "erase/graph.h"
#include "erase/noise.h"
#include "erase/prop.h"

/* Input feature normalization: PyG's NormalizeFeatures (the reference) or none. */
typedef enum { ER_FEATURE_NORM_PYG = 0, ER_FEATURE_NORM_NONE = 1 } er_feature_norm;

/* Precision of the rows the GAT layers gather and the halos carry (h1, a1 and their
 * gradients): float, or bfloat16 with float sums (half the bytes per row; erase/bf16.h). */
typedef enum { ER_GATHER_FLOAT = 0, ER_GATHER_BF16 = 1 } er_gather_precision;
extern const er_enum_names er_gather_precisions; /* "float", "bf16" */

typedef struct {
  /* data */
  char data[4096];
  char partition[64];     /* auto | block | P */
  int reorder;            /* er_order_kind (erase/graph.h): each rank's local row order */
  /* label noise and denoising */
  er_noise_type noise;
  double noise_ratio;
  int64_t noise_seed;
  er_denoise_variant denoise;
  er_feature_norm feature_norm;
  /* model */
  int64_t hidden, heads, embed;
  double dropout;
  er_gather_precision gather_precision;
  /* loss */
  double gamma1, gamma2, eps;
  int solver;             /* ER_MCR2_AUTO | ER_MCR2_LAPACK | ER_MCR2_SCALAPACK (erase/loss.h) */
  /* label propagation */
  double alpha, beta;
  int64_t T;
  /* optimisation */
  int64_t epochs, patience, runs, seed;
  double lr, weight_decay;
  /* probe */
  double probe_C;
  int64_t probe_iters;
  /* outputs */
  char log_json[4096];
  char out[4096];         /* RUN.h5 outputs */
  char checkpoint[4096];  /* checkpoint file (written atomically) */
  int64_t checkpoint_every;
  char resume[4096];      /* checkpoint to continue from */
  char dump_step[4096];   /* first step's inputs/gradients for the PyTorch twin (1 rank) */
  int quiet;
  int floor;              /* measure the epoch's floor before and after the epochs */
} er_train_config;

/* Defaults: the reference hyperparameters for Cora (ERASE.md section 8). */
void er_train_config_defaults(er_train_config *cfg);
/* Apply an INI file (keys as the long option names, in any or no section), then the command
 * line (which wins). Validates every value. Returns ER_HELP_SHOWN after printing --help. */
er_err er_train_config_parse(MPI_Comm comm, int argc, char **argv, er_train_config *cfg);
/* One line per key: for logs and output attributes. Caller frees. */
char *er_train_config_string(const er_train_config *cfg);

typedef struct {
  int runs;
  double test_mean, test_std;
  double *best_test, *best_val; /* (runs), percent */
  int *best_epoch;
} er_train_result;

er_err er_train(MPI_Comm comm, const er_train_config *cfg, er_train_result *res);
void er_train_result_free(er_train_result *res);

#endif
