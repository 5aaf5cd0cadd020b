/* config.c: every training hyperparameter is declared once in a table that drives the command
 * line (getopt_long), the INI file (inih) and --help, with range checks. It does not train. */
#include <getopt.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/loss.h"
#include "erase/train.h"

static const char *const solver_names[] = {"auto", "lapack", "scalapack"}; /* ER_MCR2_* */
static const er_enum_names solvers = ER_ENUM_NAMES(solver_names);
static const char *const feature_norm_names[] = {"pyg", "none"};
static const er_enum_names feature_norms = ER_ENUM_NAMES(feature_norm_names);

typedef enum { OPT_F64, OPT_I64, OPT_STR, OPT_ENUM } opt_type;
typedef struct {
  const char *name;
  opt_type type;
  size_t off, len; /* offset in er_train_config; len for strings */
  double lo, hi;
  const er_enum_names *names; /* OPT_ENUM: the values' names (the field is an int-sized enum) */
  const char *help;
} opt_def;

#define ER_POSITIVE 1e-300 /* lower bound meaning "> 0" */
#define F64(n, f, lo, hi, h) {n, OPT_F64, offsetof(er_train_config, f), 0, lo, hi, NULL, h}
#define I64(n, f, lo, hi, h) {n, OPT_I64, offsetof(er_train_config, f), 0, lo, hi, NULL, h}
#define STR(n, f, h)                                                                             \
  {n, OPT_STR, offsetof(er_train_config, f), sizeof(((er_train_config *)0)->f), 0, 0, NULL, h}
#define ENUM(n, f, names, h)                                                                     \
  {n, OPT_ENUM, offsetof(er_train_config, f), sizeof(((er_train_config *)0)->f), 0, 0, &names, h}
_Static_assert(sizeof(er_noise_type) == sizeof(int) && sizeof(er_denoise_variant) == sizeof(int) &&
                   sizeof(er_feature_norm) == sizeof(int),
               "enum options are stored as int");

static const opt_def defs[] = {
    STR("data", data, "dataset HDF5 file (required)"),
    STR("partition", partition, "auto (default), block, or part count = ranks"),
    ENUM("noise", noise, er_noise_types, "label noise on training labels"),
    F64("noise-ratio", noise_ratio, 0, 0.999999, "noise ratio r in [0,1)"),
    I64("noise-seed", noise_seed, 0, 9.2e18, "seed of the label noise"),
    ENUM("denoise", denoise, er_denoise_variants, "denoising propagation"),
    ENUM("feature-norm", feature_norm, feature_norms,
         "input normalization, pyg = the reference's NormalizeFeatures"),
    I64("hidden", hidden, 1, 1 << 20, "hidden width of GAT layer 1 (heads x width)"),
    I64("heads", heads, 1, 1024, "attention heads of layer 1 (must divide hidden)"),
    I64("embed", embed, 1, 1 << 16, "embedding width d"),
    F64("dropout", dropout, 0, 0.999999, "dropout on the input features"),
    F64("gamma1", gamma1, ER_POSITIVE, 1e12, "MCR2 gamma1"),
    F64("gamma2", gamma2, 0, 1e12, "MCR2 gamma2"),
    F64("eps", eps, ER_POSITIVE, 1e12, "MCR2 eps (> 0)"),
    ENUM("solver", solver, solvers, "log-determinant solver"),
    F64("alpha", alpha, 0, 1, "propagation alpha in [0,1]"),
    F64("beta", beta, 0, 1, "semantic label mix beta in [0,1]"),
    I64("T", T, 0, 1000, "propagation steps"),
    I64("epochs", epochs, 1, 1e9, "epochs per run"),
    F64("lr", lr, ER_POSITIVE, 10, "Adam learning rate (> 0)"),
    F64("weight-decay", weight_decay, 0, 10, "Adam weight decay (added to the gradient)"),
    I64("patience", patience, 0, 1e9, "stop when validation has not improved this many epochs"),
    I64("runs", runs, 1, 10000, "runs with seeds seed, seed+100, ..."),
    I64("seed", seed, 0, 9.2e18, "seed of weights and dropout of the first run"),
    F64("probe-C", probe_C, ER_POSITIVE, 1e12, "inverse L2 strength of the linear probe"),
    I64("probe-iters", probe_iters, 1, 1e6, "L-BFGS iteration limit of the probe"),
    STR("log-json", log_json,
        "one JSON object per line to this file (with --resume: kept up to the checkpoint, "
        "then appended)"),
    STR("out", out, "write embeddings, labels and metrics to this HDF5 file"),
    STR("checkpoint", checkpoint, "checkpoint file (also written on SIGTERM/SIGUSR1)"),
    I64("checkpoint-every", checkpoint_every, 0, 1e9, "epochs between checkpoints (0: only on signal)"),
    STR("resume", resume, "continue from this checkpoint"),
    I64("quiet", quiet, 0, 1, "1: no per-epoch lines on stdout"),
    STR("dump-step", dump_step, "write the first step's input, weights, labels, gradients (1 rank)"),
};
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

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

