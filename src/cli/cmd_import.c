/* cmd_import.c: the `import` and `info` commands: option parsing and --help only; the work is
 * er_import (src/io/import.c) and er_info (src/io/dataset.c). Options parse identically on
 * every rank, so every rank reaches the same verdict without communication. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/dataset.h"

static const char import_usage[] =
    "usage: erase-mpi import [--dir DIR] [--edges FILE] [--features FILE] [--labels FILE]\n"
    "                        [--train FILE] [--val FILE] [--test FILE] --out DATA.h5\n"
    "                        [--classes K]\n"
    "\n"
    "Convert text files into one HDF5 dataset (layout: docs/FORMAT.md). Parsing runs on rank 0;\n"
    "the output is written under a temporary name and renamed when complete.\n"
    "\n"
    "  --dir DIR        take DIR/graph.edges, DIR/features.mtx, DIR/labels.txt, DIR/train.idx,\n"
    "                   DIR/val.idx, DIR/test.idx (the options below override single files)\n"
    "  --edges FILE     'u v' per line, 0-based ids, '#'/'%' comment lines; or a Matrix Market\n"
    "                   coordinate adjacency (1-based, pattern/real/integer, general/symmetric)\n"
    "  --features FILE  Matrix Market coordinate or array (real/integer/pattern), N x F;\n"
    "                   N (its row count) is the number of nodes\n"
    "  --labels FILE    one integer per line (N lines), -1 = unknown\n"
    "  --train/--val/--test FILE\n"
    "                   one 0-based node id per line; no repeats, no overlap between splits\n"
    "  --out DATA.h5    output file\n"
    "  --classes K      number of classes (default: max label + 1)\n"
    "  -h, --help       this text\n"
    "\n"
    "The graph is symmetrized; self loops and duplicate edges are dropped and counted.\n";

static const char info_usage[] =
    "usage: erase-mpi info DATA.h5\n"
    "\n"
    "Print node/edge/feature/class counts, split sizes, the class histogram, the stored\n"
    "partitions (P, method, edge cut, part sizes) and rank-count independent checksums of the\n"
    "graph and of the features.\n";

er_err er_cmd_import(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  enum { O_DIR = 256, O_EDGES, O_FEATURES, O_LABELS, O_TRAIN, O_VAL, O_TEST, O_OUT, O_CLASSES };
  static const struct option longopts[] = {
      {"dir", required_argument, NULL, O_DIR},
      {"edges", required_argument, NULL, O_EDGES},
      {"features", required_argument, NULL, O_FEATURES},
      {"labels", required_argument, NULL, O_LABELS},
      {"train", required_argument, NULL, O_TRAIN},
      {"val", required_argument, NULL, O_VAL},
      {"test", required_argument, NULL, O_TEST},
      {"out", required_argument, NULL, O_OUT},
      {"classes", required_argument, NULL, O_CLASSES},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  static const char *const dir_files[6] = {"graph.edges", "features.mtx", "labels.txt",
                                           "train.idx",   "val.idx",      "test.idx"};
  const char *given[6] = {NULL}; /* edges, features, labels, train, val, test */
  char *from_dir[6] = {NULL};
  const char *dir = NULL;
  er_import_opts o;
  memset(&o, 0, sizeof o);
  opterr = 0;
  optind = 0; /* glibc: full re-initialisation */
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 'h':
        er_usage(comm, import_usage);
        return ER_HELP_SHOWN;
      case O_DIR: dir = optarg; break;
      case O_EDGES:
      case O_FEATURES:
      case O_LABELS:
      case O_TRAIN:
      case O_VAL:
      case O_TEST: given[c - O_EDGES] = optarg; break;
      case O_OUT: o.out = optarg; break;
      case O_CLASSES:
        ER_CALL(er_parse_i64(optarg, "import: --classes", 1, INT32_MAX, &o.classes));
        break;
      case ':': ER_CALL(er_bad_option("import", optopt ? optopt : ':', argv[optind - 1])); break;
      default: ER_CALL(er_bad_option("import", 0, argv[optind - 1])); break;
    }
  }
  ER_CHECK(optind == argc, ER_ERR_INPUT, "import: unexpected argument '%s' (see --help)",
           argv[optind]);
  for (int i = 0; i < 6; ++i) {
    if (!given[i] && dir) {
      size_t len = strlen(dir) + strlen(dir_files[i]) + 2;
      ER_MALLOC(from_dir[i], len);
      snprintf(from_dir[i], len, "%s/%s", dir, dir_files[i]);
      given[i] = from_dir[i];
    }
  }
  o.edges = given[0];
  o.features = given[1];
  o.labels = given[2];
  o.train = given[3];
  o.val = given[4];
  o.test = given[5];
  ER_CALL(er_import(comm, &o));
cleanup:
  for (int i = 0; i < 6; ++i) free(from_dir[i]);
  return err;
}

er_err er_cmd_info(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  opterr = 0;
  optind = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    if (c == 'h') {
      er_usage(comm, info_usage);
      return ER_HELP_SHOWN;
    }
    ER_CALL(er_bad_option("info", c == ':' ? ':' : 0, argv[optind - 1]));
  }
  ER_CHECK(argc - optind == 1, ER_ERR_INPUT, "info: expected one argument DATA.h5 (see --help)");
  ER_CALL(er_info(comm, argv[optind]));
cleanup:
  return err;
}
