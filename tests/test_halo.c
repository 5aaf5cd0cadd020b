/* test_halo.c: halo plan checks on Cora and a generated graph, METIS and block partitions:
 * forward copies the owners' values into ghosts, and the adjoint identity
 * <forward(x), y> == <x, reverse(y)> holds (double and float columns). */
#include <math.h>
#include <stdlib.h>

#include "erase/bf16.h"
#include "erase/graph.h"
#include "erase/h5.h"
#include "erase/partition.h"
#include "erase/rng.h"
#include "graph_common.h"

static double val(int64_t gid, int c, uint32_t stream) {
  return er_rng_uniform(99, stream, (uint64_t)gid, (uint64_t)c) - 0.5;
}

/* A rows plan (er_halo_create_rows) over the ghosts whose gid is not a multiple of 3 (none on
 * rank 0 when none0: it only sends), placed in their rows of the graph's numbering: those rows
 * receive their owners' values, in double, float and bf16, and every other ghost row is left
 * as it was. */
static void check_rows_plan(const er_dgraph *g, const char *label, int none0) {
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank;
  MPI_Comm_rank(comm, &rank);
  const int take = !(none0 && rank == 0);
  const int nc = 5;
  const size_t n_tot = (size_t)g->n_own + g->n_ghost;
  er_lidx n_sub = 0, *row = malloc((g->n_ghost + 1) * sizeof *row);
  int64_t *gid = malloc((g->n_ghost + 1) * sizeof *gid);
  int *owner = malloc((g->n_ghost + 1) * sizeof *owner);
  for (er_lidx k = 0; k < g->n_ghost; ++k)
    if (take && g->gid[g->n_own + k] % 3 != 0) {
      row[n_sub] = g->n_own + k;
      gid[n_sub] = g->gid[g->n_own + k];
      owner[n_sub++] = g->ghost_owner[k];
    }
  er_halo *h = NULL;
  TEST_OK(er_halo_create_rows(comm, g->n_own, g->gid, n_sub, gid, owner, row, &h));
  double *x = malloc(n_tot * nc * sizeof *x);
  float *xf = malloc(n_tot * nc * sizeof *xf);
  er_bf16 *xb = malloc(n_tot * nc * sizeof *xb);
  for (size_t i = 0; i < n_tot * nc; ++i) {
    const int mine = i < (size_t)g->n_own * nc;
    x[i] = mine ? val(g->gid[i / nc], (int)(i % nc), 4) : -7.0;
    xf[i] = (float)x[i];
    xb[i] = er_bf16_from_f(xf[i]);
  }
  TEST_OK(er_halo_forward_begin(h, x, nc, MPI_DOUBLE));
  TEST_OK(er_halo_forward_end(h));
  TEST_OK(er_halo_forward_begin(h, xf, nc, MPI_FLOAT));
  TEST_OK(er_halo_forward_end(h));
  TEST_OK(er_halo_forward_begin(h, xb, nc, MPI_UINT16_T));
  TEST_OK(er_halo_forward_end(h));
  int bad = 0, moved = 0;
  for (size_t i = g->n_own; i < n_tot; ++i)
    for (int c = 0; c < nc; ++c) {
      const int in = take && g->gid[i] % 3 != 0;
      const double want = in ? val(g->gid[i], c, 4) : -7.0;
      bad += x[i * nc + c] != want || xf[i * nc + c] != (float)want ||
             xb[i * nc + c] != er_bf16_from_f((float)want);
      moved += in;
    }
  er_halo_stats st;
  er_halo_get_stats(h, &st);
  TEST_CHECK(bad == 0, "%s: rows plan: %d ghost values wrong (%d moved)", label, bad, moved);
  TEST_CHECK(st.recv_rows == n_sub, "%s: rows plan receives %lld rows, asked %lld", label,
             (long long)st.recv_rows, (long long)n_sub);
  long long tot[2] = {n_sub, g->n_ghost}, all[2];
  MPI_Allreduce(tot, all, 2, MPI_LONG_LONG, MPI_SUM, comm);

  /* the error paths: each MPI call of one exchange fails in turn on each rank; every rank's end
   * returns the failure (none waits forever), and the plan then exchanges cleanly again */
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN); /* as erase-mpi runs (src/cli/main.c) */
  int size;
  MPI_Comm_size(comm, &size);
  long long sites, *all_sites = malloc(size * sizeof *all_sites);
  er_fault_arm(ER_FAULT_MPI, 0, 0);
  TEST_OK(er_halo_forward_begin(h, x, nc, MPI_DOUBLE));
  TEST_OK(er_halo_forward_end(h));
  sites = er_fault_arm(ER_FAULT_MPI, 0, 0);
  MPI_Allgather(&sites, 1, MPI_LONG_LONG, all_sites, 1, MPI_LONG_LONG, comm);
  int missed = 0, cases = 0;
  for (int r = 0; r < size; ++r)
    for (long long k = 1; k <= all_sites[r]; ++k, ++cases) {
      er_fault_arm(ER_FAULT_MPI, k, r);
      er_err e1 = er_halo_forward_begin(h, x, nc, MPI_DOUBLE);
      er_err e2 = er_halo_forward_end(h);
      er_fault_arm(ER_FAULT_MPI, 0, 0);
      missed += e1 == ER_OK && e2 == ER_OK;
      er_err e3 = er_halo_forward_begin(h, xf, nc, MPI_FLOAT);
      if (e3 == ER_OK) e3 = er_halo_forward_end(h);
      missed += e3 != ER_OK;
    }
  TEST_CHECK(missed == 0, "%s: rows plan: %d of %d injected failures not reported or not "
             "recovered from", label, missed, cases);
  if (rank == 0)
    printf("%s rows plan%s: %lld of %lld ghost rows in place; %d injected MPI failures agreed\n",
           label, none0 ? " (none on rank 0)" : "", all[0], all[1], cases);
  free(all_sites);
  er_halo_destroy(&h);
  free(row), free(gid), free(owner), free(x), free(xf), free(xb);
}

