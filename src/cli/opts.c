/* opts.c: strict numeric option parsing and usage printing shared by the subcommands.
 * Parsing never exits; errors come back as ER_ERR_INPUT with the option's name. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "erase/cli.h"

er_err er_parse_i64(const char *s, const char *name, int64_t lo, int64_t hi, int64_t *v) {
  char *end;
  errno = 0;
  if (!s || !*s) return ER_ERROR(ER_ERR_INPUT, "%s needs a value", name);
  long long x = strtoll(s, &end, 10);
  if (errno || *end) return ER_ERROR(ER_ERR_INPUT, "%s: '%s' is not an integer", name, s);
  if (x < lo || x > hi)
    return ER_ERROR(ER_ERR_INPUT, "%s: %lld is outside [%lld, %lld]", name, x, (long long)lo,
                    (long long)hi);
  *v = x;
  return ER_OK;
}

er_err er_parse_f64(const char *s, const char *name, double lo, double hi, double *v) {
  char *end;
  errno = 0;
  if (!s || !*s) return ER_ERROR(ER_ERR_INPUT, "%s needs a value", name);
  double x = strtod(s, &end);
  if (errno || *end || !isfinite(x))
    return ER_ERROR(ER_ERR_INPUT, "%s: '%s' is not a finite number", name, s);
  if (x < lo || x > hi) return ER_ERROR(ER_ERR_INPUT, "%s: %g is outside [%g, %g]", name, x, lo, hi);
  *v = x;
  return ER_OK;
}

er_err er_bad_option(const char *cmd, int optopt_c, const char *arg) {
  if (optopt_c && optopt_c != '?')
    return ER_ERROR(ER_ERR_INPUT, "%s: option '%s' is unknown or needs a value (see --help)",
                    cmd, arg ? arg : "?");
  return ER_ERROR(ER_ERR_INPUT, "%s: unknown option '%s' (see --help)", cmd, arg ? arg : "?");
}

void er_usage(MPI_Comm comm, const char *text) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    fputs(text, stdout);
    fflush(stdout);
  }
}
