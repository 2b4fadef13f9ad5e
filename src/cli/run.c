/* run.c — `sluice run [--log-level L] [--no-progress] [--from-start] PIPELINE.yaml`.
 *
 * Loads and builds the pipeline, starts the API server when the
 * configuration asks for one, and runs until the sources are exhausted or a
 * signal arrives.
 *
 * Signals: SIGINT and SIGTERM are blocked in every thread (the mask is set
 * before any thread exists and is inherited), and one dedicated thread takes
 * them with sigwait. The first asks the pipeline to stop (what was read is
 * drained and flushed); a second exits at once with status 130. Handling
 * signals on an ordinary thread means no async-signal-safety constraints on
 * what the stop does. SIGUSR1, also blocked, is how the main thread wakes
 * that thread up to end it once the run is over.
 *
 * SIGHUP reloads: the signal thread loads and builds the pipeline file
 * again while the running pipeline goes on. When the new configuration has
 * errors, they are logged and nothing else happens. Otherwise the running
 * pipeline is stopped gracefully (everything read is written, and a final
 * checkpoint is taken and published) and the new one starts from that
 * checkpoint: components keep their positions and state by name, so nothing
 * is read twice or skipped.
 *
 * The report: when the configuration has `report:`, a throughput sampler
 * runs alongside the pipeline and the HTML report is written when the run
 * ends, whether it succeeded or failed. With the API on, /report serves the
 * same report live.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../api/api.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../report/report.h"
#include "../report/sampler.h"
#include "../runtime/lineage.h"
#include "cli.h"

typedef struct signal_watch {
    sigset_t set;
    sl_pipeline *pipeline;
    const char *file;         /* the pipeline file, for SIGHUP */
    sl_cli_pipeline *next;    /* loaded on SIGHUP: run it once this run stops */
    atomic_bool done;
    atomic_bool stopped;      /* a signal stopped the run early */
} signal_watch;

/* SIGHUP: loads the pipeline file again; when it is valid, stops the
 * running pipeline so that the new one takes over. */
static void reload(signal_watch *w) {
    if (w->next || atomic_load(&w->stopped)) {
        sl_info("sluice", "received SIGHUP: a reload or stop is already under way");
        return;
    }
    sl_info("sluice", "received SIGHUP: loading %s again", w->file);
    sl_cli_pipeline *next = malloc(sizeof *next);
    if (!next)
        abort();
    if (sl_cli_load(w->file, next) != SL_EXIT_OK) {
        sl_cli_unload(next);
        free(next);
        sl_err("sluice", "reload rejected: %s has errors (above); the running pipeline goes on unchanged",
               w->file);
        return;
    }
    w->next = next;
    sl_info("sluice", "reloading: stopping the running pipeline at a checkpoint; the new one resumes from it");
    sl_pipeline_stop(w->pipeline);
}

static void *watch_signals(void *arg) {
    signal_watch *w = arg;
    int stops = 0;
    for (;;) {
        int sig;
        if (sigwait(&w->set, &sig) != 0)
            continue;
        if (atomic_load(&w->done))
            return NULL;
        if (sig == SIGUSR1)
            continue;
        if (sig == SIGHUP) {
            reload(w);
            continue;
        }
        if (stops++ == 0) {
            atomic_store(&w->stopped, true);
            sl_info("sluice", "received %s: stopping after what was read is written "
                    "(send it again to exit at once)", sig == SIGINT ? "SIGINT" : "SIGTERM");
            sl_pipeline_stop(w->pipeline);
        } else {
            static const char msg[] = "sluice: interrupted\n";
            ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
            (void)ignored;
            _exit(SL_EXIT_INTERRUPTED);
        }
    }
}

/* The log level: --log-level, else $SLUICE_LOG, else the pipeline's
 * log_level (applied once the file is loaded), else info. Returns false when
 * the flag or variable names no level. */
static bool set_log_level(const char *flag, bool *explicit_level) {
    const char *env = getenv("SLUICE_LOG");
    const char *level = flag ? flag : (env && *env ? env : NULL);
    *explicit_level = level != NULL;
    if (!level)
        return true;
    sl_log_level l;
    if (sl_log_parse_level(level, &l) < 0)
        return false;
    sl_log_set_level(l);
    return true;
}

/* The report's title: the configured one, else the pipeline file's name
 * without its directory and extension. */
