/* fuzz_text.c: the text parsers of import (src/io/text.h) on raw bytes: the number tokens
 * against strtoll/strtod, the Matrix Market header at every prefix (a complete header stays the
 * same for any longer prefix), and each line parser whole against split in two chunks at a line
 * boundary (line0/item0 from er_text_count, as import sets them). Input: [which][params][text].
 * Chunks are exact-size copies, so a read past a chunk's end is an ASan report. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "io/text.h"

#define ALLOWED (FZ_CODE(ER_ERR_INPUT) | FZ_CODE(ER_ERR_MEM))

//---- tokens ------------------------------------------------------------------------------

/* strtoll in base 10 with the whole token consumed and nothing skipped before it */
static int ref_i64(const char *s, size_t n, int64_t *v) {
  if (n == 0 || strlen(s) != n || !(s[0] == '+' || s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
    return ER_TOK_NAN;
  char *end;
  errno = 0;
  long long x = strtoll(s, &end, 10);
  if (end != s + n) return ER_TOK_NAN;
  if (errno == ERANGE) return ER_TOK_RANGE;
  *v = x;
  return ER_TOK_OK;
}

static void check_tokens(const uint8_t *d, size_t n, int real) {
  char *s = fz_strndup(d, n);
  char *b = malloc(n ? n : 1); /* the token alone, exact size */
  if (!b) abort();
  if (n) memcpy(b, d, n);
  if (!real) {
    int64_t v = 0, want = 0;
    int rc = er_tok_i64(b, b + n, &v), ref = ref_i64(s, n, &want);
    FZ_ASSERT(rc == ref, "er_tok_i64('%s') = %d, reference %d", s, rc, ref);
    FZ_ASSERT(rc != ER_TOK_OK || v == want, "er_tok_i64('%s') = %lld, reference %lld", s,
              (long long)v, (long long)want);
  } else {
    double v = 0, want = 0;
    int rc = er_tok_f64(b, b + n, &v), ref = ER_TOK_NAN;
    char *end;
    if (n && strlen(s) == n) {
      want = strtod(s, &end);
      if (end == s + n) ref = ER_TOK_OK;
    }
    FZ_ASSERT(rc == ref, "er_tok_f64('%s') = %d, reference %d", s, rc, ref);
    FZ_ASSERT(rc != ER_TOK_OK || memcmp(&v, &want, sizeof v) == 0 || (isnan(v) && isnan(want)),
              "er_tok_f64('%s') = %.17g, reference %.17g", s, v, want);
  }
  free(b);
  free(s);
}

//---- Matrix Market header ----------------------------------------------------------------

typedef struct {
  er_err err;
  int complete;
  er_mm_header h;
  int64_t off, line;
  char msg[600];
} mm_result;

static void mm_at(const uint8_t *d, size_t len, int at_eof, int sym, mm_result *r) {
  char *b = malloc(len ? len : 1);
  if (!b) abort();
  if (len) memcpy(b, d, len);
  memset(r, 0, sizeof *r);
  er_error_clear();
  r->err = er_mm_header_parse("f.mtx", b, len, at_eof, sym, &r->h, &r->complete, &r->off,
                              &r->line);
  fz_check_verdict(r->err, ALLOWED, 0, "er_mm_header_parse");
  if (r->err) snprintf(r->msg, sizeof r->msg, "%s", er_error_message());
  FZ_ASSERT(r->complete || at_eof == 0, "incomplete at the end of the file");
  FZ_ASSERT(r->complete || r->err == ER_OK, "incomplete with an error");
  if (r->complete && r->err == ER_OK) {
    const er_mm_header *h = &r->h;
    FZ_ASSERT(r->off >= 1 && (size_t)r->off <= len && r->line >= 2, "data at %lld, line %lld",
              (long long)r->off, (long long)r->line);
    FZ_ASSERT(at_eof || b[r->off - 1] == '\n', "data does not start after a line");
    FZ_ASSERT(h->rows >= 1 && h->cols >= 1 && h->rows <= ER_TEXT_MAX_NODES &&
                  h->cols <= ER_TEXT_MAX_NODES && h->nnz >= 0 && (h->coordinate || !h->nnz),
              "header %lld x %lld, %lld entries", (long long)h->rows, (long long)h->cols,
              (long long)h->nnz);
    FZ_ASSERT(h->field >= 0 && h->field <= 2 && (h->coordinate || h->field != ER_MM_PATTERN) &&
                  (sym || !h->symmetric),
              "header field %d symmetric %d", h->field, h->symmetric);
  }
  free(b);
}

static int mm_same(const mm_result *a, const mm_result *b) {
  return a->err == b->err && a->complete == b->complete && !strcmp(a->msg, b->msg) &&
         (a->err || (!memcmp(&a->h, &b->h, sizeof a->h) && a->off == b->off &&
                     a->line == b->line));
}

static void check_mm_header(fz_reader *r) {
  int sym = fz_u8(r) & 1;
  size_t pick = fz_u8(r), n = r->n;
  const uint8_t *d = r->p;
  mm_result first, cur, full;
  size_t at = (size_t)-1;
  mm_at(d, n, 0, sym, &full);
  /* every prefix of a short input, else a chosen one: once complete, always the same */
  for (size_t len = n <= 300 ? 0 : pick * n / 256; len <= n; ++len) {
    mm_at(d, len, 0, sym, &cur);
    if (at == (size_t)-1 && cur.complete) {
      at = len;
      first = cur;
    }
    if (at != (size_t)-1)
      FZ_ASSERT(mm_same(&cur, &first), "complete at %zu bytes, different at %zu", at, len);
    if (n > 300) break;
  }
  if (full.complete) FZ_ASSERT(at == (size_t)-1 || mm_same(&full, &first), "full differs");
  mm_at(d, n, 1, sym, &cur);
  FZ_ASSERT(!full.complete || mm_same(&full, &cur), "at_eof changes a complete header");
}

//---- line parsers: whole against split ---------------------------------------------------

enum { P_EDGES, P_MM_EDGES, P_MM_CELLS, P_MM_ARRAY, P_LABELS, P_OGB_LABELS, P_IDS, P_CSV, P_N };

typedef struct {
  int which, csv;
  int64_t n, f, classes;
  er_mm_header h;
} job;

typedef struct {
  er_text_pairs pairs;
  er_text_items items;
  er_text_stop stop;
  er_err err;
  char msg[700];
} outcome;

static er_item_kind kind_of(const job *j) {
  switch (j->which) {
  case P_EDGES: case P_LABELS: case P_IDS: return ER_ITEM_DATA;
  case P_MM_EDGES: case P_MM_CELLS: return ER_ITEM_MM_DATA;
  case P_MM_ARRAY: return ER_ITEM_MM_TOKEN;
  default: return ER_ITEM_LINE;
  }
}

static void outcome_init(const job *j, outcome *o) {
  memset(o, 0, sizeof *o);
  size_t vs = j->which == P_MM_CELLS || j->which == P_MM_ARRAY ? sizeof(float)
              : j->which == P_CSV ? (size_t)j->f * sizeof(float)
              : j->which == P_LABELS || j->which == P_OGB_LABELS ? sizeof(int32_t) : 0;
  er_text_items_init(&o->items, vs, j->which == P_MM_CELLS || j->which == P_IDS);
}

/* parse buf[0, len) as one chunk into o (appending); the chunk is an exact-size copy */
static void parse(const job *j, const char *buf, size_t len, int64_t line0, int64_t item0,
                  outcome *o) {
  char *b = malloc(len ? len : 1);
  if (!b) abort();
  if (len) memcpy(b, buf, len);
  er_text_chunk c = {.path = "f.txt", .buf = b, .len = len, .line0 = line0, .item0 = item0};
  er_error_clear();
  switch (j->which) {
  case P_EDGES: o->err = er_text_parse_edge_list(&c, j->csv, j->n, "x", &o->pairs, &o->stop); break;
  case P_MM_EDGES: o->err = er_text_parse_mm_edges(&c, &j->h, &o->pairs, &o->stop); break;
  case P_MM_CELLS: o->err = er_text_parse_mm_cells(&c, &j->h, &o->items, &o->stop); break;
  case P_MM_ARRAY: o->err = er_text_parse_mm_array(&c, &j->h, &o->items, &o->stop); break;
  case P_LABELS:
  case P_OGB_LABELS:
    o->err = er_text_parse_labels(&c, j->which == P_OGB_LABELS, j->n, j->classes, &o->items,
                                  &o->stop);
    break;
  case P_IDS: o->err = er_text_parse_ids(&c, j->n, &o->items, &o->stop); break;
  default: o->err = er_text_parse_csv_rows(&c, j->n, j->f, &o->items, &o->stop); break;
  }
  fz_check_verdict(o->err, ALLOWED, 0, "er_text_parse");
  if (o->err) snprintf(o->msg, sizeof o->msg, "%s", er_error_message());
  int64_t lines, items;
  er_text_count(b, len, ER_ITEM_NONE, &lines, &items);
  FZ_ASSERT(o->err != ER_ERR_INPUT || (o->stop.line >= line0 && o->stop.line < line0 + lines),
            "error on line %lld, the chunk has lines %lld..%lld", (long long)o->stop.line,
            (long long)line0, (long long)(line0 + lines - 1));
  free(b);
}

static void outcome_free(outcome *o) {
  er_text_pairs_free(&o->pairs);
  er_text_items_free(&o->items);
}

static int same_arr(const void *a, const void *b, size_t n) { return n == 0 || !memcmp(a, b, n); }

static void compare(const outcome *a, const outcome *b, size_t cut) {
  FZ_ASSERT(a->err == b->err && !strcmp(a->msg, b->msg), "cut at %zu: whole %d '%s', split %d "
            "'%s'", cut, a->err, a->msg, b->err, b->msg);
  if (a->err == ER_ERR_MEM) return;
  FZ_ASSERT(a->stop.line == b->stop.line && a->stop.entry_kept == b->stop.entry_kept,
            "cut at %zu: stops differ", cut);
  const er_text_pairs *p = &a->pairs, *q = &b->pairs;
  FZ_ASSERT(p->m == q->m && p->entries == q->entries && p->self_loops == q->self_loops &&
                same_arr(p->uv, q->uv, (size_t)p->m * 2 * sizeof *p->uv),
            "cut at %zu: pairs differ (%lld, %lld)", cut, (long long)p->m, (long long)q->m);
  const er_text_items *x = &a->items, *y = &b->items;
  FZ_ASSERT(x->n == y->n && same_arr(x->idx, y->idx, (size_t)x->n * sizeof *x->idx) &&
                (!x->keep_line || same_arr(x->line, y->line, (size_t)x->n * sizeof *x->line)) &&
                same_arr(x->val, y->val, (size_t)x->n * x->val_size),
            "cut at %zu: items differ (%lld, %lld)", cut, (long long)x->n, (long long)y->n);
}

static void check_lines(fz_reader *r, int which) {
  job j = {.which = which};
  j.csv = fz_u8(r) & 1;
  uint8_t big = fz_u8(r);
  j.n = big & 0x80 ? ER_TEXT_MAX_NODES : 1 + fz_below(r, 200);
  j.classes = fz_below(r, 12); /* 0: any */
  int64_t line0 = 1 + (int64_t)fz_below(r, 5);
  size_t pick = fz_u8(r);
  if (which == P_MM_EDGES || which == P_MM_CELLS || which == P_MM_ARRAY) {
    j.h.coordinate = which != P_MM_ARRAY;
    j.h.field = (int)fz_below(r, j.h.coordinate ? 3 : 2);
    j.h.symmetric = which == P_MM_EDGES && (big & 1);
    j.h.rows = 1 + (int64_t)fz_below(r, 40);
    j.h.cols = which == P_MM_EDGES ? j.h.rows : 1 + (int64_t)fz_below(r, 40);
    if (big & 0x40 && which == P_MM_EDGES) j.h.rows = j.h.cols = ER_TEXT_MAX_NODES;
    if (big & 0x40 && which != P_MM_EDGES) { /* as large as import lets through */
      j.h.rows = ER_TEXT_MAX_DENSE / j.h.cols;
    }
    j.h.nnz = j.h.coordinate ? (int64_t)fz_below(r, 64) : 0;
  }
  const char *text = (const char *)r->p;
  size_t n = r->n;
  if (which == P_CSV) {
    int complete;
    j.f = er_text_csv_columns(text, n, 1, &complete);
    if (j.f < 1) j.f = 1;
    if (j.f > 64) j.f = 64;
  }
  /* the cut: one of the line boundaries (0, after each '\n', n) */
  size_t nb = 2;
  for (size_t i = 0; i + 1 < n; ++i) nb += text[i] == '\n';
  size_t want = pick % nb, cut = 0, k = 0;
  for (size_t i = 0; k < want && i < n; ++i)
    if (text[i] == '\n' && ++k == want) cut = i + 1;
  if (want == nb - 1) cut = n;

  outcome whole, split;
  outcome_init(&j, &whole);
  outcome_init(&j, &split);
  parse(&j, text, n, line0, 0, &whole);
  parse(&j, text, cut, line0, 0, &split);
  if (split.err == ER_OK) {
    int64_t lines, items;
    er_text_count(text, cut, kind_of(&j), &lines, &items);
    parse(&j, text + cut, n - cut, line0 + lines, items, &split);
  }
  compare(&whole, &split, cut);
  if (whole.err == ER_OK) { /* text.h: the counts are what the parsers consume */
    int64_t lines, items;
    er_text_count(text, n, kind_of(&j), &lines, &items);
    int64_t got = which == P_EDGES || which == P_MM_EDGES ? whole.pairs.entries : whole.items.n;
    FZ_ASSERT(items == got, "er_text_count: %lld items, the parser took %lld", (long long)items,
              (long long)got);
  }
  outcome_free(&whole);
  outcome_free(&split);
}

void fz_run(const uint8_t *data, size_t size) {
  fz_reader r = {data, size};
  unsigned which = fz_u8(&r) % (3 + P_N);
  if (which < 2) check_tokens(r.p, r.n < 200 ? r.n : 200, which == 1);
  else if (which == 2) check_mm_header(&r);
  else check_lines(&r, (int)which - 3);
}
