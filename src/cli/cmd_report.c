/* cmd_report.c: `erase-mpi report`: the pictures of a finished run. Rank 0 runs
 * scripts/erase_report.py (Debian's python3 with matplotlib, h5py and scikit-learn) and the
 * other ranks wait for its verdict; the script's last error line becomes ours. */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "erase/cli.h"

extern char **environ;

typedef struct {
  char out[4096], log[4096], study[4096];
  int64_t tsne_sample, pca_sample;
} report_args;

#define A report_args
static const er_opt report_opts[] = {
    ER_OPT_S(A, "out", out, "DIR", "directory for index.html and the PNGs (required)"),
    ER_OPT_S(A, "log", log, "LOG.jsonl", "the run's --log-json: per-epoch phases and waits"),
    ER_OPT_S(A, "study", study, "DIR", "a scaling study directory (submit_scaling.sh): its\n"
                                       "scaling PNG and CSV are linked in"),
    ER_OPT_I(A, "tsne-sample", tsne_sample, 0, 100000, "N", "nodes in the t-SNE picture (0: none)"),
    ER_OPT_I(A, "pca-sample", pca_sample, 100, 10000000, "N", "nodes in the PCA picture"),
};
#undef A

static const er_cmd_spec report_spec = {
    .cmd = "report",
    .usage = "usage: erase-mpi report RUN.h5 [--log LOG.jsonl] [--study DIR] --out DIR\n"
             "\n"
             "Draw what a run did (the output of `train --out RUN.h5`) into DIR/index.html with\n"
             "PNGs: loss terms and accuracies per epoch with the best epoch marked; the quality\n"
             "of the noisy, denoised and semantic labels; a 2-D projection of the embeddings\n"
             "(PCA, t-SNE on a sample) coloured by class with wrong training labels marked; the\n"
             "class-by-class cosine similarity and the probe's confusion matrix on test nodes.\n"
             "Large runs are read in chunks and sampled: memory stays bounded.\n",
    .opts = report_opts,
    .n_opts = (int)(sizeof report_opts / sizeof report_opts[0]),
    .max_positional = 1,
};

/* Runs argv with stderr through a pipe; *status = its exit status; the last stderr line (the
 * script's one-line error) into msg. */
static er_err run_script(char *const argv[], int *status, char *msg, size_t len) {
  er_err err = ER_OK;
  int fd[2] = {-1, -1};
  pid_t pid;
  posix_spawn_file_actions_t fa;
  msg[0] = '\0';
  ER_CHECK(pipe(fd) == 0, ER_ERR_IO, "report: cannot create a pipe");
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fd[1], 2);
  posix_spawn_file_actions_addclose(&fa, fd[0]);
  int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fd[1]);
  fd[1] = -1;
  ER_CHECK(rc == 0, ER_ERR_INPUT, "report: cannot run %s (install python3-matplotlib, "
           "python3-h5py and python3-sklearn, or set ERASE_PYTHON)", argv[0]);
  FILE *f = fdopen(fd[0], "r");
  char line[1024];
  while (f && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0]) snprintf(msg, len, "%s", line);
  }
  if (f) fclose(f);
  else close(fd[0]);
  fd[0] = -1;
  while (waitpid(pid, status, 0) < 0) {}
cleanup:
  if (fd[0] >= 0) close(fd[0]);
  if (fd[1] >= 0) close(fd[1]);
  return err;
}

er_err er_cmd_report(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  report_args a = {.tsne_sample = 5000, .pca_sample = 20000};
  char *pos[1];
  int n_pos, rank;
  MPI_Comm_rank(comm, &rank);
  ER_CALL(er_opts_parse(comm, &report_spec, &a, argc, argv, pos, &n_pos));
  ER_CHECK(n_pos == 1, ER_ERR_INPUT, "report: expected one argument RUN.h5 (see --help)");
  ER_CHECK(a.out[0], ER_ERR_INPUT, "report: --out DIR is required");
  if (rank == 0) {
    char script[4096], tsne[32], pca[32], msg[1024];
    const char *python = getenv("ERASE_PYTHON");
    er_data_path("scripts/erase_report.py", script, sizeof script);
    snprintf(tsne, sizeof tsne, "%lld", (long long)a.tsne_sample);
    snprintf(pca, sizeof pca, "%lld", (long long)a.pca_sample);
    char *args[16] = {(char *)(python && *python ? python : "/usr/bin/python3"), script, pos[0],
                      "--out", a.out, "--tsne-sample", tsne, "--pca-sample", pca};
    int n = 9, status = 0;
    if (a.log[0]) args[n++] = "--log", args[n++] = a.log;
    if (a.study[0]) args[n++] = "--study", args[n++] = a.study;
    args[n] = NULL;
    err = run_script(args, &status, msg, sizeof msg);
    if (err == ER_OK && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      err = ER_ERROR(ER_ERR_INPUT, "%s", msg[0] ? msg : "report: the report script failed");
  }
cleanup:
  return err;
}
