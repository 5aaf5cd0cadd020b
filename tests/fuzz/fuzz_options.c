/* fuzz_options.c: `train --config FILE` on arbitrary INI text: read_config -> inih -> the option
 * table's set_value -> er_parse_i64/f64/enum. The verdict must be an input error with a
 * one-line message or success; a configuration accepted must survive its own provenance string
 * (er_train_config_string, "as --config reads them") read back as a config file. */
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "erase/train.h"
#include "fuzz.h"

/* 1 when inih can read every "key = value" line of s back as it is: the line fits its buffer
 * (INI_MAX_LINE with the newline and the NUL), and the value does not start with ';' (after
 * " = " inih takes it for an inline comment; a value can start with ';' in a file written
 * "key=;x"). A value that cannot be written for --config is a limitation, not a bug. */
static int ini_can_hold(const char *s) {
  for (const char *p = s; *p;) {
    const char *e = strchr(p, '\n'), *eq = strstr(p, " = ");
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len + 2 > INI_MAX_LINE || (eq && (!e || eq < e) && eq[3] == ';')) return 0;
    p += len + (e != NULL);
  }
  return 1;
}

void fz_run(const uint8_t *data, size_t size) {
  const char *ini = fz_path("config.ini"), *again = fz_path("again.ini");
  fz_write_file(ini, data, size);
  char *argv[] = {"train", "--data", "x", "--config", (char *)ini, NULL};
  er_train_config cfg, back;
  er_train_config_defaults(&cfg);
  er_err err = er_train_config_parse(MPI_COMM_SELF, 5, argv, &cfg);
  fz_check_verdict(err, FZ_CODE(ER_ERR_INPUT), 0, "er_train_config_parse");
  if (err != ER_OK) return;

  /* round trip: what the outputs record as the configuration reads back as the same one */
  char *s1 = er_train_config_string(&cfg), *s2 = NULL;
  FZ_ASSERT(s1, "er_train_config_string returned NULL");
  if (ini_can_hold(s1)) {
    fz_write_file(again, s1, strlen(s1));
    char *argv2[] = {"train", "--config", (char *)again, NULL};
    er_train_config_defaults(&back);
    err = er_train_config_parse(MPI_COMM_SELF, 3, argv2, &back);
    FZ_ASSERT(err == ER_OK, "the provenance string of an accepted config is refused: %s\n%s",
              er_error_message(), s1);
    s2 = er_train_config_string(&back);
    FZ_ASSERT(s2 && !strcmp(s1, s2), "the provenance string does not read back as itself:\n"
              "%s\n--- read back as ---\n%s", s1, s2 ? s2 : "(null)");
  }
  free(s1);
  free(s2);
}