static const opt_def *find_def(const char *name) {
  for (int i = 0; i < n_defs; ++i)
    if (!strcmp(defs[i].name, name)) return &defs[i];
  /* INI files may spell keys with underscores */
  char buf[64];
  snprintf(buf, sizeof buf, "%s", name);
  for (char *p = buf; *p; ++p)
    if (*p == '_') *p = '-';
  for (int i = 0; i < n_defs; ++i)
    if (!strcmp(defs[i].name, buf)) return &defs[i];
  return NULL;
}

static er_err set_value(er_train_config *c, const opt_def *d, const char *val, const char *where) {
  char name[96];
  snprintf(name, sizeof name, "%s%s", where, d->name);
  char *p = (char *)c + d->off;
  if (d->type == OPT_F64) {
    if (d->lo == ER_POSITIVE) { /* strictly positive: say so rather than quote a tiny bound */
      double v;
      er_err err = er_parse_f64(val, name, -HUGE_VAL, d->hi, &v);
      if (err) return err;
      if (!(v > 0)) return ER_ERROR(ER_ERR_INPUT, "%s must be > 0 (got %g)", name, v);
      *(double *)p = v;
      return ER_OK;
    }
    return er_parse_f64(val, name, d->lo, d->hi, (double *)p);
  }
  if (d->type == OPT_I64) return er_parse_i64(val, name, (int64_t)d->lo, (int64_t)d->hi, (int64_t *)p);
  if (d->type == OPT_ENUM) return er_parse_enum(val, name, d->names, (int *)p);
  if (strlen(val) >= d->len) return ER_ERROR(ER_ERR_INPUT, "%s: value too long", name);
  snprintf(p, d->len, "%s", val);
  return ER_OK;
}

typedef struct {
  er_train_config *c;
  er_err err;
  const char *file;
} ini_ctx;

static int ini_handler_fn(void *user, const char *section, const char *key, const char *value) {
  ini_ctx *x = user;
  (void)section;
  if (x->err) return 0;
  const opt_def *d = find_def(key);
  if (!d) {
    x->err = ER_ERROR(ER_ERR_INPUT, "config %s: unknown key '%s'", x->file, key);
    return 0;
  }
  x->err = set_value(x->c, d, value, "config key ");
  return x->err == ER_OK;
}

/* The value of an option as --help and the provenance string print it. */
static void format_value(const opt_def *d, const er_train_config *c, char *buf, size_t len) {
  const char *p = (const char *)c + d->off;
  if (d->type == OPT_F64) snprintf(buf, len, "%.17g", *(const double *)p);
  else if (d->type == OPT_I64) snprintf(buf, len, "%lld", (long long)*(const int64_t *)p);
  else if (d->type == OPT_ENUM) snprintf(buf, len, "%s", d->names->names[*(const int *)p]);
  else snprintf(buf, len, "%s", p);
}

