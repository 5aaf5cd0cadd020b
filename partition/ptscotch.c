/* ptscotch.c: distributed k-way partitioning with PT-Scotch. Every rank reads only its row block
 * of the graph, checks it, hands it to SCOTCH_dgraphBuild as it is, partitions it into any
 * number of parts (--ncuts times with different seeds, keeping the fewest ghosts) and measures
 * cut, sizes and ghosts with one halo exchange of part numbers per try. Neither the graph nor
 * the partition is ever gathered on one rank.
 *
 * The native API (SCOTCH_dgraphBuild + SCOTCH_dgraphPart) rather than the ParMETIS shim
 * (SCOTCH_ParMETIS_V3_PartKway): it takes the block CSR without a copy and any part count on
 * any rank count, and only it exposes what makes the result reproducible and comparable: a
 * context with its own seeded random generator in deterministic mode, one thread per rank, and
 * the strategy's imbalance tolerance (set to METIS's 3%). Errors come back as return codes
 * whose text PT-Scotch hands to SCOTCH_errorPrint, defined here. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* ptscotch.h needs stdio.h and stdint.h first */
#include <ptscotch.h>

#include "erase/dataset.h"
#include "erase/h5.h"
#include "erase/sort.h"
#include "part_internal.h"

_Static_assert(sizeof(SCOTCH_Num) == 4 || sizeof(SCOTCH_Num) == 8,
               "SCOTCH_Num is neither 32 nor 64 bits");
#define PS_H5_NUM (sizeof(SCOTCH_Num) == 8 ? H5T_NATIVE_INT64 : H5T_NATIVE_INT32)
#define PS_MPI_NUM (sizeof(SCOTCH_Num) == 8 ? MPI_INT64_T : MPI_INT32_T)
#define PS_KBAL 0.03 /* imbalance tolerance: METIS's default (ufactor 30) */

//---- PT-Scotch's error reporting ---------------------------------------------------------------

/* PT-Scotch reports through these three functions (its libptscotcherr prints to stderr). Ours,
 * resolved before the library's, keep the first message of a failing call for our error line
 * and print nothing: the names are PT-Scotch's, not ours to choose. */
static char ps_msg[512];

void SCOTCH_errorProg(const char *const name) { (void)name; }

