/* lazy_decode.c — records nothing reads: which sources have them, checking
 * their frames, and building a value when something reads it after all
 * (see lazy_decode.h).
 */
#include "lazy_decode.h"

#include <stdlib.h>

#include "../codec/format.h"
#include "../core/log.h"
#include "pipeline_internal.h"

bool sl_records_unread(const sl_pipeline *p, int source)
{
    bool *seen = calloc((size_t)p->n_comps, sizeof *seen);
    if (!seen) abort();
    sl_pipeline_reached(p, source, seen);
    bool unread = true;
    for (int v = 0; v < p->n_comps; v++)
        if (seen[v] && v != source && !p->comps[v].reads_no_fields)
            unread = false;
    free(seen);
    return unread;
}

/* b->build for checked frames. The check accepts only what the decoder
 * accepts, so decoding cannot fail; were it to, the record reads as an empty object
 * (its frame, already checked, is still what a JSON Lines sink writes). */
static void build_value(sl_batch *b, sl_record *r)
{
    sl_decode_error err = {0};
    if (sl_format_decode(b->format, b->stream, &b->arena, r->raw, r->raw_len, &r->value_, &err) == 0)
        return;
    sl_log(SL_LOG_ERROR, b->origin, "internal error: a checked record failed to decode (%s: %s)",
           err.reason ? err.reason : "decode", err.msg);
    r->value_ = sl_map_new(&b->arena, 0);
}

int sl_lazy_decode(sl_batch *b, sl_record *r, bool check_only, uint8_t *flags, sl_decode_error *err)
{
    if (!check_only || !sl_format_checks(b->format)) {
        int rc = sl_format_decode(b->format, b->stream, &b->arena, r->raw, r->raw_len, &r->value_, err);
        *flags = r->value_.flags;
        return rc;
    }
    int rc = sl_format_check(b->format, r->raw, r->raw_len, flags, err);
    if (rc == 0) {
        b->build = build_value;
        sl_record_leave_unbuilt(b, r);
    }
    return rc;
}
