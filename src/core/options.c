/* options.c: table-driven options (erase/options.h): getopt_long for the command line, inih for
 * --config files, --help and the provenance string from the same table. It knows no command:
 * each command passes its table and its options struct. */
#include "erase/options.h"

#include "erase/progress.h"

#include <dirent.h>
#include <getopt.h>
#include <ini.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const er_opt *find_opt(const er_cmd_spec *spec, const char *key) {
  char name[64];
  snprintf(name, sizeof name, "%s", key);
  for (char *p = name; *p; ++p) /* INI files may spell keys with underscores */
    if (*p == '_') *p = '-';
  for (int i = 0; i < spec->n_opts; ++i)
    if (!strcmp(spec->opts[i].name, key) || !strcmp(spec->opts[i].name, name))
      return &spec->opts[i];
  return NULL;
}

/* A bound stored as a double, back as an int64 (INT64_MIN/MAX do not survive the round trip) */
static int64_t i64_bound(double b) {
  if (b >= 0x1p63) return INT64_MAX;
  if (b <= -0x1p63) return INT64_MIN;
  return (int64_t)b;
}

/* where: "--" on the command line, "config key " in an INI file (for the message) */
static er_err set_value(void *base, const er_opt *o, const char *val, const char *where) {
  char name[96];
  snprintf(name, sizeof name, "%s%s", where, o->name);
  char *p = (char *)base + o->off;
  switch (o->type) {
  case ER_OPT_F64:
    if (o->lo == ER_OPT_POSITIVE) { /* say "> 0" rather than quote a tiny bound */
      double v;
      er_err err = er_parse_f64(val, name, -HUGE_VAL, o->hi, &v);
      if (err) return err;
      if (!(v > 0)) return ER_ERROR(ER_ERR_INPUT, "%s must be > 0 (got %g)", name, v);
      *(double *)p = v;
      return ER_OK;
    }
    return er_parse_f64(val, name, o->lo, o->hi, (double *)p);
  case ER_OPT_I64: return er_parse_i64(val, name, i64_bound(o->lo), i64_bound(o->hi), (int64_t *)p);
  case ER_OPT_ENUM: return er_parse_enum(val, name, o->names, (int *)p);
  case ER_OPT_FLAG: {
    int64_t v = 1;
    er_err err = val ? er_parse_i64(val, name, 0, 1, &v) : ER_OK;
    if (err == ER_OK) *(int *)p = (int)v;
    return err;
  }
  case ER_OPT_STR:
    if (strlen(val) >= o->size) return ER_ERROR(ER_ERR_INPUT, "%s: value too long", name);
    snprintf(p, o->size, "%s", val);
    return ER_OK;
  }
  return ER_ERROR(ER_ERR_INTERNAL, "%s: unknown option type", name);
}

static void format_value(const er_opt *o, const void *base, char *buf, size_t len) {
  const char *p = (const char *)base + o->off;
  switch (o->type) {
  case ER_OPT_F64: snprintf(buf, len, "%.17g", *(const double *)p); break;
  case ER_OPT_I64: snprintf(buf, len, "%lld", (long long)*(const int64_t *)p); break;
  case ER_OPT_ENUM: snprintf(buf, len, "%s", o->names->names[*(const int *)p]); break;
  case ER_OPT_FLAG: snprintf(buf, len, "%d", *(const int *)p); break;
  case ER_OPT_STR: snprintf(buf, len, "%s", p); break;
  }
}

typedef struct {
  const er_cmd_spec *spec;
  void *base;
  er_err err;
  const char *file;
} ini_ctx;

static int ini_set(void *user, const char *section, const char *key, const char *value) {
  ini_ctx *x = user;
  (void)section;
  if (x->err) return 0;
  const er_opt *o = find_opt(x->spec, key);
  if (!o) {
    x->err = ER_ERROR(ER_ERR_INPUT, "config %s: unknown key '%s'", x->file, key);
    return 0;
  }
  x->err = set_value(x->base, o, value, "config key ");
  return x->err == ER_OK;
}

static er_err read_config(const er_cmd_spec *spec, void *base, const char *path) {
  er_err err = ER_OK;
  ini_ctx x = {spec, base, ER_OK, path};
  FILE *f = fopen(path, "r");
  ER_CHECK(f, ER_ERR_INPUT, "cannot open config file '%s'", path);
  int rc = ini_parse_file(f, ini_set, &x);
  fclose(f);
  ER_CALL(x.err);
  ER_CHECK(rc == 0, ER_ERR_INPUT, "config %s: syntax error on line %d", path, rc);
cleanup:
  return err;
}

#ifndef ERASE_SOURCE_DIR
#define ERASE_SOURCE_DIR "."
#endif

