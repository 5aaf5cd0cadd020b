/* cmd_partition.c: `erase-mpi partition`: parse options and run er_partition.
 * Parsing only; reading, partitioning and writing live in partition/partition.c. */
#include <getopt.h>
#include <limits.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/partition.h"

static const char *partition_usage =
    "usage: erase-mpi partition --data DATA.h5 --parts P [--method metis|block] [--seed S]\n"
    "\n"
    "Assign every node of DATA.h5 to one of P parts (the owner ranks of a P-rank run) and\n"
    "store the assignment as /partitions/<P> inside DATA.h5, replacing an older one for the\n"
    "same P; partitions for other P are kept.\n"
    "\n"
    "  --data DATA.h5   dataset written by import or generate (opened read-write)\n"
    "  --parts P        number of parts, 1 <= P <= number of nodes\n"
    "  --method M       metis (default): METIS k-way minimizing the edge cut, run on rank 0\n"
    "                   (graphs up to 2^31-1 nodes and directed edges);\n"
    "                   block: contiguous id ranges of (nearly) equal size\n"
    "  --seed S         METIS random seed, integer >= 0 (default 0)\n"
    "  -h, --help       this text\n"
    "\n"
    "Prints the edge cut, part sizes, ghost nodes per part and the time.\n";

er_err er_cmd_partition(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  const char *data = NULL, *parts_s = NULL;
  int64_t parts = 0, seed = 0;
  er_part_method method = ER_PART_METIS;
  static const struct option longopts[] = {{"data", required_argument, NULL, 'd'},
                                           {"parts", required_argument, NULL, 'p'},
                                           {"method", required_argument, NULL, 'm'},
                                           {"seed", required_argument, NULL, 's'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  optind = 0; /* glibc: full re-initialization, the command may run more than once */
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, "+h", longopts, NULL);
    if (c == -1) break;
    switch (c) {
      case 'd': data = optarg; break;
      case 'p': parts_s = optarg; break;
      case 'm':
        if (!strcmp(optarg, "metis")) method = ER_PART_METIS;
        else if (!strcmp(optarg, "block")) method = ER_PART_BLOCK;
        else
          ER_CHECK(0, ER_ERR_INPUT, "partition: unknown --method '%s' (use metis or block)",
                   optarg);
        break;
      case 's': ER_CALL(er_parse_i64(optarg, "--seed", 0, INT64_MAX, &seed)); break;
      case 'h': er_usage(comm, partition_usage); return ER_HELP_SHOWN;
      default: return er_bad_option("partition", optopt, argv[optind - 1]);
    }
  }
  ER_CHECK(optind == argc, ER_ERR_INPUT, "partition: unexpected argument '%s' (see --help)",
           argv[optind]);
  ER_CHECK(data, ER_ERR_INPUT, "partition: --data DATA.h5 is required");
  ER_CHECK(parts_s, ER_ERR_INPUT, "partition: --parts P is required");
  ER_CALL(er_parse_i64(parts_s, "--parts", INT64_MIN, INT64_MAX, &parts));
  ER_CHECK(parts >= 1 && parts <= INT_MAX, ER_ERR_INPUT,
           "partition: --parts must be between 1 and the number of nodes (got %lld)",
           (long long)parts);
  ER_CALL(er_partition(comm, data, (int)parts, method, (uint64_t)seed, NULL));
cleanup:
  return err;
}
