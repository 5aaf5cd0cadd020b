/* test_adam.c: er_adam against torch.optim.Adam trajectories (tests/ref_adam.py), checkpoint
 * restore through er_adam_state, and bad-input rejection. Args: REFFILE (absent = skip). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/optim.h"
#include "testutil.h"

static int read_exact(FILE *f, void *buf, size_t bytes) {
  return fread(buf, 1, bytes, f) == bytes;
}

/* Worst relative difference max |x - r| / max(|r|, 1e-3) and count of bitwise-equal entries. */
static double rel_diff(const float *x, const float *r, int64_t n, int64_t *same) {
  double worst = 0;
  *same = 0;
  for (int64_t i = 0; i < n; i++) {
    double e = fabs((double)x[i] - (double)r[i]) / fmax(fabs((double)r[i]), 1e-3);
    if (!(e <= worst)) worst = e; /* NaN -> NaN */
    if (memcmp(&x[i], &r[i], sizeof(float)) == 0) (*same)++;
  }
  return worst;
}

static void closed_loop(er_adam *opt, float *p, float *g, const float *a, const float *c,
                        int64_t n, int steps) {
  for (int s = 0; s < steps; s++) {
    for (int64_t i = 0; i < n; i++) g[i] = (p[i] - c[i]) * a[i];
    TEST_OK(er_adam_step(opt, p, g));
  }
}

static void check_config(FILE *f, int64_t steps, int ci) {
  int64_t n, ams;
  double lr, b1, b2, eps, wd;
  char hdr[56];
  TEST_CHECK(read_exact(f, hdr, sizeof hdr), "short reference file (config %d)", ci);
  memcpy(&n, hdr, 8);
  memcpy(&lr, hdr + 8, 8);
  memcpy(&b1, hdr + 16, 8);
  memcpy(&b2, hdr + 24, 8);
  memcpy(&eps, hdr + 32, 8);
  memcpy(&wd, hdr + 40, 8);
  memcpy(&ams, hdr + 48, 8);
  float *a = malloc(n * sizeof *a), *c = malloc(n * sizeof *c), *p0 = malloc(n * sizeof *p0);
  float *traj = malloc(steps * n * sizeof *traj), *st = malloc(3 * n * sizeof *st);
  float *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g), *q = malloc(n * sizeof *q);
  int64_t ref_step = 0;
  int ok = read_exact(f, a, n * 4) && read_exact(f, c, n * 4) && read_exact(f, p0, n * 4) &&
           read_exact(f, traj, steps * n * 4) && read_exact(f, st, 3 * n * 4) &&
           read_exact(f, &ref_step, 8);
  TEST_CHECK(ok, "short reference file (config %d)", ci);
  if (!ok) goto done;

  /* 1. Trajectory: every step's parameters against torch. */
  er_adam *opt = NULL;
  TEST_OK(er_adam_create(n, lr, b1, b2, eps, wd, (int)ams, &opt));
  memcpy(p, p0, n * sizeof *p);
  double worst = 0;
  int64_t same_total = 0;
  for (int s = 0; s < steps; s++) {
    closed_loop(opt, p, g, a, c, n, 1);
    int64_t same;
    double e = rel_diff(p, traj + (int64_t)s * n, n, &same);
    if (!(e <= worst)) worst = e;
    same_total += same;
  }
  er_adam_view view;
  TEST_OK(er_adam_state(opt, &view));
  int64_t sm, sv, sx = n;
  double em = rel_diff(view.m, st, n, &sm), ev = rel_diff(view.v, st + n, n, &sv), ex = 0;
  if (ams) ex = rel_diff(view.vmax, st + 2 * n, n, &sx);
  printf("config %d (n=%lld lr=%g wd=%g amsgrad=%lld): params worst rel diff %.3g over %lld "
         "steps, %.2f%% bitwise equal; m %.3g v %.3g vmax %.3g\n",
         ci, (long long)n, lr, wd, (long long)ams, worst, (long long)steps,
         100.0 * (double)same_total / (double)(steps * n), em, ev, ex);
  TEST_CHECK(worst <= 1e-6, "config %d: parameter trajectory differs from torch by %.3g", ci,
             worst);
  TEST_CHECK(em <= 1e-6 && ev <= 1e-6 && ex <= 1e-6, "config %d: state differs (%g %g %g)", ci,
             em, ev, ex);
  TEST_CHECK(view.step == ref_step && view.step == steps, "step %lld vs torch %lld",
             (long long)view.step, (long long)ref_step);
  TEST_CHECK((view.vmax != NULL) == (ams != 0), "vmax presence follows amsgrad");

  /* 2. Checkpoint: 20 steps, copy state into a fresh optimizer, 30 more == 50 straight. */
  er_adam *o1 = NULL, *o2 = NULL;
  TEST_OK(er_adam_create(n, lr, b1, b2, eps, wd, (int)ams, &o1));
  TEST_OK(er_adam_create(n, lr, b1, b2, eps, wd, (int)ams, &o2));
  memcpy(q, p0, n * sizeof *q);
  closed_loop(o1, q, g, a, c, n, 20);
  er_adam_view v1, v2;
  TEST_OK(er_adam_state(o1, &v1));
  TEST_OK(er_adam_state(o2, &v2));
  memcpy(v2.m, v1.m, n * sizeof(float));
  memcpy(v2.v, v1.v, n * sizeof(float));
  if (ams) memcpy(v2.vmax, v1.vmax, n * sizeof(float));
  TEST_OK(er_adam_set_step(o2, v1.step));
  er_adam_destroy(&o1);
  TEST_CHECK(o1 == NULL, "destroy sets the handle to NULL");
  closed_loop(o2, q, g, a, c, n, (int)steps - 20);
  TEST_CHECK(memcmp(q, p, n * sizeof *q) == 0, "config %d: restored run differs from straight",
             ci);
  er_adam_destroy(&o2);
  er_adam_destroy(&opt);