void SCOTCH_errorPrint(const char *const fmt, ...) {
  if (ps_msg[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ps_msg, sizeof ps_msg, fmt, ap);
  va_end(ap);
}

void SCOTCH_errorPrintW(const char *const fmt, ...) { (void)fmt; }

/* A PT-Scotch call that returns 0 on success; its failure is agreed at once, because the next
 * call is collective and PT-Scotch does not promise the same verdict on every rank. */
#define PS_CALL(comm, name, call)                                                           \
  do {                                                                                       \
    ps_msg[0] = '\0';                                                                        \
    int ps_rc_ = (call);                                                                     \
    if (ps_rc_ == 0 && er_fault(ER_FAULT_LIB)) ps_rc_ = -1; /* on one rank only */           \
    if (ps_rc_ != 0)                                                                         \
      err = ER_ERROR(ER_ERR_LIB, "PT-Scotch %s failed (code %d)%s%s", name, ps_rc_,         \
                     ps_msg[0] ? ": " : "", ps_msg);                                         \
    ER_AGREE(comm);                                                                          \
  } while (0)

//---- reading and checking the row block ------------------------------------------------------

/* This rank's slice of /graph/indptr (rows lo .. lo + nloc, one more entry than rows) against
 * the dataset's contract, with er_csr_read's messages. Not collective. */
static er_err ps_check_indptr(int64_t lo, int64_t nloc, int64_t n, int64_t nnz,
                              const SCOTCH_Num *vert) {
  er_err err = ER_OK;
  if (lo == 0)
    ER_CHECK(vert[0] == 0, ER_ERR_INPUT, "%s[0] is %lld, expected 0", ER_DS_INDPTR,
             (long long)vert[0]);
  ER_CHECK(vert[0] >= 0 && vert[0] <= nnz, ER_ERR_INPUT,
           "%s is not non-decreasing within [0, %lld] at row %lld", ER_DS_INDPTR,
           (long long)nnz, (long long)lo);
  for (int64_t i = 0; i < nloc; ++i)
    ER_CHECK(vert[i + 1] >= vert[i] && vert[i + 1] <= nnz, ER_ERR_INPUT,
             "%s is not non-decreasing within [0, %lld] at row %lld", ER_DS_INDPTR,
             (long long)nnz, (long long)(lo + i));
  if (lo + nloc == n)
    ER_CHECK(vert[nloc] == nnz, ER_ERR_INPUT, "%s ends at %lld but %s has %lld entries",
             ER_DS_INDPTR, (long long)vert[nloc], ER_DS_INDICES, (long long)nnz);
cleanup:
  return err;
}

static uint64_t ps_mix(uint64_t x) { /* splitmix64 finalizer */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* The rows' columns (vert local offsets, edge global ids): in [0, n), no self loop, strictly
 * ascending. sym[0..1] count the entries above / below the diagonal, sym[2..3] sum a hash of
 * each as the pair (min, max): over the whole graph they agree exactly when every entry has its
 * reverse (given no duplicates), which one reduction checks. Not collective. */
static er_err ps_check_rows(int64_t lo, int64_t nloc, int64_t n, const SCOTCH_Num *vert,
                            const SCOTCH_Num *edge, uint64_t sym[4]) {
  er_err err = ER_OK;
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t u = lo + i;
    for (SCOTCH_Num k = vert[i]; k < vert[i + 1]; ++k) {
      int64_t v = edge[k];
      ER_CHECK(v >= 0 && v < n, ER_ERR_INPUT, "%s: row %lld has neighbour %lld outside [0, %lld)",
               ER_DS_INDICES, (long long)u, (long long)v, (long long)n);
      ER_CHECK(v != u, ER_ERR_INPUT, "%s: row %lld has a self loop", ER_DS_INDICES,
               (long long)u);
      ER_CHECK(k == vert[i] || edge[k - 1] < v, ER_ERR_INPUT,
               "%s: row %lld is not strictly ascending (unsorted or duplicate neighbour %lld)",
               ER_DS_INDICES, (long long)u, (long long)v);
      int up = v > u;
      uint64_t a = (uint64_t)(up ? u : v), b = (uint64_t)(up ? v : u);
      sym[up ? 0 : 1] += 1;
      sym[up ? 2 : 3] += ps_mix(ps_mix(a) ^ b);
    }
  }
cleanup:
  return err;
}

//---- measuring -----------------------------------------------------------------------------

/* Sizes, CSR entries and ghosts per part and the edge cut, over this rank's rows; partgst holds
 * the parts of the local vertices then of the ghosts (edgegst numbers them), stamp (P) is
 * scratch. Node v is a ghost of part q != part(v) when some neighbour of v lies in q: each
 * (v, q) pair is counted once, from v's own row. acc = [size (P), nnz (P), ghosts (P), cut]. */
static void ps_measure_local(int64_t lo, int64_t nloc, const SCOTCH_Num *vert,
                             const SCOTCH_Num *edge, const SCOTCH_Num *edgegst,
                             const SCOTCH_Num *partgst, int P, int64_t *stamp, int64_t *acc) {
  int64_t *size = acc, *nnz = acc + P, *ghosts = acc + 2 * (int64_t)P, cut = 0;
  memset(acc, 0, (size_t)(3 * (int64_t)P + 1) * sizeof *acc);
  for (int p = 0; p < P; ++p) stamp[p] = -1;
  for (int64_t i = 0; i < nloc; ++i) {
    SCOTCH_Num pv = partgst[i];
    size[pv] += 1;
    nnz[pv] += vert[i + 1] - vert[i];
    for (SCOTCH_Num k = vert[i]; k < vert[i + 1]; ++k) {
      SCOTCH_Num pu = partgst[edgegst[k]];
      if (pu == pv) continue;
      if (edge[k] > lo + i) ++cut;
      if (stamp[pu] != i) {
        stamp[pu] = i;
        ++ghosts[pu];
      }
    }
  }
  acc[3 * (int64_t)P] = cut;
}

/* Collective. Exchange the ghosts' parts (PT-Scotch's halo), count locally, sum over ranks. */
static er_err ps_measure(MPI_Comm comm, SCOTCH_Dgraph *dg, int64_t lo, int64_t nloc,
                         const SCOTCH_Num *vert, const SCOTCH_Num *edge, const SCOTCH_Num *part,
                         int P, SCOTCH_Num *partgst, int64_t *stamp, int64_t *acc,
                         er_part_report *rep, int64_t *cut) {
  er_err err = ER_OK;
  SCOTCH_Num *edgegst = NULL;
  memcpy(partgst, part, (size_t)nloc * sizeof *partgst);
  PS_CALL(comm, "SCOTCH_dgraphHalo", SCOTCH_dgraphHalo(dg, partgst, PS_MPI_NUM));
  SCOTCH_dgraphData(dg, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                    NULL, &edgegst, NULL, NULL);
  ps_measure_local(lo, nloc, vert, edge, edgegst, partgst, P, stamp, acc);
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, acc, 3 * P + 1, MPI_INT64_T, MPI_SUM, comm));
  ER_AGREE(comm);
  memcpy(rep->size, acc, (size_t)P * sizeof *acc);
  memcpy(rep->nnz, acc + P, (size_t)P * sizeof *acc);
  memcpy(rep->ghosts, acc + 2 * (int64_t)P, (size_t)P * sizeof *acc);
  *cut = acc[3 * (int64_t)P];
