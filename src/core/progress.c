/* progress.c: rank 0's progress lines for long steps (erase/progress.h). It measures nothing
 * but wall time and the caller's count of work done. */
#include "erase/progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int quiet = 0;

void er_progress_quiet(int q) { quiet = q; }
int er_progress_is_quiet(void) { return quiet; }

void er_format_seconds(double s, char *buf, size_t len) {
  if (s < 60) snprintf(buf, len, "%.1f s", s);
  else if (s < 3600) snprintf(buf, len, "%d min %02d s", (int)(s / 60), (int)s % 60);
  else snprintf(buf, len, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
}

void er_progress_begin(er_progress *p, MPI_Comm comm, const char *what, double total) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  memset(p, 0, sizeof *p);
  p->on = rank == 0 && !quiet;
  p->tty = isatty(STDOUT_FILENO);
  snprintf(p->what, sizeof p->what, "%s", what);
  p->total = total;
  p->t0 = p->last = er_wtime();
}

void er_progress_update(er_progress *p, double done) {
  if (!p->on) return;
  double now = er_wtime(), el = now - p->t0;
  if (now - p->last < (p->tty ? 0.5 : ER_PROGRESS_LOG_S)) return;
  p->last = now;
  char e[32], eta[48] = "";
  er_format_seconds(el, e, sizeof e);
  if (p->total > 0 && done > 0) {
    char r[32];
    er_format_seconds(el * (p->total - done) / done, r, sizeof r);
    snprintf(eta, sizeof eta, ", ETA %s", r);
  }
  if (p->total > 0)
    printf(p->tty ? "\r%s: %3.0f%% (%s elapsed%s)   " : "%s: %.0f%% (%s elapsed%s)\n", p->what,
           100.0 * done / p->total, e, eta);
  else
    printf(p->tty ? "\r%s: %s elapsed   " : "%s: %s elapsed\n", p->what, e);
  fflush(stdout);
}

void er_progress_end(er_progress *p) {
  if (!p->on) return;
  double el = er_wtime() - p->t0;
  char e[32];
  er_format_seconds(el, e, sizeof e);
  if (p->tty && p->last > p->t0) printf("\r%s: done in %s              \n", p->what, e);
  else if (!p->tty && el >= ER_PROGRESS_LOG_S) printf("%s: done in %s\n", p->what, e);
  fflush(stdout);
}