void er_data_path(const char *rel, char *buf, size_t len) {
  const char *env = getenv("ERASE_DATA_DIR");
  if (env && *env) {
    snprintf(buf, len, "%s/%s", env, rel);
    return;
  }
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    struct stat st;
    snprintf(buf, len, "%s/../share/erase-mpi/%s", exe, rel);
    if (stat(buf, &st) == 0) return;
  }
  snprintf(buf, len, "%s/%s", ERASE_SOURCE_DIR, rel);
}

static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

/* "a, b or c" of the presets found (NAME.ini files), or "none found in DIR" */
static void preset_list(char *buf, size_t len) {
  char dir[4096];
  er_data_path("configs", dir, sizeof dir);
  DIR *d = opendir(dir);
  char names[32][64];
  int n = 0;
  struct dirent *e;
  while (d && n < 32 && (e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l > 4 && l < 64 && !strcmp(e->d_name + l - 4, ".ini")) {
      snprintf(names[n], sizeof names[n], "%.*s", (int)(l - 4), e->d_name);
      n++;
    }
  }
  if (d) closedir(d);
  if (n == 0) {
    snprintf(buf, len, "none found in %.400s", dir);
    return;
  }
  qsort(names, (size_t)n, sizeof names[0], cmp_name);
  const char *ptr[32];
  for (int i = 0; i < n; ++i) ptr[i] = names[i];
  er_enum_names list = {ptr, n};
  er_enum_list(&list, buf, len);
}

static er_err read_preset(const er_cmd_spec *spec, void *base, const char *name) {
  er_err err = ER_OK;
  char dir[4096], path[4200], list[512];
  ER_CHECK(*name && !strchr(name, '/'), ER_ERR_INPUT, "--preset: '%s' is not a preset name", name);
  er_data_path("configs", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/%s.ini", dir, name);
  if (access(path, R_OK) != 0) {
    preset_list(list, sizeof list);
    ER_CHECK(0, ER_ERR_INPUT, "--preset: no preset '%s' (presets: %s)", name, list);
  }
  ER_CALL(read_config(spec, base, path));
cleanup:
  return err;
}

/* "--name ARG" as --help shows it */
static void option_label(const er_opt *o, char *buf, size_t len) {
  const char *arg = o->arg;
  if (!arg) arg = o->type == ER_OPT_F64 ? "X" : o->type == ER_OPT_I64 ? "N" : "NAME";
  if (o->type == ER_OPT_FLAG) snprintf(buf, len, "--%s", o->name);
  else snprintf(buf, len, "--%s %s", o->name, arg);
}

void er_opts_help(MPI_Comm comm, const er_cmd_spec *spec, const void *base) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank) return;
  printf("%s\n", spec->usage);
  if (spec->presets) {
    char list[512];
    preset_list(list, sizeof list);
    printf("  %-24s a dataset's reference hyperparameters: %s\n", "--preset NAME", list);
  }
  if (spec->config_file)
    printf("  %-24s INI file with any of the keys below (the command line wins)\n",
           "--config FILE");
  for (int i = 0; i < spec->n_opts; ++i) {
    const er_opt *o = &spec->opts[i];
    char label[64], def[64], list[256] = "";
    option_label(o, label, sizeof label);
    if (o->type == ER_OPT_F64) snprintf(def, sizeof def, "%g", *(const double *)((const char *)base + o->off));
    else if (o->type == ER_OPT_FLAG) def[0] = '\0';
    else format_value(o, base, def, sizeof def);
    if (o->type == ER_OPT_ENUM) {
      memcpy(list, ": ", 2);
      er_enum_list(o->names, list + 2, sizeof list - 2);
    }
    printf("  %-24s ", label);
    for (const char *h = o->help; *h; ++h) /* continuation lines under the text column */
      if (*h == '\n') printf("\n%27s", "");
      else putchar(*h);
    printf("%s", list);
    if (def[0]) printf(" (default %s)", def);
    printf("\n");
  }
  if (!find_opt(spec, "quiet")) printf("  %-24s no progress lines\n", "--quiet");
  printf("  %-24s this text\n", "-h, --help");
  if (spec->epilog) printf("\n%s", spec->epilog);
  fflush(stdout);
}

char *er_opts_string(const er_cmd_spec *spec, const void *base) {
  size_t cap = 8192, len = 0;
  char value[4200];
  char *s = malloc(cap);
  if (!s) return NULL;
  s[0] = '\0';
  for (int i = 0; i < spec->n_opts; ++i) {
    if (len + sizeof value + 64 > cap) {
      char *ns = realloc(s, cap *= 2);
      if (!ns) {
        free(s);
        return NULL;
      }
      s = ns;
    }
    format_value(&spec->opts[i], base, value, sizeof value);
    len += (size_t)snprintf(s + len, cap - len, "%s = %s\n", spec->opts[i].name, value);
  }
  return s;
}

