/* parse.c: strict parsing of option values (integers, finite reals, names from a table).
 * The whole string must parse and lie in range; errors come back as ER_ERR_INPUT naming the
 * option. It does not know any option: callers pass the name and the bounds. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/core.h"

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

void er_enum_list(const er_enum_names *e, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = '\0';
  for (int k = 0; k < e->n && at < len; ++k)
    at += (size_t)snprintf(buf + at, len - at, "%s%s", k == 0 ? "" : k == e->n - 1 ? " or " : ", ",
                           e->names[k]);
}

er_err er_parse_enum(const char *s, const char *name, const er_enum_names *e, int *v) {
  if (!s || !*s) return ER_ERROR(ER_ERR_INPUT, "%s needs a value", name);
  for (int k = 0; k < e->n; ++k)
    if (!strcmp(s, e->names[k])) {
      *v = k;
      return ER_OK;
    }
  char list[256];
  er_enum_list(e, list, sizeof list);
  return ER_ERROR(ER_ERR_INPUT, "%s: '%s' is not %s", name, s, list);
}
