/*
 * server/reload.c — the signals that do not stop the server (issue 20), and the settings that
 * may change while running as the modules take them (used at the start too).
 *
 *   SIGHUP   what logrotate and `systemctl reload` send: reopens the access log, reads the
 *            configuration file again and applies what may change while running ([limits],
 *            the login limits of [auth], trusted_proxies, access_log, the lexicon), and says in
 *            one line what it applied and which changed keys wait for a restart. A file that no
 *            longer parses changes nothing (the line says why).
 *   SIGUSR1  reopens the access log only.
 *   SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO
 *            sent by mistake, they would end the process (their default); they are logged and
 *            ignored. (SIGINT/SIGTERM: server.c, a clean shutdown. SIGPIPE: ignored there.)
 */
#define LC_LOG_MODULE "server"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "codecs/normalize.h"
#include "common/buf.h"
#include "common/log.h"
#include "server/access_log.h"
#include "server/accounts/accounts.h"
#include "server/http/http.h"
#include "server/lexicon/lexicon.h"
#include "server/server_internal.h"

static const int quiet_signals[] = {SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO};
#define NQUIET (sizeof quiet_signals / sizeof quiet_signals[0])

/* One server per process (signals are the process's): the handles live here. */
static uv_signal_t handles[2 + NQUIET];
static size_t ninit;    /* handles initialised, to be closed */

/* ---- the settings a reload may change, as the modules take them (also at the start) ---- */

void lc_app_http_limits(const struct lc_config *cfg, int max_conn, struct lc_http_limits *out)
{
    *out = (struct lc_http_limits){
        .max_header_bytes = (size_t)cfg->max_header_bytes,
        .max_connections = max_conn,
        .header_timeout_ms = (unsigned)cfg->header_timeout_ms,
        .body_timeout_ms = (unsigned)cfg->body_timeout_ms,
        .idle_timeout_ms = (unsigned)cfg->idle_timeout_ms,
        .max_body_bytes_total = (size_t)cfg->max_bodies_bytes,
        .min_body_rate = (unsigned)cfg->min_body_rate,
        .reserve_staff = cfg->reserve_staff,
        .reserve_receivers = (int)((long long)max_conn * cfg->reserve_receivers_percent / 100),
        .max_anonymous_per_address = cfg->max_anonymous_per_address,
        .probation_ms = (unsigned)cfg->probation_ms,
    };
}

void lc_app_accounts_limits(const struct lc_config *cfg, struct lc_accounts_deps *out)
{
    out->token_ttl_s = cfg->token_ttl_s;
    out->login_max_failures = cfg->login_max_failures;
    out->login_max_failures_address = cfg->login_max_failures_address;
    out->login_window_s = cfg->login_window_s;
    out->password_min_length = cfg->password_min_length;
}

/* ---- the signals ---- */

/* What a reload did, for its one log line. */
struct reload {
    struct lc_buf applied, restart;
    bool limits, auth, trust, access_log, lexicon;
};