static void print_help(MPI_Comm comm, const er_train_config *c) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank) return;
  printf("usage: [mpirun -n P | srun] erase-mpi train --data DATA.h5 [options]\n"
         "Train ERASE (GAT encoder + MCR2 loss on denoised semantic labels) and evaluate it\n"
         "with a linear probe. Every option is also an INI key (--config FILE); the command\n"
         "line wins over the file. Defaults are the reference hyperparameters for Cora.\n\n"
         "  --config FILE          INI file with any of the keys below\n");
  for (int i = 0; i < n_defs; ++i) {
    const opt_def *d = &defs[i];
    char def[64], list[256] = "";
    const char *sep = d->type == OPT_ENUM ? "; " : " (";
    if (d->type == OPT_F64) snprintf(def, sizeof def, "%g", *(const double *)((const char *)c + d->off));
    else format_value(d, c, def, sizeof def);
    if (d->type == OPT_ENUM) {
      er_enum_list(d->names, list + 2, sizeof list - 2);
      memcpy(list, " (", 2);
    }
    printf("  --%-20s %s%s%sdefault %s)\n", d->name, d->help, list, sep, def[0] ? def : "-");
  }
  printf("  -h, --help             this text\n");
  fflush(stdout);
}

er_err er_train_config_parse(MPI_Comm comm, int argc, char **argv, er_train_config *c) {
  er_err err = ER_OK;
  struct option *lo = NULL;
  const char *config = NULL;
  /* pass 1: --help and --config */
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      print_help(comm, c);
      return ER_HELP_SHOWN;
    }
    if (!strcmp(argv[i], "--config")) {
      ER_CHECK(i + 1 < argc, ER_ERR_INPUT, "--config needs a file");
      config = argv[i + 1];
    } else if (!strncmp(argv[i], "--config=", 9)) {
      config = argv[i] + 9;
    }
  }
  if (config) {
    ini_ctx x = {c, ER_OK, config};
    FILE *f = fopen(config, "r");
    ER_CHECK(f, ER_ERR_INPUT, "cannot open config file '%s'", config);
    int rc = ini_parse_file(f, ini_handler_fn, &x);
    fclose(f);
    ER_CALL(x.err);
    ER_CHECK(rc == 0, ER_ERR_INPUT, "config %s: syntax error on line %d", config, rc);
  }
  /* pass 2: command line */
  ER_CALLOC(lo, n_defs + 2);
  for (int i = 0; i < n_defs; ++i) lo[i] = (struct option){defs[i].name, required_argument, 0, 1000 + i};
  lo[n_defs] = (struct option){"config", required_argument, 0, 999};
  opterr = 0;
  optind = 1;
  int ch;
  while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
    if (ch == 999) continue;
    if (ch >= 1000 && ch < 1000 + n_defs) {
      ER_CALL(set_value(c, &defs[ch - 1000], optarg, "--"));
      continue;
    }
    ER_CALL(er_bad_option("train", optopt, argv[optind - 1]));
  }
  ER_CHECK(optind == argc, ER_ERR_INPUT, "train: unexpected argument '%s'", argv[optind]);
  //---- cross-field checks ----
  ER_CHECK(c->data[0], ER_ERR_INPUT, "train: --data is required (see --help)");
  ER_CHECK(c->hidden % c->heads == 0, ER_ERR_INPUT,
           "--heads %lld does not divide --hidden %lld", (long long)c->heads, (long long)c->hidden);
cleanup:
  free(lo);
  return err;
}

char *er_train_config_string(const er_train_config *c) {
  size_t cap = 8192, len = 0;
  char *s = malloc(cap);
  if (!s) return NULL;
  s[0] = '\0';
  char value[4200];
  for (int i = 0; i < n_defs; ++i) {
    if (len + sizeof value + 64 > cap) {
      char *ns = realloc(s, cap *= 2);
      if (!ns) {
        free(s);
        return NULL;
      }
      s = ns;
    }
    format_value(&defs[i], c, value, sizeof value);
    len += (size_t)snprintf(s + len, cap - len, "%s = %s\n", defs[i].name, value);
  }
  return s;
}