static void report_title(const sl_config *cfg, char *out, size_t cap) {
    if (cfg->report_title) {
        snprintf(out, cap, "%s", cfg->report_title);
        return;
    }
    const char *base = strrchr(cfg->path, '/');
    base = base ? base + 1 : cfg->path;
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, cap, "%.*s", len, base);
}

/* What the report needs besides the pipeline; dlq_file is allocated. */
static void report_info_init(const sl_cli_pipeline *lp, sl_report_info *info, char *title, size_t title_cap) {
    report_title(lp->cfg, title, title_cap);
    size_t len = strlen(lp->cfg->dlq_path) + sizeof "/dlq.jsonl";
    char *dlq = malloc(len);
    if (!dlq)
        abort();
    snprintf(dlq, len, "%s/dlq.jsonl", lp->cfg->dlq_path);
    struct stat st;
    *info = (sl_report_info){
        .title = title,
        .pipeline = lp->cfg->path,
        .status = "running",
        .elapsed_s = -1,
        .dlq_file = dlq,
        /* this run's entries only: after the DLQ was cut back to the
         * checkpoint resumed, or set aside */
        .dlq_offset = stat(dlq, &st) == 0 ? (uint64_t)st.st_size : 0,
    };
}

/* Writes the final report; returns false (after saying why) when it could not. */
static bool write_report(const sl_cli_pipeline *lp, const sl_report_info *live, int run_rc,
                         const sl_error *run_err, double elapsed_s) {
    sl_report_info info = *live;
    info.status = run_rc < 0 ? "failed" : "succeeded";
    info.error = run_rc < 0 ? run_err->msg : NULL;
    info.elapsed_s = elapsed_s;
    sl_error err = {0};
    if (sl_report_write(lp->pipeline, &info, lp->cfg->report_path, &err) < 0) {
        fprintf(stderr, "sluice: error: %s\n", err.msg);
        return false;
    }
    sl_info("report", "wrote %s", lp->cfg->report_path);
    return true;
}

/* Resumes the loaded pipeline from its last checkpoint. When a component
 * cannot read its state in it, the others may hold that checkpoint's state
 * already: the pipeline is built again from the same configuration and
 * resumes from the generation before, or starts over (without appending to
 * earlier output) when none is left. */
static int resume(sl_cli_pipeline *lp, bool from_start, sl_error *err) {
    sl_refused_checkpoints refused = {0};
    for (;;) {
        int n = refused.n;
        if (sl_pipeline_resume(lp->pipeline, from_start, &refused, err) == 0)
            return 0;
        if (refused.n == n)
            return -1;
        sl_pipeline_free(lp->pipeline);
        sl_diag diag;   /* built once already: its diagnostics were printed then */
        sl_diag_init(&diag);
        lp->pipeline = sl_pipeline_build(lp->cfg, &diag);
        sl_diag_free(&diag);
        if (!lp->pipeline)
            return sl_errorf(err, "cannot build the pipeline again to resume from an earlier checkpoint");
    }
}

/* Runs a loaded pipeline to its end; *next receives the pipeline a SIGHUP
 * loaded to take over, or NULL. */
