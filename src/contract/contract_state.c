/* contract_state.c — the part of a contract that lives across batches, its
 * `unique` windows, as checkpoint state (see contract.h), so that a
 * restarted pipeline still recognises the values seen before the restart.
 *
 * Each window is saved under its field's name and restored into the unique
 * field of the same name: a contract edited between runs keeps the windows
 * of the fields that are still unique (a window made smaller keeps its
 * newest values), and the caller is told about the others.
 */
#include <string.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "contract_internal.h"

void sl_contract_save_unique(sl_contract *c, sl_buf *out) {
    pthread_mutex_lock(&c->unique_lock);
    sl_buf_putc(out, '[');
    for (size_t k = 0; k < c->n_unique; k++) {
        const char *name = c->unique_specs[k]->name;
        sl_buf_puts(out, k ? ",{\"field\":" : "{\"field\":");
        sl_json_encode_string(out, name, strlen(name));
        sl_buf_puts(out, ",\"window\":");
        sl_seen_set_save(&c->windows[k], false, out);
        sl_buf_putc(out, '}');
    }
    sl_buf_putc(out, ']');
    pthread_mutex_unlock(&c->unique_lock);
}

/* The unique field named like saved[field], or -1. */
static int unique_index(const sl_contract *c, const sl_value *field) {
    for (size_t k = 0; k < c->n_unique; k++) {
        const char *name = c->unique_specs[k]->name;
        if (field->len == strlen(name) && memcmp(field->as.s, name, field->len) == 0) return (int)k;
    }
    return -1;
}

/* Restores every saved window into fresh sets; swapped in only when all
 * were read. */
static int restore_windows(sl_contract *c, const sl_value *saved, sl_buf *notes, sl_error *err) {
    sl_seen_set fresh[SL_CONTRACT_MAX_UNIQUE];
    bool restored[SL_CONTRACT_MAX_UNIQUE] = {false};
    int rc = 0;
    for (uint32_t i = 0; i < saved->len && rc == 0; i++) {
        const sl_value *item = &saved->as.items[i];
        const sl_value *field = sl_state_get(item, "field");
        if (!field || field->type != SL_STRING) {
            rc = sl_errorf(err, "unique window %u has no field name", i);
            break;
        }
        int k = unique_index(c, field);
        if (k >= 0 && restored[k]) {
            rc = sl_errorf(err, "the unique window of '%.*s' appears twice", (int)field->len, field->as.s);
            break;
        }
        if (k < 0) {
            sl_buf_printf(notes, "%sthe saved window of '%.*s' is ignored: the field is no longer unique",
                          notes->len ? "; " : "", (int)field->len, field->as.s);
            continue;
        }
        sl_seen_set_init(&fresh[k], c->unique_specs[k]->unique_window);
        restored[k] = true;
        if (sl_seen_set_restore(&fresh[k], sl_state_get(item, "window"), err) < 0)
            rc = sl_error_prefix(err, "unique window of '%.*s'", (int)field->len, field->as.s);
    }
    for (size_t k = 0; k < c->n_unique; k++) {
        if (rc == 0 && restored[k]) {
            sl_seen_set_free(&c->windows[k]);
            c->windows[k] = fresh[k];
        } else if (restored[k]) {
            sl_seen_set_free(&fresh[k]);
        } else if (rc == 0) {
            sl_buf_printf(notes, "%sthe unique window of '%s' starts empty: the checkpoint has none",
                          notes->len ? "; " : "", c->unique_specs[k]->name);
        }
    }
    return rc;
}

int sl_contract_restore_unique(sl_contract *c, const sl_value *saved, sl_buf *notes, sl_error *err) {
    if (!saved || saved->type != SL_ARRAY) return sl_errorf(err, "the unique windows are not a list");
    pthread_mutex_lock(&c->unique_lock);
    int rc = restore_windows(c, saved, notes, err);
    pthread_mutex_unlock(&c->unique_lock);
    return rc;
}
