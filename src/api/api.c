/* api.c — the HTTP API server (see api.h).
 *
 * The listening socket is created and bound here rather than by
 * libmicrohttpd, so that a bind failure can be reported with its errno
 * ("Address already in use") instead of a bare "could not start". The socket
 * is then handed to MHD, which serves it from one internal polling thread.
 * Every endpoint renders into an sl_buf whose memory MHD frees with free().
 */
#include "api.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/metrics.h"

struct sl_api {
    struct MHD_Daemon *daemon;
    sl_pipeline *pipeline;
    const sl_report_info *_Atomic report;   /* NULL: /report is not served */
    char url[300];
};

/* Splits "host:port" / "[v6]:port" into host and port strings. */
static int split_address(const char *address, char *host, size_t host_cap, char *port,
                         size_t port_cap, sl_error *err) {
    const char *colon, *host_start = address, *host_end;
    if (address[0] == '[') {
        host_start = address + 1;
        host_end = strchr(host_start, ']');
        if (!host_end || host_end[1] != ':')
            return sl_errorf(err, "bad api address '%s': expected \"[v6address]:port\"", address);
        colon = host_end + 1;
    } else {
        colon = strrchr(address, ':');
        if (!colon)
            return sl_errorf(err, "bad api address '%s': expected \"host:port\", e.g. \"127.0.0.1:8686\"",
                             address);
        host_end = colon;
    }
    size_t hlen = (size_t)(host_end - host_start);
    const char *p = colon + 1;
    size_t plen = strlen(p);
    if (hlen == 0 || hlen >= host_cap)
        return sl_errorf(err, "bad api address '%s': missing host (use 0.0.0.0 for every interface)",
                         address);
    if (plen == 0 || plen >= port_cap || strspn(p, "0123456789") != plen || atoi(p) > 65535)
        return sl_errorf(err, "bad api address '%s': the port must be a number from 0 to 65535",
                         address);
    memcpy(host, host_start, hlen);
    host[hlen] = '\0';
    memcpy(port, p, plen + 1);
    return 0;
}

/* Creates a listening socket bound to address; returns it, or -1 with err. */
static int listen_on(const char *address, int *family, char url[300], sl_error *err) {
    char host[256], port[8];
    if (split_address(address, host, sizeof host, port, sizeof port, err) < 0)
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
        sl_report_build(api->pipeline, report, &body);
        return respond(conn, MHD_HTTP_OK, "text/html; charset=utf-8", &body);
    }
    if (strcmp(url, "/ready") == 0) {
        bool ready = sl_pipeline_ready(api->pipeline);
        sl_buf_puts(&body, ready ? "{\"status\":\"ready\"}\n" : "{\"status\":\"starting\"}\n");
        return respond(conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
                       &body);
    }
    /* The counters' JSON object, with the components' own state added as
     * one more member, "state". */
    sl_metrics_render_json(m, &body);
    if (body.len > 0 && body.data[body.len - 1] == '}') {
        body.len--;
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
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    api->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, api,
                                   MHD_OPTION_LISTEN_SOCKET, fd,
                                   MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                                   MHD_OPTION_END);
    if (!api->daemon) {
        close(fd);
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
    MHD_stop_daemon(api->daemon);   /* also closes the listening socket */
    free(api);
}
