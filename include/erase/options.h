/* options.h: a command's options declared once, in a table that drives the command line
 * (getopt_long), INI files (--config, where the command takes one), --help and the provenance
 * string written into outputs. Values are checked against their ranges as they are parsed.
 * Not collective: every rank parses the same arguments and reaches the same verdict. */
#ifndef ERASE_OPTIONS_H
#define ERASE_OPTIONS_H

#include <stddef.h>

#include "erase/core.h"

typedef enum {
  ER_OPT_F64,  /* double in [lo, hi] (lo == ER_OPT_POSITIVE: > 0) */
  ER_OPT_I64,  /* int64_t in [lo, hi] */
  ER_OPT_STR,  /* char array of the field's size */
  ER_OPT_ENUM, /* int-sized enum, by name from the option's name table */
  ER_OPT_FLAG  /* int set to 1 by the bare option (no value); INI: 0 or 1 */
} er_opt_type;

#define ER_OPT_POSITIVE 1e-300 /* lower bound of an F64 that must be > 0 */

typedef struct {
  const char *name;            /* long option and INI key (INI may write '_' for '-') */
  er_opt_type type;
  size_t off, size;            /* the field in the command's options struct */
  double lo, hi;               /* bounds of F64 / I64 */
  const er_enum_names *names;  /* ER_OPT_ENUM */
  const char *arg;             /* value placeholder in --help (FILE, N, ...) */
  const char *help;            /* may hold '\n' for more lines */
} er_opt;

/* Table entries for a field f of the options struct S. */
#define ER_OPT_F(S, n, f, lo, hi, arg, help) \
  {n, ER_OPT_F64, offsetof(S, f), sizeof(((S *)0)->f), lo, hi, NULL, arg, help}
#define ER_OPT_I(S, n, f, lo, hi, arg, help) \
  {n, ER_OPT_I64, offsetof(S, f), sizeof(((S *)0)->f), (double)(lo), (double)(hi), NULL, arg, help}
#define ER_OPT_S(S, n, f, arg, help) \
  {n, ER_OPT_STR, offsetof(S, f), sizeof(((S *)0)->f), 0, 0, NULL, arg, help}
#define ER_OPT_B(S, n, f, help) \
  {n, ER_OPT_FLAG, offsetof(S, f), sizeof(((S *)0)->f), 0, 1, NULL, NULL, help}
#define ER_OPT_E(S, n, f, names, help) \
  {n, ER_OPT_ENUM, offsetof(S, f), sizeof(((S *)0)->f), 0, 0, &(names), NULL, help}

typedef struct {
  const char *cmd;      /* command name, for messages */
  const char *usage;    /* the usage line(s) and a paragraph, printed first by --help */
  const er_opt *opts;
  int n_opts;
  int config_file;      /* 1: accepts --config FILE, an INI file with the same keys */
  int presets;          /* 1: accepts --preset NAME, the shipped INI file configs/NAME.ini */
  int max_positional;   /* positional arguments allowed (0: none) */
  const char *epilog;   /* printed after the options by --help, or NULL */
} er_cmd_spec;

/* Returned after printing --help: success, nothing else to do. */
#define ER_HELP_SHOWN (-1)

/* Collective. Applies --preset NAME, then --config FILE (where the command takes them), then the command
 * line (which wins), to the struct at base, whose fields hold the defaults. Positional arguments are returned through
 * pos/n_pos (pointers into argv; pos may be NULL when max_positional is 0). Prints --help on
 * rank 0 of comm and returns ER_HELP_SHOWN when asked. */
er_err er_opts_parse(MPI_Comm comm, const er_cmd_spec *spec, void *base, int argc, char **argv,
                     char **pos, int *n_pos);
/* Every option as "name = value" lines, in table order, as --config reads them. Caller frees;
 * NULL when out of memory. */
char *er_opts_string(const er_cmd_spec *spec, const void *base);
/* --help text on rank 0 of comm, with the defaults found at base. */
void er_opts_help(MPI_Comm comm, const er_cmd_spec *spec, const void *base);

/* A file or directory shipped with erase-mpi (configs/NAME.ini, scripts/...): under
 * $ERASE_DATA_DIR if set, else <executable's directory>/../share/erase-mpi (an installed tree)
 * if it is there, else in the source tree (a build tree). */
void er_data_path(const char *rel, char *buf, size_t len);

#endif
