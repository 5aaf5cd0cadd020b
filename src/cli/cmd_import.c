/* cmd_import.c: the `import` and `info` commands: their options and --help; the work is
 * er_import (src/io/import.c) and er_info (src/io/dataset.c). */
#include <stdio.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/dataset.h"
#include "erase/h5.h"

#define ER_PATH 4096
typedef struct {
  char dir[ER_PATH], edges[ER_PATH], features[ER_PATH], labels[ER_PATH];
  char train[ER_PATH], val[ER_PATH], test[ER_PATH], out[ER_PATH];
  int64_t classes;
} import_args;

#define A import_args
static const er_opt import_opts[] = {
    ER_OPT_S(A, "dir", dir, "DIR",
             "take DIR/graph.edges, DIR/features.mtx, DIR/labels.txt, DIR/train.idx,\n"
             "DIR/val.idx, DIR/test.idx (the options below override single files)"),
    ER_OPT_S(A, "edges", edges, "FILE",
             "'u v' per line, 0-based ids, '#'/'%' comment lines; or a Matrix Market\n"
             "coordinate adjacency (1-based, pattern/real/integer, general/symmetric)"),
    ER_OPT_S(A, "features", features, "FILE",
             "Matrix Market coordinate or array (real/integer/pattern), N x F;\n"
             "N (its row count) is the number of nodes"),
    ER_OPT_S(A, "labels", labels, "FILE", "one integer per line (N lines), -1 = unknown"),
    ER_OPT_S(A, "train", train, "FILE",
             "one 0-based node id per line; no repeats, no overlap between splits"),
    ER_OPT_S(A, "val", val, "FILE", "as --train"),
    ER_OPT_S(A, "test", test, "FILE", "as --train"),
    ER_OPT_S(A, "out", out, "DATA.h5", "output file (required)"),
    ER_OPT_I(A, "classes", classes, 0, INT32_MAX, "K", "number of classes (0: max label + 1)"),
};
#undef A

static const er_cmd_spec import_spec = {
    .cmd = "import",
    .usage = "usage: erase-mpi import [--dir DIR] [--edges FILE] [--features FILE] [--labels FILE]\n"
             "                        [--train FILE] [--val FILE] [--test FILE] --out DATA.h5\n"
             "                        [--classes K]\n"
             "\n"
             "Convert text files into one HDF5 dataset (layout: docs/FORMAT.md). Parsing runs on\n"
             "rank 0; the output is written under a temporary name and renamed when complete.\n",
    .opts = import_opts,
    .n_opts = (int)(sizeof import_opts / sizeof import_opts[0]),
    .epilog = "The graph is symmetrized; self loops and duplicate edges are dropped and counted.\n",
};

er_err er_cmd_import(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  static import_args a; /* large: not on the stack */
  static const char *const dir_files[6] = {"graph.edges", "features.mtx", "labels.txt",
                                           "train.idx",   "val.idx",      "test.idx"};
  char *files[6] = {a.edges, a.features, a.labels, a.train, a.val, a.test};
  memset(&a, 0, sizeof a);
  ER_CALL(er_opts_parse(comm, &import_spec, &a, argc, argv, NULL, NULL));
  for (int i = 0; i < 6; ++i)
    if (!files[i][0] && a.dir[0]) {
      int n = snprintf(files[i], ER_PATH, "%s/%s", a.dir, dir_files[i]);
      ER_CHECK(n < ER_PATH, ER_ERR_INPUT, "import: --dir '%s' is too long", a.dir);
    }
  er_import_opts o = {.out = a.out[0] ? a.out : NULL, .classes = a.classes};
  const char **slots[6] = {&o.edges, &o.features, &o.labels, &o.train, &o.val, &o.test};
  for (int i = 0; i < 6; ++i) *slots[i] = files[i][0] ? files[i] : NULL;
  ER_CALL(er_import(comm, &o));
cleanup:
  return err;
}

typedef struct {
  int verify;
} info_args;

static const er_opt info_opts[] = {
    ER_OPT_B(info_args, "verify", verify,
             "also recompute every checksum of the file (dataset, checkpoint or run output)\n"
             "and refuse it if one differs; prints what was checked"),
};

static const er_cmd_spec info_spec = {
    .cmd = "info",
    .usage = "usage: erase-mpi info [--verify] FILE.h5\n"
             "\n"
             "Print node/edge/feature/class counts, split sizes, the class histogram, the stored\n"
             "partitions (P, method, edge cut, part sizes) and rank-count independent checksums\n"
             "of the graph and of the features of a dataset. --verify checks any file erase-mpi\n"
             "wrote against the checksums it carries.\n",
    .opts = info_opts,
    .n_opts = 1,
    .max_positional = 1,
};

er_err er_cmd_info(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  char *pos[1];
  int n_pos;
  info_args a = {0};
  hid_t fid = -1;
  ER_CALL(er_opts_parse(comm, &info_spec, &a, argc, argv, pos, &n_pos));
  ER_CHECK(n_pos == 1, ER_ERR_INPUT, "info: expected one argument DATA.h5 (see --help)");
  if (a.verify) {
    int checked, unsealed, whole, is_dataset;
    ER_CALL(er_h5_open(comm, pos[0], 0, &fid));
    is_dataset = er_h5_has_attr(fid, "/", "num_edges") && er_h5_has_attr(fid, "/", "num_features");
    er_h5_close(&fid);
    if (is_dataset) ER_CALL(er_info(comm, pos[0]));
    ER_CALL(er_h5_verify_file(comm, pos[0], &checked, &unsealed, &whole));
    er_log(comm, "verified    %d datasets match their checksums%s%s\n", checked,
           whole ? ", and the whole-file checksum" : "",
           unsealed ? " (some datasets carry no checksum: written by another tool)" : "");
  } else {
    ER_CALL(er_info(comm, pos[0]));
  }
cleanup:
  er_h5_close(&fid);
  return err;
}
