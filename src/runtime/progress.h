/* progress.h — the progress bar of a batch run on a terminal.
 *
 * A thread redraws one line on stderr every 200 ms from the metrics alone:
 * bytes consumed / expected (with a bar when the total is known), records
 * read, rate and ETA. Stopping erases the line so the summary starts clean.
 */
#ifndef SL_PROGRESS_H
#define SL_PROGRESS_H

#include <stdio.h>

#include "../core/metrics.h"

typedef struct sl_progress sl_progress;

sl_progress *sl_progress_start(const sl_metrics *m, FILE *out);
void sl_progress_stop(sl_progress *pr);   /* erases the line; NULL is ignored */

#endif
