/* cmd_partition.c: `erase-mpi partition`: options and --help; reading, partitioning and
 * writing live in partition/partition.c. */
#include <limits.h>
#include <stdio.h>

#include "erase/cli.h"
#include "erase/partition.h"

static const char *const method_names[] = {"metis", "block"}; /* er_part_method */
static const er_enum_names methods = ER_ENUM_NAMES(method_names);

typedef struct {
  char data[4096];
  int64_t parts, seed;
  er_part_method method;
} partition_args;

#define A partition_args
static const er_opt partition_opts[] = {
    ER_OPT_S(A, "data", data, "DATA.h5", "dataset written by import or generate (opened read-write)"),
    ER_OPT_I(A, "parts", parts, 1, INT_MAX, "P", "number of parts, 1 <= P <= number of nodes (required)"),
    ER_OPT_E(A, "method", method, methods,
             "metis: METIS k-way minimizing the edge cut, run on rank 0 (graphs\n"
             "up to 2^31-1 nodes and directed edges); block: contiguous id ranges\n"
             "of (nearly) equal size"),
    ER_OPT_I(A, "seed", seed, 0, INT64_MAX, "S", "METIS random seed"),
};
#undef A

static const er_cmd_spec partition_spec = {
    .cmd = "partition",
    .usage = "usage: erase-mpi partition --data DATA.h5 --parts P [--method metis|block] [--seed S]\n"
             "\n"
             "Assign every node of DATA.h5 to one of P parts (the owner ranks of a P-rank run) and\n"
             "store the assignment as /partitions/<P> inside DATA.h5, replacing an older one for\n"
             "the same P; partitions for other P are kept.\n",
    .opts = partition_opts,
    .n_opts = (int)(sizeof partition_opts / sizeof partition_opts[0]),
    .epilog = "Prints the edge cut, part sizes, ghost nodes per part and the time.\n",
};

er_err er_cmd_partition(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  partition_args a = {.method = ER_PART_METIS};
  _Static_assert(sizeof(er_part_method) == sizeof(int), "enum options are stored as int");
  ER_CALL(er_opts_parse(comm, &partition_spec, &a, argc, argv, NULL, NULL));
  ER_CHECK(a.data[0], ER_ERR_INPUT, "partition: --data DATA.h5 is required");
  ER_CHECK(a.parts > 0, ER_ERR_INPUT, "partition: --parts P is required");
  ER_CALL(er_partition(comm, a.data, (int)a.parts, a.method, (uint64_t)a.seed, NULL));
cleanup:
  return err;
}