done:
  free(a), free(c), free(p0), free(traj), free(st), free(p), free(g), free(q);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);

  /* Bad input (no reference needed). */
  er_adam *bad = NULL;
  TEST_CHECK(er_adam_create(0, 1e-3, 0.9, 0.999, 1e-8, 0, 1, &bad) == ER_ERR_INPUT, "n = 0");
  TEST_CHECK(er_adam_create(4, -1, 0.9, 0.999, 1e-8, 0, 1, &bad) == ER_ERR_INPUT, "lr < 0");
  TEST_CHECK(er_adam_create(4, 1e-3, 1.0, 0.999, 1e-8, 0, 1, &bad) == ER_ERR_INPUT, "beta1 1");
  TEST_CHECK(er_adam_create(4, 1e-3, 0.9, NAN, 1e-8, 0, 1, &bad) == ER_ERR_INPUT, "beta2 NaN");
  TEST_CHECK(er_adam_create(4, 1e-3, 0.9, 0.999, 1e-8, -1, 1, &bad) == ER_ERR_INPUT, "wd < 0");
  TEST_CHECK(bad == NULL, "no handle on failure");
  er_error_clear();
  er_adam_destroy(&bad); /* NULL is fine */

  if (argc < 2) {
    if (rank == 0) printf("SKIP: no reference file argument (no /usr/bin/python3)\n");
    MPI_Finalize();
    return 77;
  }
  FILE *f = fopen(argv[1], "rb");
  TEST_CHECK(f != NULL, "cannot open reference %s (did the adam_ref fixture run?)", argv[1]);
  if (!f) return er_test_finish("test_adam");
  char magic[4];
  TEST_CHECK(read_exact(f, magic, 4), "empty reference file");
  if (memcmp(magic, "SKIP", 4) == 0) {
    char why[256] = {0};
    size_t got = fread(why, 1, sizeof why - 1, f);
    (void)got;
    if (rank == 0) printf("SKIP: torch unavailable for the reference: %s\n", why);
    fclose(f);
    MPI_Finalize();
    return 77;
  }
  TEST_CHECK(memcmp(magic, "ADAM", 4) == 0, "bad reference magic");
  int64_t ncfg = 0, steps = 0;
  TEST_CHECK(read_exact(f, &ncfg, 8) && read_exact(f, &steps, 8), "short header");
  for (int ci = 0; ci < ncfg; ci++) check_config(f, steps, ci);
  TEST_CHECK(ncfg == 3 && steps == 50, "reference has %lld configs x %lld steps",
             (long long)ncfg, (long long)steps);
  fclose(f);
  return er_test_finish("test_adam");
}
