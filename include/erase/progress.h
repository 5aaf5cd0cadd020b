/* progress.h: progress of a long step on rank 0: on a terminal one line rewritten in place with
 * the fraction done, the elapsed time and an ETA; in a batch log (not a terminal) a plain line
 * at most every ER_PROGRESS_LOG_S seconds and one when the step ends. Silenced by --quiet (any
 * command) through er_progress_quiet. Not collective: every rank may call, only rank 0 prints. */
#ifndef ERASE_PROGRESS_H
#define ERASE_PROGRESS_H

#include "erase/core.h"

#define ER_PROGRESS_LOG_S 30.0 /* seconds between lines in a batch log */

typedef struct {
  int on;              /* rank 0, not quiet */
  int tty;             /* stdout is a terminal */
  char what[96];
  double total, t0, last;
} er_progress;

void er_progress_quiet(int quiet);
int er_progress_is_quiet(void);
/* Starts a step of `total` units (0: unknown, only elapsed time is shown). */
void er_progress_begin(er_progress *p, MPI_Comm comm, const char *what, double total);
void er_progress_update(er_progress *p, double done);
/* Ends it: on a terminal the line is completed; in a log, "WHAT: done in S s" when it took
 * long enough to have been reported. */
void er_progress_end(er_progress *p);
/* "12.3 s", "4 min 05 s", "1 h 02 min" */
void er_format_seconds(double s, char *buf, size_t len);

#endif
