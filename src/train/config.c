/* config.c: every training hyperparameter declared once, in the option table that drives the
 * command line, INI files, --help and the provenance string (erase/options.h), plus the checks
 * that involve more than one option. It does not train. */
#include <stdio.h>
#include <string.h>

#include "erase/loss.h"
#include "erase/options.h"
#include "erase/train.h"

static const char *const solver_names[] = {"auto", "lapack", "scalapack"}; /* ER_MCR2_* */
static const er_enum_names solvers = ER_ENUM_NAMES(solver_names);
static const char *const feature_norm_names[] = {"pyg", "none"};
static const er_enum_names feature_norms = ER_ENUM_NAMES(feature_norm_names);
static const char *const precision_names[] = {"float", "bf16"}; /* ER_GATHER_* */
const er_enum_names er_gather_precisions = ER_ENUM_NAMES(precision_names);
_Static_assert(sizeof(er_noise_type) == sizeof(int) && sizeof(er_denoise_variant) == sizeof(int) &&
                   sizeof(er_feature_norm) == sizeof(int) &&
                   sizeof(er_gather_precision) == sizeof(int),
               "enum options are stored as int");

#define C er_train_config
#define POS ER_OPT_POSITIVE
static const er_opt defs[] = {
    ER_OPT_S(C, "data", data, "FILE", "dataset HDF5 file (required)"),
    ER_OPT_S(C, "partition", partition, "P", "auto (stored, else PT-Scotch now), block, or P = ranks"),
    ER_OPT_E(C, "reorder", reorder, er_order_kinds, "local row order; rcm: reverse Cuthill-McKee"),
    ER_OPT_E(C, "noise", noise, er_noise_types, "label noise on training labels"),
    ER_OPT_F(C, "noise-ratio", noise_ratio, 0, 0.999999, "R", "noise ratio r in [0,1)"),
    ER_OPT_I(C, "noise-seed", noise_seed, 0, 9.2e18, "S", "seed of the label noise"),
    ER_OPT_E(C, "denoise", denoise, er_denoise_variants, "denoising propagation"),
    ER_OPT_E(C, "feature-norm", feature_norm, feature_norms,
             "input normalization, pyg = the reference's NormalizeFeatures"),
    ER_OPT_I(C, "hidden", hidden, 1, 1 << 20, "N", "hidden width of GAT layer 1 (heads x width)"),
    ER_OPT_I(C, "heads", heads, 1, 1024, "N", "attention heads of layer 1 (must divide hidden)"),
    ER_OPT_I(C, "embed", embed, 1, 1 << 16, "D", "embedding width d"),
    ER_OPT_F(C, "dropout", dropout, 0, 0.999999, "P", "dropout on the input features"),
    ER_OPT_E(C, "gather-precision", gather_precision, er_gather_precisions,
             "rows the GAT layers gather and the halos carry (h1, the layer-2\n"
             "input and their gradients): bf16 stores them as bfloat16 with float\n"
             "sums (half the bytes per gathered row); parameters, Grams, factorizations\n"
             "and the loss stay float. Only the float encoder (training) has a bf16\n"
             "path; the double one of the gradient checks refuses it"),
    ER_OPT_F(C, "gamma1", gamma1, POS, 1e12, "X", "MCR2 gamma1"),
    ER_OPT_F(C, "gamma2", gamma2, 0, 1e12, "X", "MCR2 gamma2"),
    ER_OPT_F(C, "eps", eps, POS, 1e12, "X", "MCR2 eps (> 0)"),
    ER_OPT_E(C, "solver", solver, solvers, "log-determinant solver"),
    ER_OPT_F(C, "alpha", alpha, 0, 1, "A", "propagation alpha in [0,1]"),
    ER_OPT_F(C, "beta", beta, 0, 1, "B", "semantic label mix beta in [0,1]"),
    ER_OPT_I(C, "T", T, 0, 1000, "T", "propagation steps"),
    ER_OPT_I(C, "epochs", epochs, 1, 1e9, "N", "epochs per run"),
    ER_OPT_F(C, "lr", lr, POS, 10, "X", "Adam learning rate (> 0)"),
    ER_OPT_F(C, "weight-decay", weight_decay, 0, 10, "X", "Adam weight decay (added to the gradient)"),
    ER_OPT_I(C, "patience", patience, 0, 1e9, "N", "stop when validation has not improved this many epochs"),
    ER_OPT_I(C, "runs", runs, 1, 10000, "N", "runs with seeds seed, seed+100, ..."),
    ER_OPT_I(C, "seed", seed, 0, 9.2e18, "S", "seed of weights and dropout of the first run"),
    ER_OPT_F(C, "probe-C", probe_C, POS, 1e12, "C", "inverse L2 strength of the linear probe"),
    ER_OPT_I(C, "probe-iters", probe_iters, 1, 1e6, "N", "L-BFGS iteration limit of the probe"),
    ER_OPT_S(C, "log-json", log_json, "FILE",
             "one JSON object per line to this file (with --resume: kept up to\n"
             "the checkpoint, then appended)"),
    ER_OPT_S(C, "out", out, "FILE", "write embeddings, labels and metrics to this HDF5 file"),
    ER_OPT_S(C, "checkpoint", checkpoint, "FILE", "checkpoint file (also written on SIGTERM/SIGUSR1)"),
    ER_OPT_I(C, "checkpoint-every", checkpoint_every, 0, 1e9, "N",
             "epochs between checkpoints (0: only on signal)"),
    ER_OPT_S(C, "resume", resume, "FILE", "continue from this checkpoint"),
    ER_OPT_B(C, "quiet", quiet, "no per-epoch or progress lines on stdout"),
    ER_OPT_B(C, "floor", floor,
             "measure, before the first and after the last epoch, the sgemm rate on the\n"
             "epoch's shapes and the row-gather rate on this graph, and report the median\n"
             "epoch as a multiple of the lower of the two floors they give (the slowest\n"
             "rank's)"),
    ER_OPT_S(C, "dump-step", dump_step, "FILE",
             "write the first step's input, weights, labels, gradients (1 rank)"),
};
#undef C
#undef POS