static er_err opts_parse(MPI_Comm comm, const er_cmd_spec *spec, void *base, int argc,
                         char **argv, char **pos, int *n_pos) {
  er_err err = ER_OK;
  struct option *lo = NULL;
  const char *config = NULL, *preset = NULL;
  if (n_pos) *n_pos = 0;
  /* pass 1: --help, and --config (applied before the command line, which wins) */
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--")) break;
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      er_opts_help(comm, spec, base);
      return ER_HELP_SHOWN;
    }
    if (spec->config_file && !strcmp(argv[i], "--config")) {
      ER_CHECK(i + 1 < argc, ER_ERR_INPUT, "--config needs a file");
      config = argv[i + 1];
    } else if (spec->config_file && !strncmp(argv[i], "--config=", 9)) {
      config = argv[i] + 9;
    } else if (spec->presets && !strcmp(argv[i], "--preset")) {
      ER_CHECK(i + 1 < argc, ER_ERR_INPUT, "--preset needs a name");
      preset = argv[i + 1];
    } else if (spec->presets && !strncmp(argv[i], "--preset=", 9)) {
      preset = argv[i] + 9;
    }
  }
  if (preset) ER_CALL(read_preset(spec, base, preset));
  if (config) ER_CALL(read_config(spec, base, config));
  /* pass 2: the command line */
  ER_CALLOC(lo, spec->n_opts + 3);
  for (int i = 0; i < spec->n_opts; ++i)
    lo[i] = (struct option){spec->opts[i].name,
                            spec->opts[i].type == ER_OPT_FLAG ? no_argument : required_argument,
                            0, 1000 + i};
  int extra = spec->n_opts; /* consumed in pass 1 */
  if (spec->config_file) lo[extra++] = (struct option){"config", required_argument, 0, 999};
  if (spec->presets) lo[extra++] = (struct option){"preset", required_argument, 0, 999};
  const er_opt *quiet = find_opt(spec, "quiet");
  int quiet_flag = 0; /* every command takes --quiet; a table may declare it as an option */
  if (!quiet) lo[extra++] = (struct option){"quiet", no_argument, 0, 998};
  opterr = 0;
  optind = 0; /* glibc: full re-initialization (a process may parse more than once) */
  int ch;
  while ((ch = getopt_long(argc, argv, spec->max_positional ? ":" : "+:", lo, NULL)) != -1) {
    if (ch == 999) continue;
    const er_opt *o = ch >= 1000 && ch < 1000 + spec->n_opts ? &spec->opts[ch - 1000] : NULL;
    /* a flag takes an optional 0 or 1 right after it: --quiet, --quiet 1, --quiet=0 */
    const char *val = optarg;
    if ((ch == 998 || (o && o->type == ER_OPT_FLAG)) && !val && optind < argc &&
        (!strcmp(argv[optind], "0") || !strcmp(argv[optind], "1")))
      val = argv[optind++];
    if (ch == 998) {
      quiet_flag = !val || strcmp(val, "0") != 0;
      continue;
    }
    if (o) {
      ER_CALL(set_value(base, o, val, "--"));
      continue;
    }
    const char *arg = argv[optind - 1];
    if (ch == ':' || (optopt && optopt != '?'))
      ER_CHECK(0, ER_ERR_INPUT, "%s: option '%s' is unknown or needs a value (see --help)",
               spec->cmd, arg);
    ER_CHECK(0, ER_ERR_INPUT, "%s: unknown option '%s' (see --help)", spec->cmd, arg);
  }
  for (int i = optind; i < argc; ++i) {
    ER_CHECK(n_pos && *n_pos < spec->max_positional, ER_ERR_INPUT,
             "%s: unexpected argument '%s' (see --help)", spec->cmd, argv[i]);
    pos[(*n_pos)++] = argv[i];
  }
  er_progress_quiet(quiet ? *(const int *)((const char *)base + quiet->off) : quiet_flag);
cleanup:
  free(lo);
  return err;
}

er_err er_opts_parse(MPI_Comm comm, const er_cmd_spec *spec, void *base, int argc, char **argv,
                     char **pos, int *n_pos) {
  er_err err = opts_parse(comm, spec, base, argc, argv, pos, n_pos);
  /* --help is seen by every rank alike; anything else (an allocation) may fail on one */
  return err == ER_HELP_SHOWN ? err : er_agree(comm, err);
}