cleanup:
  return err;
}

/* Collective. PT-Scotch may leave a part empty (tiny or disconnected graphs). Every rank must
 * own a node, so move the lowest-numbered node of the currently largest part into each empty
 * part, as partition.c does for METIS. size (P) is complete on every rank. */
static er_err ps_fill_empty(MPI_Comm comm, int64_t lo, int64_t nloc, int P, SCOTCH_Num *part,
                            int64_t *size, int64_t *fixed) {
  er_err err = ER_OK;
  for (int p = 0; p < P; ++p) {
    if (size[p] > 0) continue;
    int big = 0;
    for (int q = 1; q < P; ++q)
      if (size[q] > size[big]) big = q;
    int64_t first = INT64_MAX;
    for (int64_t i = 0; i < nloc && first == INT64_MAX; ++i)
      if (part[i] == big) first = lo + i;
    ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT64_T, MPI_MIN, comm));
    ER_AGREE(comm);
    if (first >= lo && first < lo + nloc) part[first - lo] = p;
    --size[big];
    ++size[p];
    ++*fixed;
  }
cleanup:
  return err;
}

//---- the partitioner -------------------------------------------------------------------------

uint64_t er_part_try_seed(uint64_t seed, int t) { return seed + 2 * (uint64_t)t; }

er_err er_part_ptscotch(MPI_Comm comm, const char *path, const er_part_opts *o, int64_t *lo_out,
                        int64_t *nloc_out, int32_t **owner_out, er_part_report *rep,
                        er_part_stats *st) {
  er_err err = ER_OK;
  int rank, size, nd, dg_up = 0, strat_up = 0, ctx_up = 0;
  const int P = o->parts;
  hid_t fid = -1;
  SCOTCH_Num *vert = NULL, *edge = NULL, *velo = NULL, *part = NULL, *best = NULL;
  SCOTCH_Num *partgst = NULL;
  int64_t *stamp = NULL, *acc = NULL, *best_acc = NULL, dims_p[2], dims_i[2], lo, hi, cut = 0;
  int32_t *owner = NULL;
  SCOTCH_Dgraph dg, bound;
  SCOTCH_Strat strat;
  SCOTCH_Context ctx;
  double t0 = er_wtime();
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  *owner_out = NULL;

  // ---- shapes and limits (file metadata: every rank reaches the same verdict) ----
  ER_CALL(er_h5_open(comm, path, 0, &fid));
  ER_CHECK(er_h5_exists(fid, ER_DS_INDPTR) && er_h5_exists(fid, ER_DS_INDICES), ER_ERR_INPUT,
           "'%s' holds no graph (%s or %s is missing)", path, ER_DS_INDPTR, ER_DS_INDICES);
  ER_CALL(er_h5_shape(fid, ER_DS_INDPTR, &nd, dims_p));
  ER_CHECK(nd == 1 && dims_p[0] >= 1, ER_ERR_INPUT, "'%s': %s must be 1-D with N+1 >= 1 entries",
           path, ER_DS_INDPTR);
  ER_CALL(er_h5_shape(fid, ER_DS_INDICES, &nd, dims_i));
  ER_CHECK(nd == 1, ER_ERR_INPUT, "'%s': %s must be 1-D", path, ER_DS_INDICES);
  const int64_t n = dims_p[0] - 1, nnz = dims_i[0];
  ER_CHECK(P <= n, ER_ERR_INPUT,
           "cannot split %lld nodes into %d parts: parts must be between 1 and N", (long long)n, P);
  int64_t load = o->weights == ER_PART_WEIGHTS_DEGREE ? n + nnz : n;
  ER_CHECK(n <= SCOTCH_NUMMAX && nnz <= SCOTCH_NUMMAX && load <= SCOTCH_NUMMAX, ER_ERR_INPUT,
           "graph too large for PT-Scotch's %d-bit SCOTCH_Num (N=%lld, 2E=%lld%s); use a "
           "PT-Scotch built with 64-bit integers or --method block",
           (int)(8 * sizeof(SCOTCH_Num)), (long long)n, (long long)nnz,
           load > n ? ", and N + 2E as the total vertex weight" : "");
  er_block_range(n, size, rank, &lo, &hi);
  const int64_t nloc = hi - lo;
  rep->n = n;
  rep->nnz_total = nnz;

  // ---- this rank's rows, checked (the symmetry by one reduction) ----
  ER_MALLOC(vert, nloc + 1);
  ER_AGREE(comm);
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDPTR, PS_H5_NUM, lo, nloc + 1, vert));
  err = ps_check_indptr(lo, nloc, n, nnz, vert);
  const int64_t e0 = err == ER_OK ? vert[0] : 0, ne = err == ER_OK ? vert[nloc] - vert[0] : 0;
  if (err == ER_OK) ER_MALLOC(edge, ne);
  ER_AGREE(comm);
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDICES, PS_H5_NUM, e0, ne, edge));
  er_h5_close(&fid);
  for (int64_t i = 0; i <= nloc; ++i) vert[i] -= (SCOTCH_Num)e0;
  uint64_t sym[4] = {0, 0, 0, 0};
  err = ps_check_rows(lo, nloc, n, vert, edge, sym);
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, sym, 4, MPI_UINT64_T, MPI_SUM, comm));
  ER_AGREE(comm);
  ER_CHECK(sym[0] == sym[1] && sym[2] == sym[3], ER_ERR_INPUT,
           "graph is not symmetric: some entry of %s has no reverse (%llu entries above the "
           "diagonal, %llu below)",
           ER_DS_INDICES, (unsigned long long)sym[0], (unsigned long long)sym[1]);
  rep->t_read = er_wtime() - t0;

  // ---- partition: o->ncuts tries, try t seeded from --seed + 2t, the fewest ghosts kept ----
  t0 = er_wtime();
  const int ntries = P == 1 ? 1 : o->ncuts;
  if (o->weights == ER_PART_WEIGHTS_DEGREE) {
    ER_MALLOC(velo, nloc);
    for (int64_t i = 0; i < nloc; ++i) velo[i] = 1 + vert[i + 1] - vert[i];
  }
  ER_MALLOC(part, nloc);
  if (ntries > 1) ER_MALLOC(best, nloc);
  ER_MALLOC(rep->size, P);
  ER_MALLOC(rep->nnz, P);
  ER_MALLOC(rep->ghosts, P);
  ER_MALLOC(rep->try_ghosts, ntries);
  ER_MALLOC(stamp, P);
  ER_MALLOC(acc, 3 * (int64_t)P + 1);
  ER_MALLOC(best_acc, 3 * (int64_t)P + 1);
  ER_AGREE(comm);
  rep->ntries = ntries;
  PS_CALL(comm, "SCOTCH_dgraphInit", SCOTCH_dgraphInit(&dg, comm));
  dg_up = 1;
  PS_CALL(comm, "SCOTCH_dgraphBuild",
          SCOTCH_dgraphBuild(&dg, 0, (SCOTCH_Num)nloc, (SCOTCH_Num)nloc, vert, vert + 1, velo,
                             NULL, (SCOTCH_Num)ne, (SCOTCH_Num)ne, edge, NULL, NULL));
  if (P > 1) {
    PS_CALL(comm, "SCOTCH_stratInit", SCOTCH_stratInit(&strat));
    strat_up = 1;
    PS_CALL(comm, "SCOTCH_stratDgraphMapBuild",
            SCOTCH_stratDgraphMapBuild(&strat, SCOTCH_STRATQUALITY, size, P, PS_KBAL));
    /* a context of its own: deterministic mode, one thread per rank (the ranks already use
     * the cores), and its own random generator, seeded from --seed at each try below */
    PS_CALL(comm, "SCOTCH_contextInit", SCOTCH_contextInit(&ctx));
    ctx_up = 1;
    PS_CALL(comm, "SCOTCH_contextOptionSetNum",
            SCOTCH_contextOptionSetNum(&ctx, SCOTCH_OPTIONNUMDETERMINISTIC, 1) ||
                SCOTCH_contextOptionSetNum(&ctx, SCOTCH_OPTIONNUMRANDOMFIXEDSEED, 1));
    PS_CALL(comm, "SCOTCH_contextThreadSpawn", SCOTCH_contextThreadSpawn(&ctx, 1, NULL));
    PS_CALL(comm, "SCOTCH_contextRandomClone", SCOTCH_contextRandomClone(&ctx));
    PS_CALL(comm, "SCOTCH_contextBindDgraph", SCOTCH_contextBindDgraph(&ctx, &dg, &bound));
  }
  rep->t_part = er_wtime() - t0;
  rep->t_measure = 0.0;
  int64_t best_ghosts = INT64_MAX, best_fixed = 0;
  for (int t = 0; t < ntries; ++t) {
    // ---- try t: partition ----
    t0 = er_wtime();
    if (P == 1) {
      memset(part, 0, (size_t)nloc * sizeof *part);
    } else {
      /* seeding restarts the generator: try t is the run with --seed S + 2t (PT-Scotch
       * starts from seed | 1, so S + t would repeat every other try) */
      SCOTCH_contextRandomSeed(&ctx, (SCOTCH_Num)(er_part_try_seed(o->seed, t) %
                                                  (uint64_t)SCOTCH_NUMMAX));
      PS_CALL(comm, "SCOTCH_dgraphPart", SCOTCH_dgraphPart(&bound, P, &strat, part));
      for (int64_t i = 0; i < nloc; ++i)
        if (part[i] < 0 || part[i] >= P)
          err = ER_ERROR(ER_ERR_LIB, "PT-Scotch assigned node %lld to part %lld outside [0, %d)",
                         (long long)(lo + i), (long long)part[i], P);
      ER_AGREE(comm);
    }
    rep->t_part += er_wtime() - t0;

    // ---- try t: measure (and repair empty parts) with the ghosts' parts ----
    t0 = er_wtime();
    if (t == 0) {
      PS_CALL(comm, "SCOTCH_dgraphGhst", SCOTCH_dgraphGhst(&dg));
      SCOTCH_Num ngst = 0;
      SCOTCH_dgraphData(&dg, NULL, NULL, NULL, NULL, &ngst, NULL, NULL, NULL, NULL, NULL, NULL,
                        NULL, NULL, NULL, NULL, NULL);
      ER_MALLOC(partgst, ngst);
      ER_AGREE(comm);
    }
    ER_CALL(ps_measure(comm, &dg, lo, nloc, vert, edge, part, P, partgst, stamp, acc, rep,
                       &cut));
    int64_t min_size = INT64_MAX, fixed = 0, ghosts = 0;
    for (int p = 0; p < P; ++p)
      if (rep->size[p] < min_size) min_size = rep->size[p];
    if (min_size == 0) {
      ER_CALL(ps_fill_empty(comm, lo, nloc, P, part, rep->size, &fixed));
      ER_CALL(ps_measure(comm, &dg, lo, nloc, vert, edge, part, P, partgst, stamp, acc, rep,
                         &cut));
    }
    /* acc is summed over the ranks: every rank makes the same choice */
    for (int p = 0; p < P; ++p) ghosts += acc[2 * (int64_t)P + p];
    rep->try_ghosts[t] = ghosts;
    if (ghosts < best_ghosts) {
      best_ghosts = ghosts;
      best_fixed = fixed;
      rep->best_try = t;
      memcpy(best_acc, acc, (size_t)(3 * (int64_t)P + 1) * sizeof *acc);
      if (ntries > 1) { /* keep this try's owners; the old best becomes the next try's buffer */
        SCOTCH_Num *swap = best;
        best = part;
        part = swap;
      }
    }
    rep->t_measure += er_wtime() - t0;
  }

  // ---- the kept try ----
  t0 = er_wtime();
  const SCOTCH_Num *kept = ntries > 1 ? best : part;
  memcpy(rep->size, best_acc, (size_t)P * sizeof *acc);
  memcpy(rep->nnz, best_acc + P, (size_t)P * sizeof *acc);
  memcpy(rep->ghosts, best_acc + 2 * (int64_t)P, (size_t)P * sizeof *acc);
  cut = best_acc[3 * (int64_t)P];
  rep->empty_fixed = best_fixed;
  ER_MALLOC(owner, nloc);
  for (int64_t i = 0; i < nloc; ++i) owner[i] = (int32_t)kept[i];
  er_part_report_stats(rep, P, cut, st);
  rep->t_measure += er_wtime() - t0;
  ER_AGREE(comm); /* the owner vector's allocation */
  *lo_out = lo;
  *nloc_out = nloc;
  *owner_out = owner;
  owner = NULL;
cleanup:
  err = ER_FINISH(comm);
  if (dg_up) SCOTCH_dgraphExit(&dg);
  if (strat_up) SCOTCH_stratExit(&strat);
  if (ctx_up) SCOTCH_contextExit(&ctx);
  er_h5_close(&fid);
  free(vert), free(edge), free(velo), free(part), free(best), free(partgst);
  free(stamp), free(acc), free(best_acc);
  free(owner);
  return err;
}
