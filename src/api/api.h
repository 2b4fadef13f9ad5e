/* api.h — the HTTP API of a running pipeline (libmicrohttpd):
 *
 *   GET /metrics   Prometheus text format 0.0.4 (metrics.h)
 *   GET /health    200 {"status":"ok"} while the process is up
 *   GET /ready     200 once sl_pipeline_ready, else 503
 *   GET /stats     the metrics as JSON, with the components' state
 *   GET /report    the HTML report (report/report.h), once
 *                  sl_api_serve_report was called (404 before); built at
 *                  most once every 2 s, requests in between get that copy
 * Other paths answer 404, other methods 405. HEAD is answered like GET.
 *
 * The server polls its connections (at most 1024, each closed after 10 s
 * idle) on a pool of 4 threads, started here, until sl_api_stop: idle
 * connections cost no thread, so they cannot keep /health from answering,
 * and a slow /report holds up one thread, not /metrics or /health. It
 * reads the pipeline's metrics, readiness and component state, which are
 * safe to read from any thread.
 */
#ifndef SL_API_H
#define SL_API_H

#include "../core/error.h"
#include "../report/report.h"
#include "../runtime/pipeline.h"

typedef struct sl_api sl_api;

/* Listens on address ("host:port", "[v6addr]:port"; port 0 picks a free
 * port) and serves p. Returns NULL with err when the address is malformed or
 * cannot be bound ("cannot listen on 127.0.0.1:8686: Address already in use"). */
sl_api *sl_api_start(const char *address, sl_pipeline *p, sl_error *err);
/* "http://host:port/" with the port actually bound (useful with port 0). */
const char *sl_api_url(const sl_api *api);
void sl_api_stop(sl_api *api);
/* Serves /report from now on, built with info (which must stay valid and
 * unchanged until sl_api_stop). */
void sl_api_serve_report(sl_api *api, const sl_report_info *info);

#endif
