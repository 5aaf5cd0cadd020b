/* fuzz_ckpt_whole.c: er_h5_check_whole, the first gate of `train --resume` and `info --verify`,
 * on arbitrary bytes (the seeds are real checkpoints, so mutations are flipped, truncated and
 * appended copies of one). Its verdict must be the rule's, computed here independently: a file
 * that starts with the magic is whole iff its stored digest is the digest of every byte after
 * the 16-byte head (in 1 MiB rows); a file without the magic whose HDF5 signature sits after the
 * 512-byte user block has a damaged head and is refused; any other file carries no digest.
 * HDF5 never sees these bytes (fuzz_h5_raw.c is the target that feeds them to HDF5). */
#include <stdlib.h>
#include <string.h>

#include "erase/h5.h"
#include "fuzz.h"

static const unsigned char magic[8] = {'E', 'R', 'A', 'S', 'E', 'D', 'G', '1'};
static const unsigned char hdf5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

void fz_run(const uint8_t *data, size_t size) {
  const char *path = fz_path("ckpt.h5");
  fz_write_file(path, data, size);
  int present = -1;
  er_err err = er_h5_check_whole(MPI_COMM_SELF, path, &present);
  fz_check_verdict(err, FZ_CODE(ER_ERR_INPUT), 0, "er_h5_check_whole");

  int want_ok, want_present = 0;
  if (size >= 16 && !memcmp(data, magic, 8)) {
    uint64_t stored, sum = 0;
    memcpy(&stored, data + 8, 8);
    const size_t row = (size_t)1 << 20;
    int64_t r = 0;
    for (size_t at = 16; at < size; at += row, ++r)
      sum += er_digest_rows(data + at, size - at < row ? size - at : row, r, 1);
    want_ok = sum == stored;
    want_present = 1;
  } else {
    want_ok = !(size >= 520 && !memcmp(data + 512, hdf5_sig, 8));
  }
  FZ_ASSERT((err == ER_OK) == want_ok, "%zu bytes: verdict %d (%s), the rule says %s", size, err,
            er_error_message(), want_ok ? "whole" : "refused");
  FZ_ASSERT(err != ER_OK || present == want_present, "present = %d, expected %d", present,
            want_present);
}
