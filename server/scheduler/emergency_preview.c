/*
 * server/scheduler/emergency_preview.c — POST /api/v1/emergency/preview (admin, approver; issue
 * 20): hear an emergency's text before sending it.
 *
 *   {"text": "...", "voice"?: "vi"} → 200 audio/ogg (Cache-Control: no-store), the text spoken
 *   exactly as POST /api/v1/emergency would put it on air; 400 bad body, 422 empty text, unknown
 *   voice or a text that does not render, 429 busy (PREVIEWS_MAX renders already), 503 shutting
 *   down.
 *
 * Nothing is sent, stored or audited: no bulletin, no file in the audio store, no session, no
 * audit entry (the audit records what changes the station; a preview changes nothing, and the
 * emergency that follows is audited as ever). The render runs on the urgent pool behind any
 * emergency already waiting (lc_bulletins_speak); the request is held meanwhile, and the answer
 * dropped if the client went away.
 */
#define LC_LOG_MODULE "emergency"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "codecs/tts.h"
#include "common/log.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins.h"
#include "server/http/http.h"
#include "server/scheduler/scheduler.h"
#include "server/scheduler/scheduler_internal.h"
#include "server/scheduler/scheduler_state.h"

#define PREVIEWS_MAX 2          /* renders at once: the urgent pool is the emergencies' own */

static int previews;            /* loop thread only */

static void on_spoken(const struct lc_spoken *out, int cancelled, void *arg)
{
    struct lc_req *req = arg;
    previews--;
    if (!lc_req_alive(req)) {
        /* the client left: nothing to answer */
    } else if (cancelled) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
    } else if (out->rc == -EINVAL || out->rc == -ENODATA || out->rc == -EFBIG) {
        lc_reply_error(req, 422, "invalid", "%s", lc_err_msg(out->err));
    } else if (out->rc < 0) {
        lc_log(LC_LOG_ERR, "preview: %s", lc_err_msg(out->err));
        lc_reply_internal(req, "preview");
    } else {
        lc_http_respond(req, 200, "audio/ogg", "Cache-Control: no-store\r\n", out->ogg, out->len);
    }
    lc_req_release(req);
}

static void post_preview(struct lc_req *req, void *ctx)
{
    static const char *const fields[] = {"text", "voice", NULL};
    struct lc_scheduler *s = ctx;
    const char *text = NULL, *voice = "vi";
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (lc_api_string(req, body, "text", true, 100000, &text) < 0 ||
        lc_api_string(req, body, "voice", false, 31, &voice) < 0)
        goto out;
    if (text[0] == '\0') {
        lc_reply_error(req, 422, "invalid", "text must not be empty");
        goto out;
    }
    struct lc_err verr = {0};
    if (lc_tts_check_voice(voice, &verr) < 0) {
        lc_reply_error(req, 422, "invalid", "%s", lc_err_msg(&verr));
        goto out;
    }
    if (s->stopped) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        goto out;
    }
    if (previews >= PREVIEWS_MAX) {
        lc_reply_error(req, 429, "busy", "%d previews are being spoken; try again in a moment",
                       PREVIEWS_MAX);
        goto out;
    }
    lc_req_hold(req);
    int rc = lc_bulletins_speak(s->bulletins, text, voice, on_spoken, req);
    if (rc < 0) {
        if (rc == -ENOMEM)
            lc_reply_internal(req, "preview: memory");
        else
            lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        lc_req_release(req);
        goto out;
    }
    previews++;
    lc_log(LC_LOG_INFO, "%s hears an emergency's text before sending it (%zu bytes)", req->user,
           strlen(text));
out:
    json_decref(body);
}

int lc_emergency_preview_routes(struct lc_scheduler *s, struct lc_router *r)
{
    return lc_router_add(r, HTTP_POST, "/api/v1/emergency/preview",
                         LC_ROLE_ADMIN | LC_ROLE_APPROVER, LC_BODY_JSON, post_preview, s);
}