static int run_loaded(sl_cli_pipeline *lp, bool progress, bool from_start, sl_cli_pipeline **next) {
    *next = NULL;
    sl_error err = {0};
    sl_api *api = NULL;
    sl_sampler *sampler = NULL;
    const char *report_path = lp->cfg->report_path;
    /* Before anything holds the pipeline (resuming may build it again), and
     * before the report notes where this run's dead letters start. A failed
     * start is reported like a failed run (lineage, report, summary). */
    int run_rc = resume(lp, from_start, &err);
    if (!lp->pipeline) {
        fprintf(stderr, "sluice: error: %s\n", err.msg);
        return SL_EXIT_FAILED;
    }
    char title[256];
    sl_report_info info;
    report_info_init(lp, &info, title, sizeof title);
    if (report_path || lp->cfg->api_address) {
        sampler = sl_sampler_start(lp->pipeline, 1000, &err);
        if (!sampler) {
            fprintf(stderr, "sluice: error: %s\n", err.msg);
            free((char *)info.dlq_file);
            return SL_EXIT_FAILED;
        }
        info.sampler = sampler;
    }
    if (lp->cfg->api_address) {
        api = sl_api_start(lp->cfg->api_address, lp->pipeline, &err);
        if (!api) {
            fprintf(stderr, "sluice: error: %s\n", err.msg);
            sl_sampler_free(sampler);
            free((char *)info.dlq_file);
            return SL_EXIT_FAILED;
        }
        sl_api_serve_report(api, &info);
        sl_info("api", "listening on %s (metrics, health, ready, stats, report)", sl_api_url(api));
    }

    signal_watch watch;
    sigemptyset(&watch.set);
    sigaddset(&watch.set, SIGINT);
    sigaddset(&watch.set, SIGTERM);
    sigaddset(&watch.set, SIGUSR1);
    sigaddset(&watch.set, SIGHUP);
    watch.pipeline = lp->pipeline;
    watch.file = lp->cfg->path;
    watch.next = NULL;
    atomic_init(&watch.done, false);
    atomic_init(&watch.stopped, false);
    pthread_t watcher;
    int rc = pthread_create(&watcher, NULL, watch_signals, &watch);
    if (rc != 0) {
        fprintf(stderr, "sluice: error: cannot start the signal thread: %s\n", strerror(rc));
        sl_api_stop(api);
        sl_sampler_free(sampler);
        free((char *)info.dlq_file);
        return SL_EXIT_FAILED;
    }

    sl_lineage *lineage = sl_lineage_new(lp->cfg, lp->pipeline, SL_VERSION);
    sl_lineage_start(lineage);
    sl_run_options ro = {.progress = progress};
    int64_t t0 = sl_monotonic_ns();
    if (run_rc == 0)
        run_rc = sl_pipeline_run(lp->pipeline, &ro, &err);
    sl_lineage_end(lineage, run_rc < 0 ? err.msg : NULL, atomic_load(&watch.stopped));
    sl_lineage_free(lineage);
    double elapsed_s = (double)(sl_monotonic_ns() - t0) / 1e9;
    if (sampler)
        sl_sampler_stop(sampler);
    bool report_ok = !report_path || write_report(lp, &info, run_rc, &err, elapsed_s);
    sl_pipeline_summary(lp->pipeline, stderr);
    if (report_path && report_ok)
        fprintf(stderr, "report: %s\n", report_path);

    sl_api_stop(api);
    sl_sampler_free(sampler);
    free((char *)info.dlq_file);
    atomic_store(&watch.done, true);
    pthread_kill(watcher, SIGUSR1);
    pthread_join(watcher, NULL);
    *next = watch.next;

    if (run_rc < 0) {
        fprintf(stderr, "sluice: error: %s\n", err.msg);
        return SL_EXIT_FAILED;
    }
    return report_ok ? SL_EXIT_OK : SL_EXIT_FAILED;
}

int sl_cmd_run(int argc, char **argv) {
    bool no_progress = false, from_start = false;
    const char *log_level = NULL, *file;
    const sl_cli_flag flags[] = {
        {"--log-level", NULL, &log_level},
        {"--no-progress", &no_progress, NULL},
        {"--from-start", &from_start, NULL},
        {NULL, NULL, NULL},
    };
    int rc = sl_cli_parse("run", argc, argv, flags, &file);
    if (rc)
        return rc < 0 ? SL_EXIT_OK : rc;
    bool explicit_level;
    if (!set_log_level(log_level, &explicit_level))
        return sl_cli_usage_error("run", "unknown log level '%s': use debug, info, warn, error or off",
                                  log_level ? log_level : getenv("SLUICE_LOG"));

    /* Before any thread exists, so that every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* A closed stdout or socket is an error to report, not a silent death. */
    signal(SIGPIPE, SIG_IGN);

    sl_cli_pipeline lp;
    rc = sl_cli_load(file, &lp);
    if (rc == SL_EXIT_OK) {
        sl_log_level l;
        if (!explicit_level && lp.cfg->log_level && sl_log_parse_level(lp.cfg->log_level, &l) == 0)
            sl_log_set_level(l);
        sl_cli_pipeline *next;
        while ((rc = run_loaded(&lp, isatty(STDERR_FILENO) && !no_progress, from_start, &next)) == SL_EXIT_OK &&
               next) {
            sl_cli_unload(&lp);
            lp = *next;
            free(next);
            from_start = false;   /* the new pipeline resumes where the old one stopped */
            sl_info("sluice", "reloaded %s", file);
        }
        if (next) {               /* the old pipeline failed: the new one is not started */
            sl_cli_unload(next);
            free(next);
        }
    }
    sl_cli_unload(&lp);
    return rc;
}
