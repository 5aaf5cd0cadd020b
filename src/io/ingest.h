/* ingest.h: how import reads its inputs in parallel (private to src/io). An input's head is
 * read on rank 0 and broadcast (format by content: .npy magic, gzip magic, Matrix Market
 * banner); each rank reads its share of a text file in pieces of whole lines with their global
 * line and item numbers (a byte range cut at line boundaries, or every P-th block of a gzip
 * stream that every rank inflates); exchange rounds carry items to the rank that owns their
 * node block; the first input error in file order is chosen among the ranks. It parses nothing
 * itself (text.h, npy.h do) and knows no dataset layout (import*.c do). */
#ifndef ERASE_IO_INGEST_H
#define ERASE_IO_INGEST_H

#include <zlib.h>

#include "npy.h"
#include "text.h"

//------------------------------------------------------------------------------------------
// The first input error in file order
//------------------------------------------------------------------------------------------

/* Input errors are not agreed as they happen: each rank keeps the one with the smallest key
 * (the file of a stage, the line or entry, the order of the checks on one line) and
 * imp_first_agree makes the smallest over all ranks everyone's error, so that the message is
 * the one a serial parse would give whichever rank found it. Other failures are agreed as
 * usual. */
typedef struct {
  int has;
  int64_t key;
  char msg[1024];
} imp_first;

#define IMP_END (((int64_t)1 << 49) - 1) /* a position after every line of a file */
#define IMP_KEY(file, pos, sub) (((int64_t)(file) << 52) | ((int64_t)(pos) << 2) | (int64_t)(sub))

/* err == ER_ERR_INPUT: keep its message as a candidate (if key is the smallest so far), clear
 * the error slot and return ER_OK. Any other err is returned as it is. Not collective. */
er_err imp_defer(imp_first *f, er_err err, int64_t key);
/* Collective: the candidate with the smallest key on any rank becomes the agreed error of
 * every rank (ER_OK when no rank holds one). The candidates are consumed. */
er_err imp_first_agree(MPI_Comm comm, imp_first *f);

//------------------------------------------------------------------------------------------
// Heads
//------------------------------------------------------------------------------------------

enum { IMP_TEXT = 0, IMP_NPY = 1 };

/* What rank 0 learns from the start of an input; broadcast as bytes. */
typedef struct {
  int kind;          /* IMP_TEXT or IMP_NPY */
  int gz;            /* gzip-compressed text */
  int is_mm;         /* text starting with the Matrix Market banner (header in mm) */
  int failed;        /* the head had an input error: rank 0 holds it as a candidate */
  int64_t size;      /* bytes on disk */
  int64_t data_off;  /* text: first byte of the data (of the inflated stream for gz) */
  int64_t data_line; /* and its line number */
  er_mm_header mm;
  er_npy_header npy;
  int64_t csv_cols; /* IMP_HEAD_CSV: comma-separated values on the first line */
  int64_t value;    /* IMP_HEAD_COUNT: the file's one integer */
} imp_head;

enum {
  IMP_HEAD_MM = 1,        /* text must be Matrix Market (features) */
  IMP_HEAD_MAYBE_MM = 2,  /* Matrix Market if it starts with the banner (edges, symmetric ok) */
  IMP_HEAD_NPY = 4,       /* .npy accepted */
  IMP_HEAD_CSV = 8,       /* count the values on the first line */
  IMP_HEAD_COUNT = 16     /* the file is one integer (OGB num-node-list) */
};

/* Collective: rank 0 opens path ('what' names it: "cannot open features file ..."), detects
 * the format and reads the header; every rank receives *h. An input error is deferred into
 * first with key IMP_KEY(file, line, 0) and h->failed set. */
er_err imp_head_read(MPI_Comm comm, const char *path, const char *what, int flags, int file,
                     imp_first *first, imp_head *h);

/* Reads exactly bytes at offset off of fd into buf (path for messages). Local. */
er_err imp_pread(int fd, const char *path, void *buf, size_t bytes, int64_t off);

//------------------------------------------------------------------------------------------
// Readers: this rank's share of a text input, in pieces of whole lines
//------------------------------------------------------------------------------------------

