/* cmd_partition.c: `erase-mpi partition`: options and --help; reading, partitioning and
 * storing live in partition/ and src/io/partfile.c. */
#include <limits.h>
#include <stdio.h>

#include "erase/cli.h"
#include "erase/partition.h"

static const char *const method_names[] = {"metis", "block", "ptscotch"}; /* er_part_method */
static const er_enum_names methods = ER_ENUM_NAMES(method_names);
static const char *const objective_names[] = {"cut", "vol"}; /* er_part_objective */
static const er_enum_names objectives = ER_ENUM_NAMES(objective_names);
static const char *const weights_names[] = {"none", "degree"}; /* er_part_weights */
static const er_enum_names weightings = ER_ENUM_NAMES(weights_names);

typedef struct {
  char data[4096];
  int64_t parts, seed, ncuts;
  er_part_method method;
  er_part_objective objective;
  er_part_weights weights;
} partition_args;

#define A partition_args
static const er_opt partition_opts[] = {
    ER_OPT_S(A, "data", data, "DATA.h5", "dataset written by import or generate (only read)"),
    ER_OPT_I(A, "parts", parts, 1, INT_MAX, "P", "number of parts, 1 <= P <= number of nodes (required)"),
    ER_OPT_E(A, "method", method, methods,
             "metis: METIS k-way on rank 0, which holds the whole graph (up to\n"
             "2^31-1 nodes and directed edges); ptscotch: PT-Scotch k-way on all\n"
             "ranks, each holding only its block of rows (any P on any rank\n"
             "count; the result depends on the rank count); block: contiguous id\n"
             "ranges of (nearly) equal size"),
    ER_OPT_E(A, "objective", objective, objectives,
             "cut: minimize the edge cut; vol (metis only): minimize the total\n"
             "communication volume, which is the total ghost count, i.e. the halo\n"
             "rows a training epoch exchanges"),
    ER_OPT_E(A, "weights", weights, weightings,
             "vertex weights balanced across parts: none (node counts) or degree\n"
             "(1 + degree: a rank's rows plus its edges)"),
    ER_OPT_I(A, "seed", seed, 0, INT64_MAX, "S", "random seed of METIS or PT-Scotch"),
    ER_OPT_I(A, "ncuts", ncuts, 1, ER_PART_NCUTS_MAX, "N",
             "compute N partitionings and keep the best (metis: METIS_OPTION_NCUTS,\n"
             "the best --objective wins; ptscotch: try t is the partition of seed\n"
             "S + 2t, the fewest total ghosts win); N times the partitioning time;\n"
             "block: 1 only"),
};
#undef A

static const er_cmd_spec partition_spec = {
    .cmd = "partition",
    .usage = "usage: erase-mpi partition --data DATA.h5 --parts P [--method metis|ptscotch|block]\n"
             "       [--objective cut|vol] [--weights none|degree] [--seed S] [--ncuts N]\n"
             "\n"
             "Assign every node of DATA.h5 to one of P parts (the owner ranks of a P-rank run)\n"
             "and store the assignment as /partitions/<P> in DATA.partitions.h5 beside it,\n"
             "replacing an older one for the same P; partitions for other P are kept. DATA.h5\n"
             "is never modified. The sidecar is replaced atomically under a lock\n"
             "(DATA.partitions.h5.lock): a failure leaves the previous one intact, and\n"
             "concurrent runs take turns.\n",
    .opts = partition_opts,
    .n_opts = (int)(sizeof partition_opts / sizeof partition_opts[0]),
    .epilog = "Prints the edge cut, part sizes, ghost nodes and work per part and the time.\n",
};

er_err er_cmd_partition(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  partition_args a = {
      .method = ER_PART_METIS, .objective = ER_PART_OBJ_CUT, .weights = ER_PART_WEIGHTS_NONE,
      .ncuts = 1};
  _Static_assert(sizeof(er_part_method) == sizeof(int), "enum options are stored as int");
  _Static_assert(sizeof(er_part_objective) == sizeof(int), "enum options are stored as int");
  _Static_assert(sizeof(er_part_weights) == sizeof(int), "enum options are stored as int");
  err = er_opts_parse(comm, &partition_spec, &a, argc, argv, NULL, NULL);
  if (err == ER_HELP_SHOWN) goto cleanup; /* on every rank alike */
  if (err == ER_OK && !a.data[0])
    err = ER_ERROR(ER_ERR_INPUT, "partition: --data DATA.h5 is required");
  if (err == ER_OK && a.parts <= 0)
    err = ER_ERROR(ER_ERR_INPUT, "partition: --parts P is required");
  ER_AGREE(comm); /* parsing may fail on one rank alone (an allocation) */
  er_part_opts o = {.parts = (int)a.parts, .method = a.method, .objective = a.objective,
                    .weights = a.weights, .seed = (uint64_t)a.seed, .ncuts = (int)a.ncuts};
  ER_CALL(er_partition_run(comm, a.data, &o, NULL));
cleanup:
  return err;
}