static const er_cmd_spec spec = {
    .cmd = "train",
    .usage = "usage: [mpirun -n P | srun] erase-mpi train --data DATA.h5 [options]\n"
             "Train ERASE (GAT encoder + MCR2 loss on denoised semantic labels) and evaluate it\n"
             "with a linear probe. Every option is also an INI key (--config FILE); the command\n"
             "line wins over the file. Defaults are the reference hyperparameters for Cora.\n",
    .opts = defs,
    .n_opts = (int)(sizeof defs / sizeof defs[0]),
    .config_file = 1,
    .presets = 1,
};

void er_train_config_defaults(er_train_config *c) {
  memset(c, 0, sizeof *c);
  snprintf(c->partition, sizeof c->partition, "auto");
  c->noise = ER_NOISE_NONE;
  c->noise_ratio = 0.3;
  c->noise_seed = 123;
  c->denoise = ER_DENOISE_TRAIN_SUBGRAPH;
  c->feature_norm = ER_FEATURE_NORM_PYG;
  c->hidden = 256;
  c->heads = 8;
  c->embed = 512;
  c->dropout = 0.5;
  c->gamma1 = 1;
  c->gamma2 = 2;
  c->eps = 0.05;
  c->solver = ER_MCR2_AUTO;
  c->alpha = 0.6;
  c->beta = 0.6;
  c->T = 5;
  c->epochs = 400;
  c->lr = 1e-3;
  c->weight_decay = 5e-4;
  c->patience = 150;
  c->runs = 1;
  c->seed = 123;
  c->probe_C = 1.0;
  c->probe_iters = 1000;
}

er_err er_train_config_parse(MPI_Comm comm, int argc, char **argv, er_train_config *c) {
  er_err err = ER_OK;
  ER_CALL(er_opts_parse(comm, &spec, c, argc, argv, NULL, NULL));
  ER_CHECK(c->data[0], ER_ERR_INPUT, "train: --data is required (see --help)");
  ER_CHECK(c->hidden % c->heads == 0, ER_ERR_INPUT,
           "--heads %lld does not divide --hidden %lld", (long long)c->heads, (long long)c->hidden);
cleanup:
  return err;
}

char *er_train_config_string(const er_train_config *c) { return er_opts_string(&spec, c); }
