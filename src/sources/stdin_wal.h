/* stdin_wal.h — standard input through a write-ahead log: what the stdin
 * source takes from its pipe survives a crash (docs/delivery.md).
 *
 * Used by the stdin source (stdin.c) when the pipeline takes durable
 * checkpoints. Input is logged in `<data_dir>/wal/<source name>/` before it
 * is processed; the source's checkpoint state is a position in that log, so
 * a restarted run first replays what the log holds after the last
 * checkpoint, then goes on reading standard input, which continues the same
 * input: the start-up line "standard input continues input stream K at
 * byte B" says where a producer should resume.
 *
 * Threading: run on the source's thread; save, restore and commit as the
 * checkpoint hooks of component.h; metrics from any thread.
 */
#ifndef SL_STDIN_WAL_H
#define SL_STDIN_WAL_H

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/wal.h"
#include "../runtime/pipeline.h"
#include "stream.h"

typedef struct sl_stdin_wal sl_stdin_wal;

/* name: the source's (log lines, the log's directory); stream: its reading
 * state, whose format frames the input. Both outlive the object. */
sl_stdin_wal *sl_stdin_wal_new(const char *name, sl_stream *stream, const sl_wal_options *opts);
void sl_stdin_wal_free(sl_stdin_wal *w);

/* Replays the log after the restored position, then reads standard input
 * through the log until its end or a stop. Returns 0, or -1 with err. */
int sl_stdin_wal_run(sl_stdin_wal *w, sl_source_ctx *ctx, sl_error *err);

/* The checkpoint hooks (component.h). */
int sl_stdin_wal_save(sl_stdin_wal *w, sl_buf *state, sl_error *err);
int sl_stdin_wal_restore(sl_stdin_wal *w, const char *state, size_t len, sl_error *err);
int sl_stdin_wal_commit(sl_stdin_wal *w, const char *state, size_t len, sl_error *err);

/* Prometheus lines: input acknowledged (durably logged), replayed, and the
 * log's segments. Nothing before the log is opened. */
void sl_stdin_wal_metrics(sl_stdin_wal *w, const char *component, sl_buf *prom);

#endif
