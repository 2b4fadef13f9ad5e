/* api.c — the HTTP API server (see api.h).
 *
 * The listening socket is created and bound here rather than by
 * libmicrohttpd, so that a bind failure can be reported with its errno
 * ("Address already in use") instead of a bare "could not start". The socket
 * is then handed to MHD, which polls every connection (epoll) on a pool of
 * POOL_THREADS threads: an idle or half-open connection costs a descriptor,
 * not a thread, so up to MAX_CONNECTIONS of them (each dropped after
 * IDLE_TIMEOUT_S without a byte) cannot keep /health and /ready from
 * answering, and a slow request such as /report occupies one thread while
 * the others answer /metrics or /health. The handlers only read state that is
 * safe to read from any thread: atomic counters, and the components'
 * describe and metrics hooks, which take their own locks.
 * Every endpoint renders into an sl_buf whose memory MHD frees with free().
 *
 * /report is built at most once per REPORT_CACHE_NS: building it reads up to
 * 16 MiB of the DLQ file and merges the profiles, so it is cached, and
 * requests arriving meanwhile (or while it is being built) get the cached
 * page instead of building their own.
 */
#include "api.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/metrics.h"
#include "../core/util.h"

#define POOL_THREADS 4u
#define MAX_CONNECTIONS 1024u
#define IDLE_TIMEOUT_S 10u
#define REPORT_CACHE_NS (2 * 1000000000LL)

struct sl_api {
    struct MHD_Daemon *daemon;
    sl_pipeline *pipeline;
    const sl_report_info *_Atomic report;   /* NULL: /report is not served */
    char url[300];
    pthread_mutex_t report_lock;   /* guards the cached report below */
    sl_buf report_html;
    int64_t report_built_ns;       /* monotonic; 0: never built */
};

/* Creates a listening socket bound to address; returns it, or -1 with err. */
static int listen_on(const char *address, int *family, char url[300], sl_error *err) {
    char host[256], port[8];
    if (sl_split_host_port(address, host, sizeof host, port, sizeof port, err) < 0)
        return -1;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return sl_errorf(err, "cannot listen on %s: %s", address, gai_strerror(rc));
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0) {
        sl_errorf(err, "cannot listen on %s: %s", address, strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0) {
        sl_errorf(err, "cannot listen on %s: %s", address, strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    *family = res->ai_family;
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        getnameinfo((struct sockaddr *)&ss, len, NULL, 0, port, sizeof port, NI_NUMERICSERV);
    bool v6 = strchr(host, ':') != NULL;
    snprintf(url, 300, "http://%s%s%s:%s/", v6 ? "[" : "", host, v6 ? "]" : "", port);
    return fd;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *type,
                               sl_buf *body) {
    size_t len;
    char *data = sl_buf_steal(body, &len);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Appends the report to body: the cached page when it is younger than
 * REPORT_CACHE_NS, else a fresh one (which becomes the cached page). */
static void report_page(sl_api *api, const sl_report_info *info, sl_buf *body) {
    pthread_mutex_lock(&api->report_lock);
    int64_t now = sl_monotonic_ns();
    if (api->report_built_ns == 0 || now - api->report_built_ns >= REPORT_CACHE_NS) {
        api->report_html.len = 0;
        sl_report_build(api->pipeline, info, &api->report_html);
        api->report_built_ns = sl_monotonic_ns();
    }
    sl_buf_append(body, api->report_html.data, api->report_html.len);
    pthread_mutex_unlock(&api->report_lock);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls) {
    sl_api *api = cls;
    sl_buf body;
    sl_buf_init(&body);
    static const char *const paths[] = {"/metrics", "/health", "/ready", "/stats", "/report"};
    const sl_report_info *report = atomic_load(&api->report);
    bool known = false;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        known |= strcmp(url, paths[i]) == 0 && (report || strcmp(url, "/report") != 0);
    if (!known) {
        sl_buf_printf(&body, "{\"error\":\"not found\",\"endpoints\":[\"/metrics\",\"/health\",\"/ready\",\"/stats\"%s]}\n",
                      report ? ",\"/report\"" : "");
        return respond(conn, MHD_HTTP_NOT_FOUND, "application/json", &body);
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        sl_buf_printf(&body, "{\"error\":\"method %s not allowed; use GET\"}\n", method);
        return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json", &body);
    }
    sl_metrics *m = sl_pipeline_metrics(api->pipeline);
    if (strcmp(url, "/metrics") == 0) {
        sl_pipeline_prometheus(api->pipeline, &body);
        return respond(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &body);
    }
    if (strcmp(url, "/health") == 0) {
        sl_buf_puts(&body, "{\"status\":\"ok\"}\n");
        return respond(conn, MHD_HTTP_OK, "application/json", &body);
    }
    if (strcmp(url, "/report") == 0) {
        report_page(api, report, &body);
        return respond(conn, MHD_HTTP_OK, "text/html; charset=utf-8", &body);
    }
    if (strcmp(url, "/ready") == 0) {
        bool ready = sl_pipeline_ready(api->pipeline);
        sl_buf_puts(&body, ready ? "{\"status\":\"ready\"}\n" : "{\"status\":\"starting\"}\n");
        return respond(conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
                       &body);
    }
    /* The counters' JSON object, with two more members: each sink's
     * delivery guarantee, "delivery", and the components' own state, "state". */
    sl_metrics_render_json(m, &body);
    if (body.len > 0 && body.data[body.len - 1] == '}') {
        body.len--;
        sl_buf_puts(&body, ",\"delivery\":");
        sl_pipeline_delivery_json(api->pipeline, &body);
        sl_buf_puts(&body, ",\"state\":");
        sl_pipeline_describe(api->pipeline, &body);
        sl_buf_putc(&body, '}');
    }
    sl_buf_putc(&body, '\n');
    return respond(conn, MHD_HTTP_OK, "application/json", &body);
}

sl_api *sl_api_start(const char *address, sl_pipeline *p, sl_error *err) {
    int family = AF_UNSPEC;
    char url[300];
    int fd = listen_on(address, &family, url, err);
    if (fd < 0)
        return NULL;
    sl_api *api = calloc(1, sizeof *api);
    if (!api) {
        close(fd);
        sl_errorf(err, "cannot start the api server: out of memory");
        return NULL;
    }
    api->pipeline = p;
    memcpy(api->url, url, sizeof api->url);
    pthread_mutex_init(&api->report_lock, NULL);
    sl_buf_init(&api->report_html);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    api->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, api,
                                   MHD_OPTION_LISTEN_SOCKET, fd,
                                   MHD_OPTION_THREAD_POOL_SIZE, POOL_THREADS,
                                   MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S,
                                   MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS,
                                   MHD_OPTION_END);
    if (!api->daemon) {
        close(fd);
        pthread_mutex_destroy(&api->report_lock);
        free(api);
        sl_errorf(err, "cannot start the api server on %s", address);
        return NULL;
    }
    return api;
}

void sl_api_serve_report(sl_api *api, const sl_report_info *info) {
    atomic_store(&api->report, info);
}

const char *sl_api_url(const sl_api *api) {
    return api->url;
}

void sl_api_stop(sl_api *api) {
    if (!api)
        return;
    MHD_stop_daemon(api->daemon);   /* also closes the listening socket, joins the connections */
    pthread_mutex_destroy(&api->report_lock);
    sl_buf_free(&api->report_html);
    free(api);
}
