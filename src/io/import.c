/* import.c: `erase-mpi import` (docs/FORMAT.md): resolve the inputs (single files, --dir with its
 * text or .npy names, or an OGB directory), check the options, then run the stages of
 * import_nodes.c and import_graph.c, where every rank reads its share of every input and writes
 * its block of rows into one HDF5 file under a temporary name; print the summary. It does not
 * partition, normalize features or fix bad input: any problem is a one-line error. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "erase/h5.h"
#include "erase/progress.h"
#include "import_private.h"

/* --dir DIR: the names looked for, in order; the first that exists is taken (the text name when
 * none does, for the error). */
static const char *const dir_names[6][4] = {
    {"graph.edges", "edge_index.npy", NULL},
    {"features.mtx", "features.npy", "x.npy", NULL},
    {"labels.txt", "labels.npy", "y.npy", NULL},
    {"train.idx", "train_idx.npy", "train_mask.npy", NULL},
    {"val.idx", "val_idx.npy", "val_mask.npy", NULL},
    {"test.idx", "test_idx.npy", "test_mask.npy", NULL},
};
static const char *const opt_names[6] = {"--edges", "--features", "--labels",
                                         "--train", "--val",      "--test"};

/* Rank 0: the inputs into c->path and the checks of the options. */
static er_err import_resolve(imp_ctx *c, const er_import_opts *o) {
  er_err err = ER_OK;
  const char *given[6] = {o->edges, o->features, o->labels, o->train, o->val, o->test};
  struct stat so, si;
  if (o->ogb && *o->ogb) {
    ER_CHECK(!o->dir || !*o->dir, ER_ERR_INPUT, "import: --ogb and --dir cannot be combined");
    for (int i = 0; i < 6; ++i)
      ER_CHECK(!given[i] || !*given[i], ER_ERR_INPUT,
               "import: %s cannot be combined with --ogb (every input comes from the OGB "
               "directory)", opt_names[i]);
    ER_CHECK(o->out && *o->out, ER_ERR_INPUT, "import: --out FILE is required");
    ER_CALL(imp_ogb_paths(c, o->ogb, o->ogb_split && *o->ogb_split ? o->ogb_split : NULL));
  } else {
    ER_CHECK(!o->ogb_split || !*o->ogb_split, ER_ERR_INPUT, "import: --ogb-split needs --ogb DIR");
    for (int i = 0; i < 6; ++i) {
      if (given[i] && *given[i]) {
        ER_CHECK(strlen(given[i]) < IMP_PATH, ER_ERR_INPUT, "import: %s is too long", opt_names[i]);
        snprintf(c->path[i], IMP_PATH, "%s", given[i]);
        continue;
      }
      ER_CHECK(o->dir && *o->dir, ER_ERR_INPUT, "import: %s FILE is required (or --dir DIR)",
               opt_names[i]);
      for (int k = 0; dir_names[i][k]; ++k) { /* the first name that exists, else the first */
        char p[IMP_PATH];
        int n = snprintf(p, sizeof p, "%s/%s", o->dir, dir_names[i][k]);
        ER_CHECK(n < IMP_PATH, ER_ERR_INPUT, "import: --dir '%s' is too long", o->dir);
        if (k == 0 || access(p, F_OK) == 0) memcpy(c->path[i], p, (size_t)n + 1);
        if (access(p, F_OK) == 0) break;
      }
    }
    ER_CHECK(o->out && *o->out, ER_ERR_INPUT, "import: --out FILE is required");
  }
  const int nin = c->ogb ? IMP_NFILES : 6;
  const int have_out = stat(o->out, &so) == 0;
  for (int i = 0; i < nin; ++i) {
    const char *what = i < 6 ? opt_names[i] : "node count";
    ER_CHECK(strcmp(c->path[i], o->out) != 0 &&
                 !(have_out && stat(c->path[i], &si) == 0 && si.st_dev == so.st_dev &&
                   si.st_ino == so.st_ino),
             ER_ERR_INPUT, "import: --out '%s' is also the %s input", o->out, what);
  }
  ER_CHECK(o->classes >= 0 && o->classes <= INT32_MAX, ER_ERR_INPUT,
           "import: --classes must be in [1, %d]", INT32_MAX);
cleanup:
  return err;
}

/* The stages of er_import and their shares of its time (measured: a 300K-node text graph with
 * 16 features on 2 ranks), for the progress lines' ETA. */
static const double imp_share[] = {0.42, 0.04, 0.03, 0.45, 0.06};
enum { IMP_NSTAGE = sizeof imp_share / sizeof imp_share[0] };

