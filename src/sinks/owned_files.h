/* owned_files.h — the files a sink's output consists of, as a journal, so
 * that a run resuming from an older checkpoint than the newest (or from
 * none) can make the output agree with it.
 *
 * The exactly-once `file` sink publishes parts into files after each
 * checkpoint (part_log.h). The checkpoint records each file's size, which
 * is enough to cut files back when the run resumes from that checkpoint.
 * But a checkpoint cannot know the files created or rotated *after* it: when
 * the newest checkpoint is damaged and the run falls back to the previous
 * one, those files would keep records that are then written again.
 *
 * So before a checkpoint is written, every file its publishing will create,
 * and every rotation it will do, is appended to this journal and fsynced;
 * the checkpoint records the journal's length. Resuming from a checkpoint
 * undoes what the journal holds past that length, newest first (a created
 * file is removed, a rotated file is moved back); then the checkpoint's own
 * steps are published again and files cut back to its sizes. When there
 * were checkpoints but none is usable (both generations damaged), every file
 * the journal names is moved aside ("<file>.aside-<UTC time>") and reported,
 * so that the run, which reads everything again, does not append to an
 * earlier run's output. A first run (a new data_dir) and --from-start (which
 * for a stdin source means new input) append, as to any existing file.
 *
 * The journal is "<data_dir>/owned/<sink name>" ('/' in the name as '_'),
 * guarded by data_dir's lock like the checkpoints. Each line is
 *     <crc32c of the JSON, 8 hex digits> {"create":"out/a.jsonl"}
 *     <crc32c ...> {"rotate":"out/a.jsonl","to":"out/a.1.jsonl"}
 * and reading stops at the first line that is torn or does not check.
 * Files that existed before the sink wrote to them (appended to, never
 * created) are never removed or moved.
 */
#ifndef SL_OWNED_FILES_H
#define SL_OWNED_FILES_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"

typedef struct sl_owned_files {
    char *path;        /* the journal, or NULL when not kept */
    sl_buf pending;    /* entries not yet written */
    uint64_t length;   /* bytes of whole entries in the journal */
} sl_owned_files;

void sl_owned_init(sl_owned_files *o);
void sl_owned_free(sl_owned_files *o);
/* Starts keeping the journal at path (sl_owned_path). */
void sl_owned_keep(sl_owned_files *o, const char *path);
bool sl_owned_kept(const sl_owned_files *o);
/* The journal's path for the sink `name` of the pipeline using data_dir.
 * Caller frees. */
char *sl_owned_path(const char *data_dir, const char *name);

/* Notes that publishing will create `file`, or move `file` to `to`. */
void sl_owned_note_create(sl_owned_files *o, const char *file);
void sl_owned_note_rotate(sl_owned_files *o, const char *file, const char *to);
/* Appends what was noted to the journal and fsyncs it. */
int sl_owned_sync(sl_owned_files *o, sl_error *err);
/* The journal's length once synced: what a checkpoint records. */
uint64_t sl_owned_length(const sl_owned_files *o);

/* What a run does with the journal before it starts. */
typedef enum {
    SL_OWNED_RESUME,      /* from a checkpoint: undo every entry past its length */
    SL_OWNED_SET_ASIDE,   /* there were checkpoints, none is usable: move every file named aside */
    SL_OWNED_KEEP,        /* a first run, or --from-start: the files stay (and are appended to) */
} sl_owned_start;

/* Before a run: reconciles the output as `how` says (`length`: what the
 * checkpoint resumed from recorded), then cuts the journal to the entries
 * that still hold. `who` names the sink in log lines. */
int sl_owned_reconcile(sl_owned_files *o, sl_owned_start how, uint64_t length, const char *who, sl_error *err);

#endif
