/* bundle.h — one hidden file holding a checkpoint interval's output for
 * every file a sink writes, so that a thousand output files cost one file
 * created and one fsync per checkpoint, not a thousand of each.
 *
 *   out/.{model}.jsonl.17.inprogress   the bundle: frames of records for many files
 *
 * The sink appends each batch's bytes for an output file to the frame in
 * memory as part of a *step*: one output file from a given size on (a
 * rotation starts a new step for the same file). In the frame a step that
 * starts its file (which may get a side file, below) fills chunks of its
 * own (SL_BUNDLE_CHUNK bytes), so that its bytes are together in memory a
 * chunk at a time: with a thousand files a batch brings each about one
 * record, and writing them from one place each costs the kernel half of
 * gathering them from all over the frame. The other steps, whose bytes are
 * copied from the bundle at the commit, share chunks in arrival order (their
 * own chunks would leave more of each frame unused). When the frame
 * is full it is written with the bytes of each step made contiguous (sorted
 * by step, in arrival order within a step), so that publishing copies one
 * range per step and frame. It is written on a thread of its own (frame_writer.h) while
 * the next frame fills the other of two buffers (SL_BUNDLE_FRAME bytes in
 * all). A part of at least
 * SL_BUNDLE_DIRECT bytes (a path template with few files, or none) is
 * written at once as a frame of its own, without a copy into the buffer:
 *
 *   frame = header {magic u32, entries u32, data bytes u64}
 *           entries {step u32, 0 u32, bytes u64} ...
 *           data: each entry's bytes, in entry order
 *
 * Disk space for what the frame holds is reserved as it fills (fallocate),
 * so that a full disk is found when a batch is taken (and the sink pauses),
 * not when the frame is written at the pre-commit.
 *
 * A step that starts its file (no rotation) and brings at least
 * SL_BUNDLE_SIDE bytes to the first frame it is in, or any step (no
 * rotation) whose first bytes are a part of at least SL_BUNDLE_DIRECT bytes
 * (few files: copied in one range, not one per part), gets a *side file* of its own next to
 * the bundle (out/.{model}.jsonl.17.s42.inprogress) instead of ranges in
 * the frames: publishing renames it into place, so a thousand files that
 * start in an interval are not copied (a path template with many files
 * writing a fresh directory). It is written when the frame is (kept open
 * up to SL_BUNDLE_SIDE_FDS of them, else opened and closed each time), and synced with the bundle
 * by one syncfs, not one fdatasync per file (their writeback is started
 * every SL_BUNDLE_SIDE_WRITEBACK bytes, as the bundle's is every 8 MiB, by
 * a thread of its own (writeback.h), so that the seal finds little left to
 * write). Side files cost a file created
 * per file and interval, so a step gets one only with enough bytes to be
 * worth it; the rest share the bundle.
 *
 * A *plain* bundle (a path without a template) holds one step and no
 * frames: the file's bytes as they are, so that publishing can rename it
 * into place when it starts the file, as a part file would be; a rotation
 * seals it and starts another.
 *
 * At the checkpoint's pre-commit the bundle is sealed (fdatasync, and its
 * directory fsynced) and its steps go to the part log (part_log.h), which
 * copies each step's ranges into its output file once the checkpoint is
 * durable. Readers of the output files never see the bundle.
 */
#ifndef SL_BUNDLE_H
#define SL_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "frame_writer.h"
#include "writeback.h"

#define SL_BUNDLE_FRAME (32u << 20)   /* both frame buffers, at most (less with a small memory_limit) */
#define SL_BUNDLE_DIRECT (32u << 10)  /* a part this large is a frame of its own, not copied */
#define SL_BUNDLE_SIDE (8u << 10)     /* a step starting its file with this much in a frame gets a side file */
#define SL_BUNDLE_SIDE_FDS 1024u       /* side files kept open, at most (or an eighth of RLIMIT_NOFILE) */
#define SL_BUNDLE_SIDE_WRITEBACK (256u << 10)   /* a side file's writeback is started this often */
#define SL_BUNDLE_MAX_SIDES 65536u     /* side files of one bundle, at most */
#define SL_BUNDLE_CHUNK 4096u          /* a step's bytes are together in a frame this many at a time */

/* One output file's bytes in a bundle, from file_size on. */
typedef struct sl_part_step {
    char *file;           /* the output file */
    uint64_t file_size;   /* its size before this step */
    uint64_t bytes;       /* bytes of the step in the bundle */
    char *rotate_to;      /* move the output file here first (rotation), or NULL */
    char *side;           /* the step's bytes are this side file, not ranges of the bundle, or NULL */
    bool noted;           /* what it creates or rotates is in the owned-files journal */
} sl_part_step;

/* Frees n steps and what they hold. */
void sl_part_steps_free(sl_part_step *steps, size_t n);

/* The free rest [at, end) of a chunk of frame number `frame`. */
typedef struct sl_bundle_chunk {
    uint32_t frame;
    uint32_t at, end;
} sl_bundle_chunk;

