"""The role table on every route. The routes come from the server itself (`loacast routes` prints
the table that `serve` builds, from the same code), so a route added to the server is checked
here or fails this test: each is called by every caller — admin, editor, approver, operator, no
token, and a receiver (loudspeaker cluster) token:

- a staff route: no token → 401 (WWW-Authenticate: Bearer); a receiver token → 401 (it is no
  staff token); a role the route does not admit → 403 "forbidden"; an admitted role gets past
  the check (anything but 401/403, and no 5xx). The roles the server declares must be the ones
  below (docs/server.md's table);
- an open route: every caller gets its answer (the status given below), whatever token it sends;
- a receiver route: only the cluster's own token gets past (any staff token, another cluster's
  token, no token → 401);
- a media route (GET /media): any staff token and any cluster's token get past; no token → 401.

The requests of admitted callers aim at things that do not exist or carry invalid bodies, so that
the matrix changes nothing it depends on (checked at the end). Also: a bogus token is no token,
404/405, and logout ends the token."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import LOACAST, Server, check  # noqa: E402

A, E, P, O = "admin", "editor", "approver", "operator"
STAFF = {A, E, P, O}
OPEN, RECEIVER, MEDIA = "open", "receiver", "media"
CLUSTER, OTHER = "k1", "k2"   # the receiver caller's cluster, and another one

# (method, pattern as the server prints it) → (path to call, body, who, status expected of those
# admitted or None for "anything but 401/403/5xx"). who: the set of staff roles admitted, OPEN,
# RECEIVER or MEDIA. Bodies are invalid or targets missing on purpose. A route of the server
# missing here fails the test: add it, with a call that changes nothing.
ROUTES = {
    ("GET", "/metrics"): ("/metrics", None, OPEN, 200),
    ("GET", "/healthz"): ("/healthz", None, OPEN, 200),
    ("GET", "/api/v1/station"): ("/api/v1/station", None, OPEN, 200),
    ("GET", "/api/v1/time"): ("/api/v1/time", None, OPEN, 200),
    ("POST", "/api/v1/login"): ("/api/v1/login", {}, OPEN, 400),
    ("POST", "/api/v1/logout"): ("/api/v1/logout", None, STAFF, 204),  # with a token of its own
    ("GET", "/api/v1/users"): ("/api/v1/users", None, {A}, 200),
    ("POST", "/api/v1/users"): ("/api/v1/users", {}, {A}, 400),
    ("PATCH", "/api/v1/users/{name}"): ("/api/v1/users/nobody", {}, {A}, None),
    ("DELETE", "/api/v1/users/{name}"): ("/api/v1/users/nobody", None, {A}, 404),
    ("POST", "/api/v1/users/{name}/unlock"): ("/api/v1/users/nobody/unlock", None, {A}, 404),
    ("GET", "/api/v1/audit"): ("/api/v1/audit", None, {A, O}, 200),
    # the organisation tree (server/org/, issue 19): a node that does not exist
    ("GET", "/api/v1/nodes"): ("/api/v1/nodes", None, STAFF, 200),
    ("POST", "/api/v1/nodes"): ("/api/v1/nodes", {}, {A}, 400),
    ("GET", "/api/v1/nodes/{id}"): ("/api/v1/nodes/999999", None, STAFF, 404),
    ("PATCH", "/api/v1/nodes/{id}"): ("/api/v1/nodes/999999", {}, {A}, 404),
    ("DELETE", "/api/v1/nodes/{id}"): ("/api/v1/nodes/999999", None, {A}, 404),
    ("GET", "/api/v1/communes"): ("/api/v1/communes", None, STAFF, 200),
    ("POST", "/api/v1/communes"): ("/api/v1/communes", {}, {A, O}, 400),
    ("GET", "/api/v1/communes/{id}"): ("/api/v1/communes/nowhere", None, STAFF, 404),
    ("PATCH", "/api/v1/communes/{id}"): ("/api/v1/communes/nowhere", {}, {A, O}, None),
    ("DELETE", "/api/v1/communes/{id}"): ("/api/v1/communes/nowhere", None, {A, O}, 404),
    ("GET", "/api/v1/clusters"): ("/api/v1/clusters", None, STAFF, 200),
    ("POST", "/api/v1/clusters"): ("/api/v1/clusters", {}, {A, O}, 400),
    ("GET", "/api/v1/clusters/{id}"): ("/api/v1/clusters/nothing", None, STAFF, 404),
    ("PATCH", "/api/v1/clusters/{id}"): ("/api/v1/clusters/nothing", {}, {A, O}, None),
    ("DELETE", "/api/v1/clusters/{id}"): ("/api/v1/clusters/nothing", None, {A, O}, 404),
    ("POST", "/api/v1/clusters/{id}/token"): ("/api/v1/clusters/nothing/token", None, {A, O}, 404),
    ("POST", "/api/v1/receivers/{cluster}/status"):
        ("/api/v1/receivers/%s/status" % CLUSTER, {"volume": "loud"}, RECEIVER, 400),
    ("GET", "/api/v1/bulletins"): ("/api/v1/bulletins", None, STAFF, 200),
    ("POST", "/api/v1/bulletins"): ("/api/v1/bulletins", {}, {A, E}, 400),
    ("GET", "/api/v1/bulletins/{id}"): ("/api/v1/bulletins/999999", None, STAFF, 404),
    ("POST", "/api/v1/bulletins/{id}/approve"): ("/api/v1/bulletins/999999/approve", None, {A, P}, 404),
    ("POST", "/api/v1/bulletins/{id}/reject"): ("/api/v1/bulletins/999999/reject", {"reason": "x"}, {A, P}, 404),
    ("POST", "/api/v1/bulletins/{id}/withdraw"): ("/api/v1/bulletins/999999/withdraw", None, {A, E, P}, 404),
    ("PUT", "/api/v1/bulletins/{id}/audio"): ("/api/v1/bulletins/999999/audio", b"RIFF", {A, E}, None),
    ("GET", "/api/v1/bulletins/{id}/audio"): ("/api/v1/bulletins/999999/audio", None, STAFF, 404),
    ("GET", "/api/v1/communes/{id}/slots"): ("/api/v1/communes/nowhere/slots", None, STAFF, 404),
    ("PUT", "/api/v1/communes/{id}/slots"): ("/api/v1/communes/nowhere/slots", {}, {A, O}, None),
    ("POST", "/api/v1/communes/{id}/sessions"): ("/api/v1/communes/nowhere/sessions", {}, {A, O}, None),
    ("GET", "/api/v1/rules"): ("/api/v1/rules", None, {A, O}, 200),
    ("PUT", "/api/v1/rules"): ("/api/v1/rules", [], {A, O}, 400),
    ("GET", "/api/v1/communes/{id}/rules"): ("/api/v1/communes/nowhere/rules", None, {A, O}, 404),
    ("PUT", "/api/v1/communes/{id}/rules"): ("/api/v1/communes/nowhere/rules", {}, {A, O}, 404),
    ("GET", "/api/v1/communes/{id}/programme"): ("/api/v1/communes/nowhere/programme", None, STAFF, 404),
    ("POST", "/api/v1/emergency"): ("/api/v1/emergency", {}, {A, P}, 400),
    ("GET", "/api/v1/emergency/{bulletin}"): ("/api/v1/emergency/999999", None, {A, P, O}, 404),
    # issue 20: on air now, staff listening (a ticket, never a token in the URL), emergency preview
    ("GET", "/api/v1/onair"): ("/api/v1/onair", None, STAFF, 200),
    ("POST", "/api/v1/communes/{id}/listen"): ("/api/v1/communes/nowhere/listen", None, STAFF, 404),
    ("GET", "/api/v1/communes/{id}/listen.opus"): ("/api/v1/communes/nowhere/listen.opus", None, OPEN, 401),
    ("POST", "/api/v1/emergency/preview"): ("/api/v1/emergency/preview", {}, {A, P}, 400),
    # CAP alerts (server/alerts/): a JSON body is no CAP document (415); alerts that do not exist
    ("POST", "/api/v1/alerts"): ("/api/v1/alerts", {}, {A, P, O}, 415),
    ("GET", "/api/v1/alerts"): ("/api/v1/alerts", None, STAFF, 200),
    ("GET", "/api/v1/alerts/{id}"): ("/api/v1/alerts/999999", None, STAFF, 404),
    ("POST", "/api/v1/alerts/{id}/confirm"): ("/api/v1/alerts/999999/confirm", None, {A, P}, 404),
    # self-tests (server/selftest/): bodies without their fields, nothing is run or stored
    ("POST", "/api/v1/selftest"): ("/api/v1/selftest", {}, {A, O}, 400),
    ("GET", "/api/v1/selftest/schedule"): ("/api/v1/selftest/schedule", None, {A, O}, 200),
    ("PUT", "/api/v1/selftest/schedule"): ("/api/v1/selftest/schedule", {}, {A, O}, 400),
    ("GET", "/api/v1/selftest/report"): ("/api/v1/selftest/report", None, {A, O}, 200),
    # the station lexicon (server/lexicon/, issue 20): bodies without their fields, a word that
    # has no entry
    ("GET", "/api/v1/lexicon"): ("/api/v1/lexicon", None, STAFF, 200),
    ("POST", "/api/v1/lexicon/preview"): ("/api/v1/lexicon/preview", {}, STAFF, 400),
    ("PUT", "/api/v1/lexicon/{word}"): ("/api/v1/lexicon/XYZQ", {}, {A, E, P}, 400),
    ("DELETE", "/api/v1/lexicon/{word}"): ("/api/v1/lexicon/XYZQ", None, {A, E, P}, 404),
    ("POST", "/api/v1/normalize"): ("/api/v1/normalize", {}, STAFF, 400),
    # the commune has no slot: off air, 503 (never a stream that would last a session)
    ("GET", "/stream/{cluster}.opus"): ("/stream/%s.opus" % CLUSTER, None, RECEIVER, 503),
    # no bulletin has audio: a well-formed hash names nothing
    ("GET", "/media/{hash}.opus"): ("/media/%s.opus" % ("0" * 64), None, MEDIA, 404),
    ("GET", "/api/v1/receivers/{cluster}/schedule"):
        ("/api/v1/receivers/%s/schedule?since=x" % CLUSTER, None, RECEIVER, 400),
    ("POST", "/api/v1/receivers/{cluster}/plays"):
        ("/api/v1/receivers/%s/plays" % CLUSTER, {"plays": []}, RECEIVER, 422),
    ("GET", "/api/v1/plays"): ("/api/v1/plays", None, {A, O}, 200),
    ("GET", "/api/v1/deliveries"): ("/api/v1/deliveries", None, {A, O}, None),
    ("GET", "/api/v1/coverage"): ("/api/v1/coverage", None, {A, O}, None),
    ("GET", "/api/v1/coverage/summary"): ("/api/v1/coverage/summary", None, {A, O}, None),
    ("GET", "/"): ("/", None, OPEN, 200),
    ("GET", "/index.html"): ("/index.html", None, OPEN, 200),
    ("GET", "/web/station.json"): ("/web/station.json", None, OPEN, 200),
    ("GET", "/web/{file}"): ("/web/app.js", None, OPEN, 200),
    ("GET", "/web/{dir}/{file}"): ("/web/screens/login.js", None, OPEN, 200),
    # issue 19, point 3: the cluster map (reads only), and Leaflet's images two levels down
    ("GET", "/api/v1/map"): ("/api/v1/map", None, STAFF, 200),
    ("GET", "/web/{dir}/{sub}/{file}"): ("/web/leaflet/images/layers.png", None, OPEN, 200),
    # issue 19, point 4: Icecast's URL authentication (server/icecast/): no [icecast] auth_secret
    # here, so 404 whoever calls (tests/stream/icecast_test.py covers them configured)
    ("POST", "/icecast/listener_add"): ("/icecast/listener_add", {}, OPEN, 404),
    ("POST", "/icecast/listener_remove"): ("/icecast/listener_remove", {}, OPEN, 404),
}


def server_routes():
    """[(method, pattern, roles)] from `loacast routes`; roles is "open" or a set of roles."""
    out = subprocess.run([LOACAST, "routes"], capture_output=True, text=True, check=True).stdout
    routes = []
    for line in out.splitlines():
        method, pattern, roles = line.split(" ")
        routes.append((method, pattern, OPEN if roles == OPEN else set(roles.split(","))))
    check(len(routes) >= 40, "loacast routes printed %d routes:\n%s" % (len(routes), out))
    return routes


def main():
    routes = server_routes()
    bad = []
    known = {(m, p) for m, p, _ in routes}
    for m, p, roles in routes:
        if (m, p) not in ROUTES:
            bad.append("%s %s: a route of the server that this test does not know how to call" % (m, p))
            continue
        who = ROUTES[(m, p)][2]
        if roles != (OPEN if who in (OPEN, RECEIVER, MEDIA) else who):
            bad.append("%s %s: the server admits %s, the test (and docs/server.md) say %s" % (m, p, roles, who))
    for m, p in sorted(set(ROUTES) - known):
        bad.append("%s %s: in this test, not in the server's table" % (m, p))
    check(not bad, "route table:\n" + "\n".join(bad))

    with Server() as s:
        s.start()
        admin = s.admin()
        passwords = {A: s.admin_password}
        tokens = {A: admin}
        for role, name in ((E, "ed"), (P, "ap"), (O, "op")):
            tokens[role] = s.make_user(admin, name, role)
            passwords[role] = name + "-password"
        users = {A: "admin", E: "ed", P: "ap", O: "op"}
        # the receiver caller: a cluster of a commune without slots (nothing ever goes on air)
        r = s.post("/api/v1/communes", {"id": "quang-phu", "name": "Quảng Phú"}, admin)
        check(r.status == 201, r)
        check(s.request("PUT", "/api/v1/communes/quang-phu/slots", [], admin).status == 200, "slots")
        ctoken = {}
        for cid in (CLUSTER, OTHER):
            r = s.post("/api/v1/clusters", {"id": cid, "commune": "quang-phu", "name": cid}, admin)
            check(r.status == 201, r)
            ctoken[cid] = r.json()["token"]
        callers = dict(tokens)
        callers[None] = None
        callers[RECEIVER] = ctoken[CLUSTER]

        calls = 0
        for m, p, _ in routes:
            path, body, who, want = ROUTES[(m, p)]
            for caller, tok in callers.items():
                if (m, p) == ("POST", "/api/v1/logout") and caller in STAFF:
                    tok = s.login(users[caller], passwords[caller])  # logout spends the token
                r = s.request(m, path, body, tok)
                calls += 1
                passed = r.status == want if want is not None else r.status not in (401, 403) and r.status < 500
                if who == OPEN:
                    ok = passed
                elif who == RECEIVER:
                    ok = passed if caller == RECEIVER else r.status == 401
                elif who == MEDIA:
                    ok = passed if caller is not None else (
                        r.status == 401 and r.headers.get("www-authenticate") == "Bearer")
                elif caller is None:
                    ok = r.status == 401 and r.headers.get("www-authenticate") == "Bearer"
                elif caller == RECEIVER:
                    ok = r.status == 401
                elif caller in who:
                    ok = passed
                else:
                    ok = r.status == 403 and r.json()["error"] == "forbidden"
                if not ok:
                    bad.append("%s %s as %s → %d %s" % (m, path, caller, r.status, r.body[:120]))
            if who == RECEIVER:  # another cluster's token is not this cluster's
                r = s.request(m, path, body, ctoken[OTHER])
                calls += 1
                if r.status != 401:
                    bad.append("%s %s with another cluster's token → %d" % (m, path, r.status))
        # a bogus token is no token
        r = s.get("/api/v1/bulletins", "not-a-token")
        if r.status != 401:
            bad.append("bogus token → %d" % r.status)
        # unknown paths and methods
        r = s.get("/api/v1/nothing", admin)
        if r.status != 404 or r.json()["error"] != "not_found":
            bad.append("unknown path → %r" % r)
        r = s.request("DELETE", "/api/v1/bulletins", None, admin)
        if r.status != 405 or "GET" not in r.headers.get("allow", ""):
            bad.append("wrong method → %r %r" % (r, r.headers))
        check(not bad, "role matrix failures:\n" + "\n".join(bad))
        # the staff tokens of the matrix still work; logout ends the token
        for role, tok in tokens.items():
            check(s.get("/api/v1/bulletins", tok).status == 200, "%s's token ended" % role)
        r = s.post("/api/v1/logout", None, tokens[E])
        check(r.status == 204, r)
        check(s.get("/api/v1/bulletins", tokens[E]).status == 401, "token alive after logout")
        # nothing changed
        check([c["id"] for c in s.get("/api/v1/communes", admin).json()["communes"]] == ["quang-phu"],
              "communes changed")
        check(sorted(c["id"] for c in s.get("/api/v1/clusters", admin).json()["clusters"]) == [CLUSTER, OTHER],
              "clusters changed")
        check(s.get("/api/v1/bulletins", admin).json()["bulletins"] == [], "bulletins changed")
        check(len(s.get("/api/v1/users", admin).json()["users"]) == 4, "users changed")
        s.stop()
    print("ok: all %d routes of the server x %d callers (%d requests)" % (len(routes), len(callers), calls))


if __name__ == "__main__":
    main()
