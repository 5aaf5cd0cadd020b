/* part_internal.h: what partition.c and ptscotch.c share, private to partition/: the per-part
 * report both partitioners fill, and the distributed PT-Scotch partitioner. */
#ifndef ERASE_PART_INTERNAL_H
#define ERASE_PART_INTERNAL_H

#include "erase/partition.h"

/* Per-part facts (P entries each); complete on rank 0 (METIS, block) or every rank (PT-Scotch). */
typedef struct {
  int64_t *size;       /* (P) nodes owned */
  int64_t *nnz;        /* (P) CSR entries of the owned rows */
  int64_t *ghosts;     /* (P) distinct off-part neighbours of the part's nodes */
  int64_t min_size;
  int64_t n, nnz_total; /* N, 2E */
  int64_t empty_fixed;  /* parts the partitioner left empty that got one node moved in */
  int64_t *try_ghosts;  /* (ntries) PT-Scotch: each try's total ghosts; NULL for METIS, block */
  int ntries, best_try; /* PT-Scotch: the tries made and the one kept */
  double t_read, t_part, t_measure;
} er_part_report;

void er_part_report_free(er_part_report *rep);
/* The stats of a complete report: cut is the measured edge cut. Not collective. */
void er_part_report_stats(er_part_report *rep, int parts, int64_t cut, er_part_stats *st);

/* Collective. PT-Scotch k-way as o says (o->ncuts >= 1 tries, the one with the fewest total
 * ghosts kept): every rank reads rows [*lo, *lo + *nloc) of the graph at path
 * (er_block_range), and receives their owners in *owner (allocated here, caller frees). rep's
 * arrays (allocated here) and st are complete and equal on every rank. */
er_err er_part_ptscotch(MPI_Comm comm, const char *path, const er_part_opts *o, int64_t *lo,
                        int64_t *nloc, int32_t **owner, er_part_report *rep, er_part_stats *st);

/* The seed of PT-Scotch's try t of --ncuts (t = 0: seed itself). Not collective. */
uint64_t er_part_try_seed(uint64_t seed, int t);

#endif