/* Where a step's bytes go, on the sink thread. */
typedef struct sl_step_place {
    uint8_t where;        /* not yet placed, the frames, or a side file (bundle.c) */
    int fd;               /* its side file, kept open (at most max_fds of them), or -1 */
    uint64_t written;     /* bytes of it handed to its side file */
    uint64_t synced_from; /* its bytes from here on are not yet being written to disk */
    sl_bundle_chunk chunk;   /* its own chunk, when it starts its file (bundle.c) */
    uint32_t entry_frame; /* the frame its last entry is in */
    uint32_t last_entry;  /* its last entry in that frame */
} sl_step_place;

/* Bytes of one step at `at` of the frame. */
typedef struct sl_bundle_entry {
    uint32_t step;
    uint32_t at;
    uint32_t len;
} sl_bundle_entry;

/* The bundle being written (sink thread only). */
typedef struct sl_bundle {
    int fd;                   /* -1 when none is open */
    bool plain;               /* one step, no frames (set after sl_bundle_init) */
    char *path;
    uint64_t size;            /* bytes in the file */
    uint64_t unsynced;        /* bytes written since writeback was last started */
    uint64_t reserved;        /* bytes of disk reserved for it (fallocate), or UINT64_MAX when
                                 the file system cannot */
    char *frame;              /* the frame being filled: chunks of SL_BUNDLE_CHUNK bytes, each of one step */
    size_t len, cap;          /* bytes of data in it; its size */
    size_t used;              /* bytes of it taken by chunks */
    uint32_t frames;          /* frames filled so far (the current one's number) */
    sl_bundle_chunk shared;   /* the chunk of the steps that share chunks, in arrival order */
    char *spare;              /* the other frame buffer, when it is not being written */
    sl_frame_writer writer;   /* writes a full frame while the next one fills */
    sl_writeback writeback;   /* starts the writeback of the bundle and its side files */
    sl_write_job *failed;     /* a frame whose write failed, to be written before anything else */
    sl_bundle_entry *entries; /* the frame's data, by step, in arrival order */
    size_t n_entries, cap_entries;
    sl_part_step *steps;      /* the steps of the open bundle */
    sl_step_place *placed;    /* per step */
    size_t n_steps, cap_steps;
    size_t n_sides, n_fds, max_fds;
    uint32_t *scratch;        /* per step, for sorting a frame */
    size_t cap_scratch;
} sl_bundle;

/* memory: for the two frame buffers (at most SL_BUNDLE_FRAME in all), one
 * filled while the other is written; allocated as they are first used. */
void sl_bundle_init(sl_bundle *b, size_t memory);
/* Sets the memory for the frame buffers again, before the first append. */
void sl_bundle_set_memory(sl_bundle *b, size_t memory);
/* Closes the open bundle, if any (its file stays: the next start removes
 * it), and frees everything. */
void sl_bundle_free(sl_bundle *b);

/* Opens a new bundle at path (creating its directories with mkdir). */
int sl_bundle_open(sl_bundle *b, const char *path, bool mkdir, sl_error *err);
bool sl_bundle_is_open(const sl_bundle *b);
/* Starts a step: `file` from file_size on (after moving it to rotate_to
 * when that is not NULL). Returns its number. A plain bundle takes one. */
uint32_t sl_bundle_step(sl_bundle *b, const char *file, uint64_t file_size, const char *rotate_to);
/* Appends n bytes to step `step`: into the frame, which is written first
 * when they do not fit (a part larger than the frame is written as a frame
 * of its own), after reserving disk space for them. On failure (a full disk
 * among others) nothing was taken (the file is cut back; the frame stays)
 * and -1 is returned with err. */
int sl_bundle_append(sl_bundle *b, uint32_t step, const void *p, size_t n, sl_error *err);
/* Writes the frame (on failure it stays, and the file is cut back). */
int sl_bundle_flush(sl_bundle *b, sl_error *err);
/* After sl_bundle_flush: fdatasyncs the bundle (syncfs when it has side
 * files) and its directory. On
 * success the caller takes path and steps (sl_bundle_take). */
int sl_bundle_seal(sl_bundle *b, sl_error *err);
/* After sl_bundle_seal: hands over the path and steps (the caller frees
 * them) and leaves no bundle open. */
void sl_bundle_take(sl_bundle *b, char **path, uint64_t *size, sl_part_step **steps, size_t *n_steps);

/* One range of a sealed bundle. */
typedef struct sl_bundle_range {
    uint32_t step;
    uint64_t offset;   /* in the bundle */
    uint64_t len;
} sl_bundle_range;

/* Reads the frame index of the sealed bundle at fd (size bytes, n_steps
 * steps): the ranges sorted by step, in write order within a step. The
 * caller frees *out. -1 with err when the bundle is not one. */
int sl_bundle_ranges(int fd, const char *path, uint64_t size, size_t n_steps, sl_bundle_range **out, size_t *n,
                     sl_error *err);

#endif