er_err er_import(MPI_Comm comm, const er_import_opts *opts) {
  er_err err = ER_OK;
  imp_ctx *c = NULL;
  char *tmp = NULL, *source = NULL;
  double t[5], t0 = er_wtime();
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  ER_CALLOC(c, 1);
  ER_CALLOC(source, IMP_PATH + 16);
  c->comm = comm;
  c->rank = rank;
  c->size = size;
  c->fid = -1;
  c->out = opts->out;
  c->ogb = opts->ogb && *opts->ogb;
  c->classes = opts->classes;
  if (rank == 0) {
    err = import_resolve(c, opts);
    if (err == ER_OK) {
      char *abs = realpath(c->path[IMP_EDGES], NULL);
      snprintf(source, IMP_PATH + 16, "import:%s", abs ? abs : c->path[IMP_EDGES]);
      free(abs);
    }
  }
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Bcast(c->path, (int)sizeof c->path, MPI_CHAR, 0, comm));
  ER_AGREE(comm); /* an MPI failure is this rank's: agreed before the next collective */
  ER_CALL_MPI(MPI_Bcast(source, IMP_PATH + 16, MPI_CHAR, 0, comm));
  ER_AGREE(comm);
  /* the room the output needs is checked once its shape is known (imp_features) */
  ER_CALL(er_h5_create(comm, opts->out, &c->fid, &tmp));

  //---- the stages: each reads, routes and writes its datasets ----
  if (c->ogb) ER_CALL(imp_node_count(c));
  double t_last = t0;
  ER_CALL(imp_features(c));
  t[0] = er_wtime();
  er_progress_stage(comm, "import", 0, IMP_NSTAGE, imp_share, "features", t0, &t_last);
  ER_CALL(imp_labels(c));
  t[1] = er_wtime();
  er_progress_stage(comm, "import", 1, IMP_NSTAGE, imp_share, "labels", t0, &t_last);
  ER_CALL(imp_splits(c));
  t[2] = er_wtime();
  er_progress_stage(comm, "import", 2, IMP_NSTAGE, imp_share, "splits", t0, &t_last);
  ER_FREE(c->labels);
  ER_CALL(imp_edges(c));
  t[3] = er_wtime();
  er_progress_stage(comm, "import", 3, IMP_NSTAGE, imp_share, "edges", t0, &t_last);

  ER_CALL(er_agree(comm, er_h5_attr_set_i64(c->fid, "/", "num_nodes", c->n)));
  ER_CALL(er_agree(comm, er_h5_attr_set_i64(c->fid, "/", "num_edges", c->nnz / 2)));
  ER_CALL(er_agree(comm, er_h5_attr_set_i64(c->fid, "/", "num_features", c->f)));
  ER_CALL(er_agree(comm, er_h5_attr_set_i64(c->fid, "/", "num_classes", c->nclass)));
  ER_CALL(er_agree(comm, er_h5_attr_set_str(c->fid, "/", "source", source)));
  err = er_h5_commit(comm, c->fid, opts->out, &tmp);
  c->fid = -1;
  ER_CALL(err);
  t[4] = er_wtime();
  er_progress_stage(comm, "import", 4, IMP_NSTAGE, imp_share, "attributes + commit", t0, &t_last);

  er_log(comm,
         "import: %s -> %s\n"
         "  nodes N=%lld, undirected edges %lld (%lld CSR entries), features F=%lld, "
         "classes K=%lld\n"
         "  splits train/val/test %lld/%lld/%lld\n"
         "  edge entries read %lld: dropped %lld self loops and %lld duplicates "
         "(repeats or reverse copies of an edge)\n"
         "  %d rank%s: features %.3f s, labels %.3f s, splits %.3f s, edges %.3f s, "
         "total %.3f s\n",
         source + strlen("import:"), opts->out, (long long)c->n, (long long)(c->nnz / 2),
         (long long)c->nnz, (long long)c->f, (long long)c->nclass, (long long)c->nsplit[0],
         (long long)c->nsplit[1], (long long)c->nsplit[2], (long long)c->entries,
         (long long)c->self_loops, (long long)c->duplicates, size, size == 1 ? "" : "s",
         t[0] - t0, t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t0);
cleanup:
  err = ER_FINISH(comm);
  if (tmp) er_h5_abort(comm, c ? c->fid : -1, &tmp);
  if (c) free(c->labels);
  if (c) imp_owners_free(&c->owners);
  free(c);
  free(source);
  return err;
}
