/* core.h: error codes, call-checking macros, collective error agreement, local index type.
 * Every public function returns er_err (ER_OK on success); the message of the first failure is
 * kept per process and agreed on collectively by er_agree(). Nothing here prints on its own
 * except er_report(), which only rank 0 uses. */
#ifndef ERASE_CORE_H
#define ERASE_CORE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#define ER_VERSION "0.1.0"

typedef int er_err;
enum {
  ER_OK = 0,
  ER_ERR_INPUT = 1,  /* bad user input: file content, options */
  ER_ERR_IO = 2,     /* file system / HDF5 failure */
  ER_ERR_MEM = 3,    /* allocation failure */
  ER_ERR_MPI = 4,    /* MPI call failed */
  ER_ERR_LIB = 5,    /* METIS / LAPACK / ScaLAPACK failure */
  ER_ERR_NUM = 6,    /* numerical failure: NaN, not positive definite */
  ER_ERR_INTERNAL = 7,
  ER_INTERRUPTED = 8 /* stopped on request (signal); not a failure of the input */
};
/* exit status for ER_INTERRUPTED (EX_TEMPFAIL: run again to continue) */
#define ER_EXIT_INTERRUPTED 75

/* Local (per-rank) row/column index: owned rows first, then ghosts. Global ids are int64_t. */
typedef int32_t er_lidx;

/* Record an error message (printf-style) with its origin; returns code. Keeps the first message
 * until er_error_clear(). */
er_err er_error_set(er_err code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *er_error_message(void);
void er_error_clear(void);

#define ER_ERROR(code, ...) er_error_set((code), __FILE__, __LINE__, __VA_ARGS__)

/* Goto-cleanup style: the enclosing function declares `er_err err = ER_OK;` and a `cleanup:`
 * label. */
#define ER_CALL(call)                                                                       \
  do {                                                                                       \
    err = (call);                                                                            \
    if (err != ER_OK) goto cleanup;                                                          \
  } while (0)
#define ER_CHECK(cond, code, ...)                                                            \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      err = ER_ERROR((code), __VA_ARGS__);                                                   \
      goto cleanup;                                                                          \
    }                                                                                        \
  } while (0)
/* Fault injection (src/core/fault.c; tests set ERASE_FAULT): 1 when this site must fail. */
typedef enum {
  ER_FAULT_ALLOC, ER_FAULT_H5, ER_FAULT_MPI, ER_FAULT_WRITE, ER_FAULT_LIB, ER_FAULT_NKIND
} er_fault_kind;
int er_fault_at(er_fault_kind kind, const char *file, int line);
#define er_fault(kind) er_fault_at((kind), __FILE__, __LINE__)
/* Unit tests, in place of ERASE_FAULT: count sites afresh from now on and fail the k-th site of
 * kind (ER_FAULT_NKIND: of any kind) on rank (k = 0: count only). Returns the sites of kind
 * passed since the previous call. */
long long er_fault_arm(er_fault_kind kind, long long k, int rank);
/* Tests of kills at a chosen moment: ERASE_STALL=WHERE[:N] makes rank 1 announce "stalled at
 * WHERE" on stderr and sleep 60 s the N-th time (default first) it reaches er_fault_stall(WHERE). */
void er_fault_stall(const char *where);
/* Writes the site counts (ERASE_FAULT_COUNT=PATH -> PATH.<rank>); main calls it at exit. */
void er_fault_report(void);

/* An MPI call whose failure is this rank's: the error is recorded and agreed on later (an
 * ER_AGREE before the next collective, or ER_FINISH). Collectives are made by every rank. */
