/* estimate.h: the per-rank peak memory of `erase-mpi train`, step by step, from the buffer tables
 * of the modules (erase/mem.h) evaluated on one rank's counts, plus the runtime; and models of
 * the peak of `import` and `partition` (METIS on rank 0, or PT-Scotch's
 * distributed graph). benchmarks/bench_memory.sh and benchmarks/RESULTS.md check the training
 * model against measured peak RSS. Not collective. */
#ifndef ERASE_ESTIMATE_H
#define ERASE_ESTIMATE_H

#include "erase/mem.h"

/* The steps of a training run in the order they run; each is the bytes live at its largest
 * moment, runtime included. */
enum {
  ER_MEM_GRAPH,     /* dataset block read, row exchange, ghost numbering, halo plan */
  ER_MEM_NORMALIZE, /* raw and normalized features side by side */
  ER_MEM_NOISE,     /* label noise */
  ER_MEM_DENOISE,   /* the denoising propagation */
  ER_MEM_BUILD,     /* encoder, semantic labels, loss, probe (planning its rows), state, Adam */
  ER_MEM_EPOCH,     /* an epoch: the steady state and its largest transient (the probe) */
  ER_MEM_OUTPUT,    /* writing --out: backward scratch freed, rows moved to blocks */
  ER_MEM_NSTEP
};
extern const char *const er_mem_step_names[ER_MEM_NSTEP];

typedef struct {
  double step[ER_MEM_NSTEP];
  double tables[ER_MEM_NSTEP]; /* the buffer tables' part of each step */
  double runtime;  /* resident set of the binary, its libraries, MPI and HDF5 (measured) */
  double blas;     /* OpenBLAS's GEMM buffer as the epoch's products touch it (measured) */
  double tables_train, tables_out; /* the tables' peak without and with --out */
  double setup;    /* max over the steps before the first epoch */
  double setup_resident; /* the same without the build step, whose buffers stay untouched (not
                            resident) until the first epoch writes them */
  double train;    /* peak of a run without --out */
  double with_out; /* peak of a run with --out */
  int sparse;      /* layer 1 reads the input as CSR */
} er_mem_train;

/* Not collective. c: the run's shape and one rank's counts (erase/mem.h). */
void er_mem_train_model(const er_mem_counts *c, er_mem_train *m);

/* Halo bytes a rank receives per epoch per ghost row (forward of h1 and a1 in the training and
 * the evaluation forward, reverse of both layers' gradients, in bf16 when c->gather_bf16; T
 * semantic-propagation steps of K doubles). */
double er_mem_halo_row_bytes(const er_mem_counts *c, int T);

/* `erase-mpi import` as it runs (each rank reads 1/P of every file, routes its edges to the
 * row-block owners in rounds, builds its block's CSR): the peak of one rank. */
double er_mem_import(const er_mem_counts *c);
/* `erase-mpi partition`: METIS on rank 0 (the whole CSR as 64-bit arrays read, then as 32-bit
 * idx_t for METIS, owners, METIS's own work space), and PT-Scotch on every rank (its block of
 * the distributed graph, work space taken as METIS's: a lower bound, since PT-Scotch also
 * gathers its coarsest graphs on every rank, see benchmarks/RESULTS.md). */
double er_mem_partition_metis(const er_mem_counts *c);
double er_mem_partition_ptscotch(const er_mem_counts *c);

/* Default ghost rows per owned row for a part count P (sizes-only estimates): interpolated in
 * log P over METIS partitions of the 1M-node CSBM (benchmarks/RESULTS.md) and capped by the
 * rows and entries a rank can reach. */
double er_mem_ghost_fraction(int64_t P);

#endif
