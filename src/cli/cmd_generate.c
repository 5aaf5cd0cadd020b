/* cmd_generate.c: `erase-mpi generate`: parse options into er_generate_opts and run the
 * contextual SBM generator (src/io/generate.c). Model checks live in er_generate, not here. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/dataset.h"

static const char *gen_usage =
    "usage: [mpirun -n P] erase-mpi generate [options] --out DATA.h5\n"
    "\n"
    "Contextual stochastic block model -> HDF5 dataset (docs/FORMAT.md). Every rank builds\n"
    "its block of nodes; the datasets are identical for a seed at any number of ranks.\n"
    "\n"
    "options:\n"
    "  --nodes N             nodes (default 10000, >= 2)\n"
    "  --avg-degree D        mean degree, in (0, N-1] (default 10)\n"
    "  --classes K           classes, in [2, N] (default 10)\n"
    "  --features F          feature dimension (default 128)\n"
    "  --homophily H         fraction of same-class edges, in [0, 1] (default 0.8)\n"
    "  --feature-snr S       class-mean scale over unit noise, >= 0 (default 1)\n"
    "  --train-per-class T   training nodes per class (default 20)\n"
    "  --val V               validation nodes (default 500)\n"
    "  --test U              test nodes (default 1000); T*K + V + U <= N\n"
    "  --seed SEED           seed, >= 0 (default 1)\n"
    "  --out DATA.h5         output file (required; written to a temporary name first)\n"
    "  -h, --help            this text\n"
    "\n"
    "model (all randomness from Philox at (seed, purpose, global node id, index)):\n"
    "  classes   perm = keyed Feistel bijection of [0, N); class(i) = perm(i) mod K, so classes\n"
    "            are balanced to +-1 and not readable from ids\n"
    "  edges     node i draws floor(D/2) or ceil(D/2) (mean D/2) endpoints; each is, with\n"
    "            probability H, a uniform node of i's class, else a uniform node of a uniform\n"
    "            other class; the graph is symmetrized, self loops and duplicates dropped\n"
    "  features  mu_c = S/sqrt(F) * N(0, I_F) per class, x_i = mu_class(i) + N(0, I_F), so\n"
    "            E|mu_c|^2 = S^2 and E|mu_c - mu_c'|^2 = 2 S^2. S = 1: one node's features\n"
    "            tell two classes apart ~76% of the time, ten classes ~37%; averaging over\n"
    "            neighbours (H = 0.8, D = 10) makes it ~80% (one hop) to ~99% (two hops)\n"
    "  splits    train: nodes with perm(i) < T*K (T per class); val: the next V and test:\n"
    "            the next U in perm order; disjoint, stored sorted\n";

er_err er_cmd_generate(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  er_generate_opts o = {.nodes = 10000,
                        .avg_degree = 10,
                        .classes = 10,
                        .features = 128,
                        .homophily = 0.8,
                        .feature_snr = 1.0,
                        .train_per_class = 20,
                        .val = 500,
                        .test = 1000,
                        .seed = 1,
                        .out = NULL};
  enum { O_NODES = 256, O_DEG, O_CLASSES, O_FEAT, O_HOMO, O_SNR, O_TRAIN, O_VAL, O_TEST, O_SEED,
         O_OUT };
  static const struct option longopts[] = {
      {"nodes", required_argument, NULL, O_NODES},
      {"avg-degree", required_argument, NULL, O_DEG},
      {"classes", required_argument, NULL, O_CLASSES},
      {"features", required_argument, NULL, O_FEAT},
      {"homophily", required_argument, NULL, O_HOMO},
      {"feature-snr", required_argument, NULL, O_SNR},
      {"train-per-class", required_argument, NULL, O_TRAIN},
      {"val", required_argument, NULL, O_VAL},
      {"test", required_argument, NULL, O_TEST},
      {"seed", required_argument, NULL, O_SEED},
      {"out", required_argument, NULL, O_OUT},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int64_t v;
  int c, help = 0;
  optind = 1;
  opterr = 0;
  while (err == ER_OK && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case O_NODES: err = er_parse_i64(optarg, "--nodes", 2, INT64_C(1) << 40, &o.nodes); break;
    case O_DEG: err = er_parse_f64(optarg, "--avg-degree", 0, 1e12, &o.avg_degree); break;
    case O_CLASSES:
      err = er_parse_i64(optarg, "--classes", 2, INT32_MAX, &v);
      o.classes = (int)v;
      break;
    case O_FEAT: err = er_parse_i64(optarg, "--features", 1, INT64_C(1) << 20, &o.features); break;
    case O_HOMO: err = er_parse_f64(optarg, "--homophily", 0, 1, &o.homophily); break;
    case O_SNR: err = er_parse_f64(optarg, "--feature-snr", 0, 1e6, &o.feature_snr); break;
    case O_TRAIN:
      err = er_parse_i64(optarg, "--train-per-class", 1, INT64_MAX, &o.train_per_class);
      break;
    case O_VAL: err = er_parse_i64(optarg, "--val", 0, INT64_MAX, &o.val); break;
    case O_TEST: err = er_parse_i64(optarg, "--test", 0, INT64_MAX, &o.test); break;
    case O_SEED:
      err = er_parse_i64(optarg, "--seed", 0, INT64_MAX, &v);
      o.seed = (uint64_t)v;
      break;
    case O_OUT: o.out = optarg; break;
    case 'h': help = 1; break;
    default: err = er_bad_option("generate", optopt, argv[optind - 1]); break;
    }
  }
  if (err == ER_OK && optind < argc)
    err = ER_ERROR(ER_ERR_INPUT, "generate: unexpected argument '%s' (see --help)", argv[optind]);
  if (err != ER_OK) return err;
  if (help) {
    er_usage(comm, gen_usage);
    return ER_HELP_SHOWN;
  }
  return er_generate(comm, &o);
}
