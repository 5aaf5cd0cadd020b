/* fuzz_parse.c: the option-value parsers on raw bytes (er_parse_i64, er_parse_f64,
 * er_parse_enum, er_part_choice_parse, er_enum_list), each against a plain reference: the
 * verdict and the value must be the reference's, and a refused value leaves the output alone.
 * Input: [which][bounds][the value text...]. Not the INI layer (fuzz_options.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/core.h"
#include "erase/graph.h"
#include "erase/noise.h"
#include "erase/prop.h"
#include "fuzz.h"

static const int64_t i64_bounds[][2] = {
    {INT64_MIN, INT64_MAX}, {0, 1}, {1, 1 << 20}, {0, 9200000000000000000LL},
    {1, 1000000000}, {-5, 5}, {1, INT32_MAX}, {0, 0}};
static const double f64_bounds[][2] = {
    {-HUGE_VAL, HUGE_VAL}, {0, 0.999999}, {1e-300, 1e12}, {0, 1}, {-1e-3, 1e-3}, {0, 10}};
static const char *const tricky_names[] = {"a", "ab", "", "a b", "auto"};
static const er_enum_names tricky = ER_ENUM_NAMES(tricky_names);

/* strtoll's grammar in the C locale, base 10, with the whole string consumed */
static int ref_i64(const char *s, int64_t *v) {
  const char *p = s;
  while (*p == ' ' || (*p >= '\t' && *p <= '\r')) ++p;
  int neg = 0;
  if (*p == '+' || *p == '-') neg = *p++ == '-';
  if (*p < '0' || *p > '9') return 0;
  uint64_t acc = 0, limit = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
  for (; *p >= '0' && *p <= '9'; ++p) {
    uint64_t d = (uint64_t)(*p - '0');
    if (acc > (limit - d) / 10) return 0; /* out of range */
    acc = acc * 10 + d;
  }
  if (*p) return 0;
  *v = neg ? (acc == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
  return 1;
}

static void check_i64(const char *s, unsigned sel) {
  const int64_t *b = i64_bounds[sel % (sizeof i64_bounds / sizeof i64_bounds[0])];
  int64_t v = 0x5a5a5a5a, want = 0;
  er_err err = er_parse_i64(s, "--n", b[0], b[1], &v);
  fz_check_verdict(err, FZ_CODE(ER_ERR_INPUT), 1, "er_parse_i64");
  int ok = ref_i64(s, &want) && want >= b[0] && want <= b[1];
  FZ_ASSERT((err == ER_OK) == ok, "'%s' in [%lld, %lld]: verdict %d, reference %d", s,
            (long long)b[0], (long long)b[1], err, ok);
  FZ_ASSERT(err != ER_OK || v == want, "'%s' parsed as %lld, reference %lld", s, (long long)v,
            (long long)want);
  FZ_ASSERT(err == ER_OK || v == 0x5a5a5a5a, "'%s' refused but the output changed", s);
}

static void check_f64(const char *s, unsigned sel) {
  const double *b = f64_bounds[sel % (sizeof f64_bounds / sizeof f64_bounds[0])];
  double v = 42.5;
  er_err err = er_parse_f64(s, "--x", b[0], b[1], &v);
  fz_check_verdict(err, FZ_CODE(ER_ERR_INPUT), 1, "er_parse_f64");
  char *end;
  double want = *s ? strtod(s, &end) : 0;
  int ok = *s && !*end && isfinite(want) && want >= b[0] && want <= b[1];
  /* strtod's ERANGE on an underflow to a subnormal or zero is a refusal too */
  FZ_ASSERT(err != ER_OK || ok, "'%s' accepted as %g outside [%g, %g] or not finite", s, v,
            b[0], b[1]);
  FZ_ASSERT(err != ER_OK || v == want || (v != v && want != want), "'%s' parsed as %.17g, "
            "strtod says %.17g", s, v, want);
  FZ_ASSERT(err == ER_OK || v == 42.5, "'%s' refused but the output changed", s);
  FZ_ASSERT(err == ER_OK || !ok || fabs(want) < 2.3e-308,
            "'%s' (%g, in [%g, %g]) refused: %s", s, want, b[0], b[1], er_error_message());
}

static void check_enum(const char *s, unsigned sel) {
  const er_enum_names *tables[3] = {&er_noise_types, &er_denoise_variants, &tricky};
  const er_enum_names *e = tables[sel % 3];
  int v = -7, want = -1;
  for (int k = e->n - 1; k >= 0; --k)
    if (!strcmp(s, e->names[k])) want = k;
  if (!*s) want = -1; /* an empty value is "needs a value", whatever the table holds */
  er_err err = er_parse_enum(s, "--e", e, &v);
  fz_check_verdict(err, FZ_CODE(ER_ERR_INPUT), 1, "er_parse_enum");
  FZ_ASSERT((err == ER_OK) == (want >= 0), "'%s': verdict %d, reference index %d", s, err, want);
  FZ_ASSERT(err != ER_OK ? v == -7 : v == want, "'%s': index %d, reference %d", s, v, want);
  char buf[64];
  size_t len = 1 + sel % sizeof buf;
  char *list = malloc(len); /* exact size: ASan sees an overrun */
  if (!list) abort();
  er_enum_list(e, list, len);
  FZ_ASSERT(memchr(list, '\0', len) != NULL, "er_enum_list left %zu bytes unterminated", len);
  free(list);
}

static void check_part(const char *s) {
  er_part_choice c = {(er_part_kind)99, -1};
  er_err err = er_part_choice_parse(s, &c);
  fz_check_verdict(err, FZ_CODE(ER_ERR_INPUT), 1, "er_part_choice_parse");
  int64_t n;
  if (!strcmp(s, "auto")) {
    FZ_ASSERT(err == ER_OK && c.kind == ER_PART_CHOICE_AUTO, "'auto' -> kind %d", c.kind);
  } else if (!strcmp(s, "block")) {
    FZ_ASSERT(err == ER_OK && c.kind == ER_PART_CHOICE_BLOCK, "'block' -> kind %d", c.kind);
  } else {
    int ok = ref_i64(s, &n) && n >= 1 && n <= INT32_MAX;
    FZ_ASSERT((err == ER_OK) == ok, "'%s': verdict %d, reference %d", s, err, ok);
    FZ_ASSERT(err != ER_OK || (c.kind == ER_PART_CHOICE_STORED && c.parts == n),
              "'%s' -> kind %d parts %d", s, c.kind, c.parts);
  }
}

void fz_run(const uint8_t *data, size_t size) {
  if (size < 2) return;
  char *s = fz_strndup(data + 2, size - 2);
  switch (data[0] % 4) {
  case 0: check_i64(s, data[1]); break;
  case 1: check_f64(s, data[1]); break;
  case 2: check_enum(s, data[1]); break;
  default: check_part(s); break;
  }
  free(s);
}