static void check_graph(const char *path, const char *partition, const char *label) {
  MPI_Comm comm = MPI_COMM_WORLD;
  hid_t fid;
  er_dgraph *g = NULL;
  er_part_choice part;
  TEST_OK(er_part_choice_parse(partition, &part));
  TEST_OK(er_h5_open(comm, path, 0, &fid));
  TEST_OK(er_dgraph_create(comm, fid, part, 0, &g));
  er_h5_close(&fid);
  if (!g) return;
  const int nc = 3;
  size_t n_tot = (size_t)g->n_own + g->n_ghost;
  double *x = malloc(n_tot * nc * sizeof(double)), *y = malloc(n_tot * nc * sizeof(double));
  float *xf = malloc(n_tot * nc * sizeof(float)), *yf = malloc(n_tot * nc * sizeof(float));
  for (size_t i = 0; i < n_tot; ++i)
    for (int c = 0; c < nc; ++c) {
      x[i * nc + c] = i < (size_t)g->n_own ? val(g->gid[i], c, 1) : NAN;
      y[i * nc + c] = val(g->gid[i], c, 2) + (i >= (size_t)g->n_own ? 0.25 * g->ghost_owner[i - g->n_own] : 0);
      xf[i * nc + c] = (float)x[i * nc + c];
      yf[i * nc + c] = (float)y[i * nc + c];
    }
  /* forward: ghosts receive exactly their owners' values */
  TEST_OK(er_halo_forward_begin(g->halo, x, nc, MPI_DOUBLE));
  TEST_OK(er_halo_forward_end(g->halo));
  TEST_OK(er_halo_forward_begin(g->halo, xf, nc, MPI_FLOAT));
  TEST_OK(er_halo_forward_end(g->halo));
  int bad = 0;
  for (size_t i = g->n_own; i < n_tot; ++i)
    for (int c = 0; c < nc; ++c) bad += x[i * nc + c] != val(g->gid[i], c, 1);
  TEST_CHECK(bad == 0, "%s: %d ghost values differ from their owners'", label, bad);
  double lhs = 0, rhs = 0, lhsf = 0, rhsf = 0;
  for (size_t i = 0; i < n_tot * nc; ++i) lhs += x[i] * y[i], lhsf += (double)xf[i] * yf[i];
  TEST_OK(er_halo_reverse_begin(g->halo, y, nc, MPI_DOUBLE));
  TEST_OK(er_halo_reverse_end(g->halo));
  TEST_OK(er_halo_reverse_begin(g->halo, yf, nc, MPI_FLOAT));
  TEST_OK(er_halo_reverse_end(g->halo));
  for (size_t i = 0; i < (size_t)g->n_own * nc; ++i) rhs += x[i] * y[i], rhsf += (double)xf[i] * yf[i];
  /* bf16 (train --gather-precision bf16): the forward moves 2-byte rows exactly; the reverse
   * sends bf16 ghost contributions and sums them into float owner rows. The values are bf16
   * already (rounded from x, y), so both sides are exact products of the same numbers. */
  er_bf16 *xb = malloc(n_tot * nc * sizeof(er_bf16)), *yb = malloc(n_tot * nc * sizeof(er_bf16));
  float *yo = malloc(n_tot * nc * sizeof(float));
  for (size_t i = 0; i < n_tot * nc; ++i) {
    xb[i] = i < (size_t)g->n_own * nc ? er_bf16_from_f((float)x[i]) : 0xffff;
    yb[i] = er_bf16_from_f((float)val(g->gid[i / nc], (int)(i % nc), 3));
    yo[i] = er_bf16_to_f(yb[i]);
  }
  TEST_OK(er_halo_forward_begin(g->halo, xb, nc, MPI_UINT16_T));
  TEST_OK(er_halo_forward_end(g->halo));
  for (size_t i = g->n_own; i < n_tot; ++i)
    for (int c = 0; c < nc; ++c)
      bad += xb[i * nc + c] != er_bf16_from_f((float)val(g->gid[i], c, 1));
  TEST_CHECK(bad == 0, "%s: %d bf16 ghost values differ from their owners'", label, bad);
  double lhsb = 0, rhsb = 0;
  for (size_t i = 0; i < n_tot * nc; ++i) lhsb += (double)er_bf16_to_f(xb[i]) * yo[i];
  er_halo_stats hs0, hs1;
  er_halo_get_stats(g->halo, &hs0);
  TEST_OK(er_halo_reverse_begin_bf16(g->halo, yb + (size_t)g->n_own * nc, yo, nc));
  TEST_OK(er_halo_reverse_end(g->halo));
  er_halo_get_stats(g->halo, &hs1);
  TEST_CHECK(hs1.bytes_sent - hs0.bytes_sent == 2.0 * nc * (double)g->n_ghost,
             "%s: bf16 reverse sent %.0f bytes for %lld ghost rows", label,
             hs1.bytes_sent - hs0.bytes_sent, (long long)g->n_ghost);
  for (size_t i = 0; i < (size_t)g->n_own * nc; ++i) rhsb += (double)er_bf16_to_f(xb[i]) * yo[i];
  double s[6] = {lhs, rhs, lhsf, rhsf, lhsb, rhsb}, t[6];
  MPI_Allreduce(s, t, 6, MPI_DOUBLE, MPI_SUM, comm);
  long long ng = g->n_ghost, tg;
  MPI_Allreduce(&ng, &tg, 1, MPI_LONG_LONG, MPI_SUM, comm);
  double rel = fabs(t[0] - t[1]) / fmax(fabs(t[0]), 1e-30);
  double relf = fabs(t[2] - t[3]) / fmax(fabs(t[2]), 1e-30);
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  if (rank == 0)
    printf("%s P=%d partition=%s ghosts=%lld <fwd x,y>=%.12g <x,rev y>=%.12g rel=%.2e (float %.2e)\n",
           label, size, g->partition, tg, t[0], t[1], rel, relf);
  TEST_CHECK(rel < 1e-12, "%s adjoint mismatch rel %g", label, rel);
  TEST_CHECK(relf < 1e-5, "%s float adjoint mismatch rel %g", label, relf);
  double relb = fabs(t[4] - t[5]) / fmax(fabs(t[4]), 1e-30);
  if (rank == 0)
    printf("%s bf16 <fwd x,y>=%.9g <x,rev y>=%.9g rel=%.2e\n", label, t[4], t[5], relb);
  TEST_CHECK(relb < 1e-5, "%s bf16 adjoint mismatch rel %g", label, relb);
  TEST_CHECK(size == 1 || tg > 0, "%s: no ghosts at P=%d", label, size);
  free(x), free(y), free(xf), free(yf), free(xb), free(yb), free(yo);
  check_rows_plan(g, label, 0);
  check_rows_plan(g, label, 1);
  er_dgraph_destroy(&g);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  char cora[4096], gen[4096];
  int have_cora = er_test_make_cora(cora, sizeof cora);
  er_test_make_generated(gen, sizeof gen, 3000);
  for (int k = 0; k < 2; ++k) {
    const char *path = k == 0 ? cora : gen;
    if (k == 0 && !have_cora) continue;
    TEST_OK(er_partition(MPI_COMM_WORLD, path, size, ER_PART_METIS, 1, NULL));
    char p[16];
    snprintf(p, sizeof p, "%d", size);
    check_graph(path, p, k == 0 ? "cora/metis" : "gen/metis");
    check_graph(path, "block", k == 0 ? "cora/block" : "gen/block");
  }
  if (!have_cora) printf("note: Cora absent, checked the generated graph only\n");
  return er_test_finish("test_halo");
}