typedef struct {
  const char *path, *what;
  er_item_kind kind;
  int fd;
  int rank, size;
  int gz;
  /* plain: this rank's byte range [lo, hi) and the next byte to read */
  int64_t lo, hi, pos;
  /* gzip: the stream (every rank inflates all of it), its blocks and where the data start */
  z_stream zs;
  int zinit, zend;
  unsigned char *zin;
  int64_t out_pos; /* offset in the inflated stream of buf[0] */
  int64_t data_off;
  /* unconsumed bytes buf[0, len); the last piece handed out is buf[0, given) */
  char *buf;
  size_t cap, len, given;
  int eof;
  /* plain: the (bytes, lines, items) of each piece, recorded by the counting pass and replayed
   * by the parsing pass, which cuts the same pieces */
  int64_t *pieces;
  int64_t npieces, cap_pieces, replay;
  /* numbers of the next line and item; the items of the whole input once it has been seen
   * (plain files: after open; gzip: after the last piece) */
  int64_t line, item;
  int64_t total_items;
  int totals_known;
} imp_reader;

#define IMP_PIECE ((size_t)1 << 20) /* bytes read at a time */
#define IMP_BLOCK ((int64_t)1 << 18) /* gzip: inflated bytes per block (block b: rank b % P) */

/* Collective: opens this rank's share of the text input described by h (items counted as
 * kind). A plain file is cut at line boundaries into P byte ranges: rank r > 0 starts after the
 * first newline at or after its nominal start, and every rank reads on to the end of the line
 * that straddles its nominal end; then the ranks count their lines and items and exchange the
 * counts (total_items is known after this). A gzip stream is inflated by every
 * rank: the lines of block b (those after a newline inside it) go to rank b % P, and line
 * numbers come from counting the other blocks. */
er_err imp_reader_open(MPI_Comm comm, imp_reader *r, const char *path, const char *what,
                       const imp_head *h, er_item_kind kind);
/* The next piece of this rank's lines into *c (line0, item0 set; path = r->path), *got = 0 at
 * the end. Not collective. After the end of a gzip stream total_items holds. */
er_err imp_reader_next(imp_reader *r, er_text_chunk *c, int *got);
void imp_reader_close(imp_reader *r);

//------------------------------------------------------------------------------------------
// Exchange rounds
//------------------------------------------------------------------------------------------

#define IMP_MAXCOL 3
#define IMP_ROUND ((int64_t)1 << 16) /* items a rank sends per round, about */

/* Items as parallel columns: column c holds n elements of size[c] bytes. */
typedef struct {
  int ncol;
  size_t size[IMP_MAXCOL];
  void *col[IMP_MAXCOL];
  int borrowed; /* the columns belong to someone else (a one-rank exchange) */
} imp_cols;

/* Collective. Item i of send goes to rank dest[i]; *recv gets the items sent here, in source
 * rank order and each source's order (columns allocated here; at one rank they are send's,
 * borrowed). *more_any: any rank passed more != 0. One MPI_Alltoallv carries all columns. It
 * starts with an agreement (of the caller's work since its last one) and ends agreed. */
er_err imp_exchange(MPI_Comm comm, const imp_cols *send, const int *dest, int64_t n, int more,
                    imp_cols *recv, int64_t *nrecv, int *more_any);
/* The same for items already grouped by destination: count[q] items for rank q, in rank
 * order (count has one entry per rank); with several columns on more than one rank,
 * send->col[0] holds each destination's block as its items of column 0, then of column 1, ...
 * (at one rank the columns are borrowed as they are). */
er_err imp_exchange_grouped(MPI_Comm comm, const imp_cols *send, const int64_t *count, int more,
                            imp_cols *recv, int64_t *nrecv, int *more_any);
void imp_cols_free(imp_cols *c);

/* The owners of the blocks of er_block_range(n, size, .): owner by comparisons, no division. */
typedef struct {
  int size;
  double scale;    /* size / n: a first guess of the owner */
  int64_t *bounds; /* (size + 1) the first id of each rank's block (bounds[0] = 0), INT64_MAX */
} imp_owners_map;
er_err imp_owners_init(imp_owners_map *m, int64_t n, int size);
void imp_owners_free(imp_owners_map *m);
/* The owner of id g (0 <= g < n). The guess is almost always right, so the loops' branches are
 * predicted even when the owners of successive ids are random; bounds[0] = 0 <= g ends the
 * first loop without a test of o. */
static inline int imp_owner(const imp_owners_map *m, int64_t g) {
  int o = (int)((double)g * m->scale);
  o = o < m->size ? o : m->size - 1;
  while (g < m->bounds[o]) --o;
  while (g >= m->bounds[o + 1]) ++o;
  return o;
}

#endif
