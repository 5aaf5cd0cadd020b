/* text.h: the text parsers of `erase-mpi import` (docs/FORMAT.md) over an in-memory chunk of
 * whole lines: number tokens, Matrix Market headers, edge lists (blank- or comma-separated),
 * Matrix Market entries and arrays, labels, node ids and CSV feature rows. No MPI, no files,
 * no global state but the error slot: import feeds them one rank's share of a file, a fuzzer
 * any bytes. Errors are ER_ERR_INPUT "path:line: what" (ER_ERR_MEM when an output cannot grow). */
#ifndef ERASE_IO_TEXT_H
#define ERASE_IO_TEXT_H

#include <stddef.h>

#include "erase/core.h"

/* Sizes far beyond any graph this code is meant for; they keep N*F and ids in range. */
#define ER_TEXT_MAX_NODES ((int64_t)1 << 40)
#define ER_TEXT_MAX_DENSE ((int64_t)1 << 40) /* N * F feature cells */

//---- tokens --------------------------------------------------------------------------------

enum { ER_TOK_OK = 0, ER_TOK_NAN = 1, ER_TOK_RANGE = 2 };
/* The whole token [b, e) as a decimal integer with optional sign. */
int er_tok_i64(const char *b, const char *e, int64_t *v);
/* The whole token [b, e) as a real: plain decimals of up to 15 significant digits exactly (one
 * correctly rounded division, as strtod), anything else through strtod. */
int er_tok_f64(const char *b, const char *e, double *v);

//---- chunks and counting -------------------------------------------------------------------

/* A run of whole lines of a file: every line ends with '\n' except possibly the last. A '\r'
 * before the '\n' belongs to the line ending (CRLF files work). */
typedef struct {
  const char *path; /* the file, for messages */
  const char *buf;
  size_t len;
  int64_t line0; /* number (1-based) of the chunk's first line in the file */
  int64_t item0; /* index (0-based) in the file of the chunk's first item (see er_text_count) */
} er_text_chunk;

/* What an item is, for counting and for the parsers that index items across chunks. */
typedef enum {
  ER_ITEM_NONE = 0,  /* nothing: only lines are counted */
  ER_ITEM_LINE,      /* every line, blank or not (CSV rows, OGB labels) */
  ER_ITEM_DATA,      /* lines that are not blank and do not start with '#' or '%' */
  ER_ITEM_MM_DATA,   /* lines that are not blank and do not start with '%' (Matrix Market) */
  ER_ITEM_MM_TOKEN   /* blank-separated tokens on Matrix Market data lines (array format) */
} er_item_kind;

/* Lines and items in buf[0, len) (whole lines as in er_text_chunk). */
void er_text_count(const char *buf, size_t len, er_item_kind kind, int64_t *lines,
                   int64_t *items);

//---- Matrix Market header ------------------------------------------------------------------

enum { ER_MM_REAL = 0, ER_MM_INTEGER = 1, ER_MM_PATTERN = 2 };
typedef struct {
  int coordinate; /* 1 coordinate, 0 array */
  int field;      /* ER_MM_* */
  int symmetric;  /* 1 symmetric, 0 general */
  int64_t rows, cols, nnz;
} er_mm_header;

#define ER_MM_BANNER "%%MatrixMarket"

/* The banner and size lines at the start of a file, buf[0, len) (len may stop anywhere; at_eof:
 * the file ends there). *complete = 0 when more bytes are needed (nothing else is set); else
 * the header is in *h, the data lines start at byte *data_off, numbered from *data_line.
 * allow_sym: 'symmetric' is accepted (adjacency matrices). */
er_err er_mm_header_parse(const char *path, const char *buf, size_t len, int at_eof,
                          int allow_sym, er_mm_header *h, int *complete, int64_t *data_off,
                          int64_t *data_line);

//---- outputs -------------------------------------------------------------------------------

/* Where the parse stopped on an input error: the line, and whether the entry of that line was
 * stored before the value check failed (a duplicate cell on the same line is reported first). */
typedef struct {
  int64_t line;
  int entry_kept;
} er_text_stop;

