/* fault.c: fault injection for the error-discipline tests. ERASE_FAULT=KIND:K[:RANK] makes the
 * K-th call site of KIND (alloc, h5, mpi, write, lib: a call into PT-Scotch or METIS, or any:
 * all kinds counted together) fail on rank RANK of MPI_COMM_WORLD (default 1);
 * ERASE_FAULT_COUNT=PATH writes each rank's site counts to PATH.<rank> when MPI finalizes. Read
 * once; without the variables every site costs one branch on a static. It injects nothing by
 * itself: the sites ask. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "erase/core.h"

static const char *const kind_names[ER_FAULT_NKIND] = {"alloc", "h5", "mpi", "write", "lib"};

static struct {
  int init;          /* 0: environment not read yet */
  int active;        /* 1: counting (an injection or a count was asked for) */
  int kind;          /* the kind to fail, ER_FAULT_NKIND = any */
  long long k;       /* fail the k-th site (1-based); 0: count only */
  int rank;          /* on this rank */
  long long seen[ER_FAULT_NKIND + 1]; /* sites passed per kind, and in all */
  int fired;
  char count_path[4096];
} fault;

static int world_rank(void) {
  int up = 0, rank = 0;
  MPI_Initialized(&up);
  if (up) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

static void fault_init(void) {
  fault.init = 1;
  fault.kind = ER_FAULT_NKIND;
  fault.rank = 1;
  const char *spec = getenv("ERASE_FAULT"), *count = getenv("ERASE_FAULT_COUNT");
  if (count && *count) {
    snprintf(fault.count_path, sizeof fault.count_path, "%s", count);
    fault.active = 1;
  }
  if (!spec || !*spec) return;
  char kind[16] = "";
  long long k = 0;
  int rank = 1;
  int n = sscanf(spec, "%15[a-z0-9]:%lld:%d", kind, &k, &rank);
  if (n < 2 || k < 1) {
    fprintf(stderr, "erase-mpi: warning: ERASE_FAULT='%s' is not KIND:K[:RANK]; ignored\n", spec);
    return;
  }
  for (int i = 0; i < ER_FAULT_NKIND; ++i)
    if (!strcmp(kind, kind_names[i])) fault.kind = i;
  if (fault.kind == ER_FAULT_NKIND && strcmp(kind, "any") != 0) {
    fprintf(stderr, "erase-mpi: warning: ERASE_FAULT kind '%s' unknown; ignored\n", kind);
    return;
  }
  fault.k = k;
  fault.rank = n == 3 ? rank : 1;
  fault.active = 1;
}

int er_fault_at(er_fault_kind kind, const char *file, int line) {
  if (!fault.init) fault_init();
  if (!fault.active) return 0;
  long long n_kind = ++fault.seen[kind], n_any = ++fault.seen[ER_FAULT_NKIND];
  if (fault.fired || fault.k == 0) return 0;
  long long n = fault.kind == ER_FAULT_NKIND ? n_any : n_kind;
  if ((fault.kind == ER_FAULT_NKIND || fault.kind == (int)kind) && n == fault.k &&
      world_rank() == fault.rank) {
    fault.fired = 1;
    fprintf(stderr, "erase-mpi: fault injected: %s site %lld at %s:%d\n", kind_names[kind], n, file,
            line);
    return 1;
  }
  return 0;
}

long long er_fault_arm(er_fault_kind kind, long long k, int rank) {
  if (!fault.init) fault_init();
  const long long seen = fault.seen[kind];
  memset(fault.seen, 0, sizeof fault.seen);
  fault.kind = kind, fault.k = k, fault.rank = rank, fault.fired = 0, fault.active = 1;
  return seen;
}

const char *er_fault_name(er_fault_kind kind) { return kind_names[kind]; }

void er_fault_report(void) {
  if (!fault.init || !fault.count_path[0]) return;
  char path[4200];
  snprintf(path, sizeof path, "%s.%d", fault.count_path, world_rank());
  FILE *f = fopen(path, "w");
  if (!f) return;
  for (int i = 0; i < ER_FAULT_NKIND; ++i) fprintf(f, "%s %lld\n", kind_names[i], fault.seen[i]);
  fprintf(f, "any %lld\nfired %d\n", fault.seen[ER_FAULT_NKIND], fault.fired);
  fclose(f);
}

void er_fault_stall(const char *where) {
  static const char *want = NULL;
  static int read = 0;
  if (!read) want = getenv("ERASE_STALL"), read = 1; /* read once: this is called every epoch */
  if (!want) return;
  size_t len = strlen(where);
  if (strncmp(want, where, len) != 0 || (want[len] && want[len] != ':') || world_rank() != 1)
    return;
  static int reached = 0;
  int nth = want[len] == ':' ? atoi(want + len + 1) : 1;
  if (++reached != nth) return; /* the nth time only */
  fprintf(stderr, "erase-mpi: stalled at %s (ERASE_STALL)\n", where);
  fflush(stderr);
  sleep(60);
}
