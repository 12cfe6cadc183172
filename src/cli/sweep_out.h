/* Internal to the CLI: the files of `einflow sweep` (sweep_out.c).
 * Points go to a JSON Lines file, one complete line per point appended
 * by a single write(2) to an O_APPEND descriptor, so a killed run
 * leaves at most one torn last line; reading the file back tells which
 * points are done (a torn line is cut off and its point redone). Once
 * every point of the run is in, the file is rewritten in index order
 * (to a temporary file renamed over it), with the Pareto front marked
 * if asked, and the CSV is written beside it. */
#ifndef EF_CLI_SWEEP_OUT_H
#define EF_CLI_SWEEP_OUT_H

#include "einflow/common.h"

/* The key of point index, for telling its line apart from another
 * sweep's: "INDEX-HASH". */
typedef void (*ef_sweep_key_fn)(void *ctx, uint64_t index, char out[40]);

/* Reads path (absent: nothing done) into done[point_count] (true for
 * each point whose line is there and whose key matches), cutting off a
 * torn last line; then opens it for appending into *fd. A complete
 * line that is not a point of this sweep is an error: *why says which
 * line and why, and the function returns EF_ERR_SPEC (EF_ERR_IO for a
 * failure to read or write, with errno's text in why). *found counts
 * the points found done. */
ef_status ef_sweep_out_open(const char *path, uint64_t point_count, ef_sweep_key_fn key, void *ctx,
                       bool *done, uint64_t *found, int *fd, char *why, size_t size);
/* Appends line and a newline with one write(2); false on failure. */
bool ef_sweep_out_append(int fd, const char *line);

typedef struct {
    const char *const *axis_paths;   /* the CSV's value columns          */
    int axis_count;
    bool pareto;                     /* mark the front: pareto: bool     */
    const char *csv_path;            /* NULL: no CSV                     */
} ef_sweep_finish;

/* Rewrites path in index order, one line per point (the first of any
 * duplicates), with pareto set as asked (and removed if not), and
 * writes the CSV; false with why on failure. *on_front counts the
 * front's points, *failed the points with an error. */
bool ef_sweep_out_finish(const char *path, const ef_sweep_finish *f, uint64_t *points,
                         uint64_t *on_front, uint64_t *failed, char *why, size_t size);

/* FNV-1a, 64 bits: the hash of a point's settings in its key. */
uint64_t ef_sweep_hash(const char *text, size_t len);

#endif