/* Appends "[section] key" (and ": was → now" when was is set) to b, "; "-separated. */
static void note(struct lc_buf *b, const char *section, const char *key, const char *was,
                 const char *now)
{
    char line[PATH_MAX * 2 + 128];
    int n = was ? snprintf(line, sizeof line, "%s[%s] %s: %s → %s", b->len ? "; " : "", section,
                           key, was[0] ? was : "(empty)", now[0] ? now : "(empty)")
                : snprintf(line, sizeof line, "%s[%s] %s", b->len ? "; " : "", section, key);
    if (n > 0)
        lc_buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void on_changed(void *arg, const char *section, const char *key, const char *was,
                       const char *now, bool reloadable)
{
    struct reload *r = arg;
    if (!reloadable) {
        note(&r->restart, section, key, NULL, NULL);
        return;
    }
    note(&r->applied, section, key, was, now);
    if (strcmp(section, "limits") == 0)
        r->limits = true;
    else if (strcmp(section, "auth") == 0)
        r->auth = true;
    else if (strcmp(key, "trusted_proxies") == 0)
        r->trust = true;
    else if (strcmp(key, "access_log") == 0)
        r->access_log = true;
    else if (strcmp(key, "lexicon") == 0)
        r->lexicon = true;
}

/* Applies the reloadable keys of next; returns 0, or -1 with why (nothing applied then). */
static int apply(struct app *app, const struct lc_config *next, struct reload *r, char *why,
                 size_t n)
{
    struct lc_http_trust *trust = NULL;
    struct lc_access_log *log = NULL;
    struct lc_err err = {0};
    /* everything that can fail first, so that a failure changes nothing */
    if (r->trust && lc_http_trust_parse(&trust, next->trusted_proxies, why, n) < 0)
        return -1;
    if (r->access_log && lc_access_log_open(&log, app->loop, next->access_log, &err) < 0) {
        snprintf(why, n, "%s", lc_err_msg(&err));
        lc_http_trust_free(trust);
        return -1;
    }
    if (r->trust)
        lc_http_set_trust(app->http, trust);
    if (r->access_log) {
        lc_access_log_close(app->access_log);
        app->access_log = log;
    }
    if (r->limits) {
        struct lc_http_limits limits;
        lc_app_http_limits(next, app->max_connections, &limits);
        lc_http_set_limits(app->http, &limits);
    }
    if (r->auth) {
        struct lc_accounts_deps d = {0};
        lc_app_accounts_limits(next, &d);
        lc_accounts_set_limits(app->accounts, &d);
    }
    return 0;
}

static void reopen_logs(struct app *app, const char *sig)
{
    int rc = lc_access_log_reopen(app->access_log);
    if (rc < 0)
        lc_log(LC_LOG_ERR, "%s: the access log %s cannot be reopened (%s): still writing to the "
               "old file", sig, app->cfg.access_log, strerror(-rc));
    else if (app->access_log != NULL)
        lc_log(LC_LOG_INFO, "%s: access log %s reopened", sig, app->cfg.access_log);
}

static void reload(struct app *app)
{
    struct lc_config next;
    struct lc_err err = {0};
    struct reload r = {0};
    char why[512];
    reopen_logs(app, "SIGHUP");
    if (app->cfg.source[0] == '\0') {
        lc_log(LC_LOG_INFO, "SIGHUP: running on the embedded defaults (no --config): no "
               "configuration to read again");
        goto out;
    }
    lc_config_defaults(&next);
    if (lc_config_load(&next, app->cfg.source, &err) < 0) {
        lc_log(LC_LOG_ERR, "SIGHUP: %s: nothing changed", lc_err_msg(&err));
        goto out;
    }
    lc_config_diff(&app->cfg, &next, on_changed, &r);
    if (apply(app, &next, &r, why, sizeof why) < 0) {
        lc_log(LC_LOG_ERR, "SIGHUP: %s: %s: nothing changed", app->cfg.source, why);
        goto out;
    }
    lc_config_take_reloadable(&app->cfg, &next);
    /* the lexicon file is read again even under the same name (a technician edited it); its
     * own line follows, from the render pool's read (server/lexicon/lexicon.h) */
    if (app->cfg.lexicon[0] != '\0' || r.lexicon) {
        int rc = lc_stlex_reload(app->stlex, r.lexicon ? app->cfg.lexicon : NULL);
        if (rc < 0)
            lc_log(LC_LOG_ERR, "SIGHUP: the lexicon cannot be read again: %s", strerror(-rc));
    }
    lc_buf_terminate(&r.applied);
    lc_buf_terminate(&r.restart);
    lc_log(LC_LOG_INFO, "SIGHUP: %s read again: %s%s%s", app->cfg.source,
           r.applied.len ? (const char *)r.applied.data : "no change to apply",
           r.restart.len ? "; changed, applied at the next start only: " : "",
           r.restart.len ? (const char *)r.restart.data : "");
out:
    lc_buf_free(&r.applied);
    lc_buf_free(&r.restart);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct app *app = h->data;
    if (app->stopping)
        return;
    if (signum == SIGHUP)
        reload(app);
    else if (signum == SIGUSR1)
        reopen_logs(app, "SIGUSR1");
    else
        lc_log(LC_LOG_WARN, "signal %d (%s) ignored: SIGHUP reloads, SIGTERM stops", signum,
               strsignal(signum));
}

int lc_app_signals_start(struct app *app, uv_loop_t *loop)
{
    int nums[2 + NQUIET] = {SIGHUP, SIGUSR1};
    memcpy(nums + 2, quiet_signals, sizeof quiet_signals);
    for (size_t i = 0; i < 2 + NQUIET; i++) {
        int rc = uv_signal_init(loop, &handles[i]);
        if (rc < 0)
            return rc;
        ninit++;
        handles[i].data = app;
        if ((rc = uv_signal_start(&handles[i], on_signal, nums[i])) < 0)
            return rc;
    }
    return 0;
}

void lc_app_signals_stop(struct app *app)
{
    (void)app;
    for (size_t i = 0; i < ninit; i++)
        uv_close((uv_handle_t *)&handles[i], NULL);
    ninit = 0;
}