#define ER_CALL_MPI(call)                                                                    \
  do {                                                                                       \
    int mpi_rc_ = (call);                                                                    \
    if (mpi_rc_ == MPI_SUCCESS && er_fault(ER_FAULT_MPI)) mpi_rc_ = MPI_ERR_OTHER;           \
    if (mpi_rc_ != MPI_SUCCESS) {                                                            \
      err = er_mpi_error(mpi_rc_, #call, __FILE__, __LINE__);                                \
      goto cleanup;                                                                          \
    }                                                                                        \
  } while (0)
er_err er_mpi_error(int rc, const char *call, const char *file, int line);
/* An MPI call whose failure is recorded in the er_err lvalue `keep` (the first failure kept)
 * without a jump: for a sequence of calls that every rank must make whatever one of them
 * returned (the messages of an exchange, a reduce and its broadcast), agreed afterwards. */
#define ER_MPI_KEEP(keep, call)                                                              \
  do {                                                                                       \
    int rc_ = (call);                                                                        \
    if (rc_ == MPI_SUCCESS && er_fault(ER_FAULT_MPI)) rc_ = MPI_ERR_OTHER;                   \
    if (rc_ != MPI_SUCCESS && (keep) == ER_OK)                                               \
      (keep) = er_mpi_error(rc_, #call, __FILE__, __LINE__);                                 \
  } while (0)
/* Ask for transparent huge pages on a fresh large buffer (>= 4 MiB; src/core/mem.c). */
void er_mem_advise(void *p, size_t bytes);
/* er_mem_advise, and the memory report's record of allocations made outside the buffer tables
 * of erase/mem.h (ER_MALLOC / ER_CALLOC). */
void er_mem_note(void *p, size_t bytes, const char *file, int line);
/* Give the free pages of the heap back to the system (after large buffers were freed). */
void er_mem_trim(void);
/* A count whose byte size does not fit a size_t (or a negative one) fails as out of memory
 * rather than wrapping to a small allocation (calloc checks this itself). */
#define ER_MALLOC(ptr, count)                                                                \
  do {                                                                                       \
    size_t n_ = (size_t)(count), b_ = 0;                                                     \
    (ptr) = er_fault(ER_FAULT_ALLOC) || __builtin_mul_overflow(n_ ? n_ : 1, sizeof(*(ptr)), &b_) \
                ? NULL : malloc(b_);                                                         \
    if (!(ptr)) {                                                                            \
      err = ER_ERROR(ER_ERR_MEM, "out of memory allocating %zu bytes for %s",              \
                     n_ * sizeof(*(ptr)), #ptr);                                             \
      goto cleanup;                                                                          \
    }                                                                                        \
    er_mem_note((ptr), n_ * sizeof(*(ptr)), __FILE__, __LINE__);                             \
  } while (0)
#define ER_CALLOC(ptr, count)                                                                \
  do {                                                                                       \
    size_t n_ = (size_t)(count);                                                             \
    (ptr) = er_fault(ER_FAULT_ALLOC) ? NULL : calloc(n_ ? n_ : 1, sizeof(*(ptr)));          \
    if (!(ptr)) {                                                                            \
      err = ER_ERROR(ER_ERR_MEM, "out of memory allocating %zu bytes for %s",              \
                     n_ * sizeof(*(ptr)), #ptr);                                             \
      goto cleanup;                                                                          \
    }                                                                                        \
    er_mem_note((ptr), n_ * sizeof(*(ptr)), __FILE__, __LINE__);                             \
  } while (0)
/* out = sum over k in [0, n) of expr (which uses k), accumulated in double in 8 independent
 * partial sums so that the compiler can vectorize it; the order depends on n only, so the result
 * is the same at any rank count. Row norms and dot products of the kernels use it. */
#define ER_SUM8(out, n, k, expr)                                                             \
  do {                                                                                       \
    double a_[8] = {0, 0, 0, 0, 0, 0, 0, 0}, t_ = 0;                                         \
    int64_t n_ = (n), b_ = 0;                                                                \
    for (; b_ + 8 <= n_; b_ += 8)                                                            \
      for (int64_t l_ = 0; l_ < 8; ++l_) {                                                   \
        int64_t k = b_ + l_;                                                                 \
        a_[l_] += (expr);                                                                    \
      }                                                                                      \
    for (int64_t k = b_; k < n_; ++k) t_ += (expr);                                          \
    (out) = t_ + (((a_[0] + a_[4]) + (a_[1] + a_[5])) + ((a_[2] + a_[6]) + (a_[3] + a_[7]))); \
  } while (0)

#define ER_FREE(ptr)                                                                         \
  do {                                                                                       \
    free(ptr);                                                                               \
    (ptr) = NULL;                                                                            \
  } while (0)

/* Collective on comm: every rank passes its local err; all return the same verdict (the
 * maximum code). If any rank failed, the message of the lowest failing rank is copied to every
 * rank's error slot, so rank 0 can print it, and the error counts as agreed when comm spans
 * every rank of MPI_COMM_WORLD (an agreement on MPI_COMM_SELF or a smaller group leaves it this
 * group's alone: the next ER_FINISH on the world still agrees it). If the agreement
 * itself cannot be made (MPI fails inside it), the job is aborted: nothing else is safe.
 * The discipline (docs/ERRORS.md): every collective is preceded by an agreement of whatever
 * could fail since the last one (ER_AGREE), and a collective function's cleanup agrees an error
 * that is still this rank's alone (ER_FINISH) before any collective release. */
er_err er_agree(MPI_Comm comm, er_err err);
/* Collective: a barrier whose waiting ranks sleep (poll_ns between tests) instead of spinning in
 * MPI, for ranks that wait while one rank works alone (METIS on rank 0, a file lock). */
er_err er_barrier_sleeping(MPI_Comm comm, long poll_ns);
/* 1 if the recorded error has been agreed on (er_agree), 0 if it is still this rank's alone. */
int er_error_agreed(void);
#define ER_AGREE(comm)                                                                       \
  do {                                                                                       \
    err = er_agree((comm), err);                                                             \
    if (err != ER_OK) goto cleanup;                                                          \
  } while (0)
/* In a collective function's cleanup: the verdict every rank returns. It agrees unless the error
 * is agreed already, so a function ends with an agreement on every path: a rank that failed
 * after the function's last agreement meets the others here, not in their next collective. */
#define ER_FINISH(comm) (err != ER_OK && er_error_agreed() ? err : er_agree((comm), err))

/* Print "erase-mpi: error: <message>" on rank 0 of comm (one line). Not collective. */
void er_report(MPI_Comm comm);

/* Rank-0 progress/info output (stdout, flushed). */
void er_log(MPI_Comm comm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Wall clock in seconds. */
double er_wtime(void);

/* Strict option-value parsers (src/core/parse.c): the whole string must be a number in [lo, hi]
 * (finite for reals); name is the option for the message (ER_ERR_INPUT). */
er_err er_parse_i64(const char *s, const char *name, int64_t lo, int64_t hi, int64_t *v);
er_err er_parse_f64(const char *s, const char *name, double lo, double hi, double *v);

/* The names of an enum's values, index = value: one table per enum serves parsing, --help and
 * provenance. */
typedef struct {
  const char *const *names;
  int n;
} er_enum_names;
#define ER_ENUM_NAMES(arr) {(arr), (int)(sizeof(arr) / sizeof((arr)[0]))}
/* *v = the index of s in e (ER_ERR_INPUT "NAME: 'x' is not a, b or c" otherwise). */
er_err er_parse_enum(const char *s, const char *name, const er_enum_names *e, int *v);
/* "a, b or c" into buf. */
void er_enum_list(const er_enum_names *e, char *buf, size_t len);

/* A path a command reads or writes, for er_paths_check. */
typedef struct {
  const char *option;   /* "--out", for the message */
  const char *path;     /* NULL or "" = not given */
  int output;           /* 1: the command writes it */
  const char *may_equal; /* the option it may name the same file as ("--resume"), or NULL */
} er_path;
/* Collective. Refuses (ER_ERR_INPUT, before anything is written) an output that is the same
 * file as an input or as another output, by device and inode (src/core/paths.c). */
er_err er_paths_check(MPI_Comm comm, const er_path *paths, int n);

/* Block distribution of n items over size ranks: rank r owns [lo, hi). */
void er_block_range(int64_t n, int size, int rank, int64_t *lo, int64_t *hi);

#endif
