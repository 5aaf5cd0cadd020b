/* halo.h: the halo plan of a distributed graph, built once, and split-phase exchanges over any
 * number of columns. Forward: owner rows -> ghost copies. Reverse: ghost contributions summed
 * into owner rows. Patterns need not be symmetric: the plan is built by explicit requests.
 * A plan runs one exchange at a time (begin ... end). */
#ifndef ERASE_HALO_H
#define ERASE_HALO_H

#include "erase/bf16.h"
#include "erase/core.h"
#include "erase/mem.h"

typedef struct er_halo er_halo;

/* Collective. own_gid (n_own, distinct, any order; ascending saves a sorted copy) are this
 * rank's rows; ghost_gid/ghost_owner (n_ghost) are the ghost columns, grouped by ascending owner
 * (any order within an owner: its rows arrive in that order) and numbered n_own ..
 * n_own+n_ghost-1. */
er_err er_halo_create(MPI_Comm comm, er_lidx n_own, const int64_t *own_gid, er_lidx n_ghost,
                      const int64_t *ghost_gid, const int *ghost_owner, er_halo **halo);
/* Collective. A forward-only plan for a few of the ghost rows of a larger numbering: ghost k
 * (ghost_gid, ghost_owner as above) arrives in row ghost_row[k] of x instead of n_own + k, and
 * both sides send and receive the rows in place through MPI derived datatypes (no packing
 * buffer). For exchanges that need a small part of a halo (the evaluation's rows); a reverse
 * exchange on it is refused. */
er_err er_halo_create_rows(MPI_Comm comm, er_lidx n_own, const int64_t *own_gid,
                           er_lidx n_ghost, const int64_t *ghost_gid, const int *ghost_owner,
                           const er_lidx *ghost_row, er_halo **halo);
void er_halo_destroy(er_halo **halo);

/* x is (n_own + n_ghost, ncols) row-major of type (any fixed-size type: MPI_FLOAT, MPI_DOUBLE,
 * or MPI_UINT16_T for bf16 rows, erase/bf16.h: the messages carry the type's bytes). */
er_err er_halo_forward_begin(er_halo *h, void *x, int ncols, MPI_Datatype type);
er_err er_halo_forward_end(er_halo *h);
/* Reverse: send ghost rows of x (MPI_FLOAT or MPI_DOUBLE); at end, owner rows of x += received
 * contributions. The ghost rows of x are left unchanged. The bf16 form sends ghost (n_ghost,
 * ncols), the ghost rows' contributions in bf16 (half the bytes), and at end adds them, widened
 * to float, into the owner rows of the float x (n_own + n_ghost, ncols). */
er_err er_halo_reverse_begin(er_halo *h, void *x, int ncols, MPI_Datatype type);
er_err er_halo_reverse_begin_bf16(er_halo *h, const er_bf16 *ghost, float *x, int ncols);
er_err er_halo_reverse_end(er_halo *h);

/* Plan facts: neighbours, rows sent and received per exchange, cumulative bytes moved and
 * seconds spent waiting in *_end (for the communication column of the logs). */
typedef struct {
  int n_send_ranks, n_recv_ranks;
  int64_t send_rows, recv_rows;
  double bytes_sent; /* cumulative */
  double wait_s;     /* cumulative seconds in *_end and packing */
} er_halo_stats;
void er_halo_get_stats(const er_halo *h, er_halo_stats *s);

/* Memory model (erase/mem.h) of halo.c's buffer tables: the plan a rank keeps (without the
 * packing buffer), the packing buffer grown to rows of row bytes (the widest exchange), and
 * what er_halo_create holds while it runs. */
double er_halo_bytes(const er_mem_counts *c);
double er_halo_buffer_bytes(const er_mem_counts *c, double row);
double er_halo_create_extra(const er_mem_counts *c);

#endif