/* Edge pairs (u, v), 0-based; entries (u, u) are counted and left out. */
typedef struct {
  int64_t *uv; /* (2 * m) */
  int64_t m, cap;
  int64_t entries, self_loops; /* edge entries read; how many were self loops */
} er_text_pairs;

/* Items with a global index (a cell i*F+j, a node, a node id) and optionally the line each
 * came from and a value of val_size bytes (a float, F floats, an int32 label). */
typedef struct {
  int64_t *idx;
  int64_t *line; /* NULL unless keep_line */
  void *val;     /* NULL when val_size = 0 */
  size_t val_size;
  int keep_line;
  int64_t n, cap;
} er_text_items;

/* Empty outputs (set val_size / keep_line before the first parse); free releases and zeroes. */
void er_text_pairs_free(er_text_pairs *p);
/* Room for `more` pairs (ER_ERR_MEM otherwise). */
er_err er_text_pairs_reserve(er_text_pairs *p, int64_t more);
/* One edge entry (u, v): counted, and stored unless u == v. */
er_err er_text_pairs_push(er_text_pairs *p, int64_t u, int64_t v);
void er_text_items_init(er_text_items *it, size_t val_size, int keep_line);
void er_text_items_free(er_text_items *it);
/* Room for `more` items (ER_ERR_MEM otherwise). */
er_err er_text_items_reserve(er_text_items *it, int64_t more);

//---- parsers: each appends what chunk c holds to its output --------------------------------

/* Edge list: one "u v" pair of 0-based ids per line ('#'/'%' comment lines and blank lines
 * skipped), or with csv "u,v". Ids must be below n; the message names fpath, where n comes
 * from. */
er_err er_text_parse_edge_list(const er_text_chunk *c, int csv, int64_t n, const char *fpath,
                               er_text_pairs *out, er_text_stop *stop);

/* Matrix Market coordinate adjacency entries "i j [value]" (1-based) after the header h;
 * c->item0 counts the entries before the chunk (ER_ITEM_MM_DATA). */
er_err er_text_parse_mm_edges(const er_text_chunk *c, const er_mm_header *h,
                              er_text_pairs *out, er_text_stop *stop);

/* Matrix Market coordinate feature entries: items idx = cell i*cols+j (0-based), a float,
 * and the line (out->keep_line). c->item0 counts entries before the chunk. NaN, Inf and values
 * beyond float32 stop the parse with the entry kept (stop->entry_kept = 1). */
er_err er_text_parse_mm_cells(const er_text_chunk *c, const er_mm_header *h, er_text_items *out,
                              er_text_stop *stop);

/* Matrix Market array values (column-major): items idx = cell i*cols+j, a float; c->item0
 * counts the tokens before the chunk (ER_ITEM_MM_TOKEN). */
er_err er_text_parse_mm_array(const er_text_chunk *c, const er_mm_header *h, er_text_items *out,
                              er_text_stop *stop);

/* Labels: items idx = node, an int32 label. Plain: one integer per data line (ER_ITEM_DATA),
 * -1 = unknown. ogb: one per line (ER_ITEM_LINE), empty or NaN = -1, integral reals accepted.
 * n nodes; classes > 0: labels must be below it. */
er_err er_text_parse_labels(const er_text_chunk *c, int ogb, int64_t n, int64_t classes,
                            er_text_items *out, er_text_stop *stop);

/* Node ids, one per data line: items idx = id, with the line (out->keep_line). ids < n. */
er_err er_text_parse_ids(const er_text_chunk *c, int64_t n, er_text_items *out,
                         er_text_stop *stop);

/* CSV feature rows (OGB node-feat): items idx = node (= item index, ER_ITEM_LINE) and f
 * floats; n rows in all. */
er_err er_text_parse_csv_rows(const er_text_chunk *c, int64_t n, int64_t f, er_text_items *out,
                              er_text_stop *stop);

/* Comma-separated values on the first line of buf[0, len) (0 when the line is blank); *complete
 * = 0 when the line does not end within buf and !at_eof. */
int64_t er_text_csv_columns(const char *buf, size_t len, int at_eof, int *complete);

#endif
