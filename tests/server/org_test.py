"""The organisation tree (issue 19, point 1): staff act only inside their node's subtree.

A province (the root) with two producers, P1 and P2; P1 has the commune nodes C1 (commune a) and
C2 (commune b); P2 has C3 (commune c). Staff of three levels — the province, producer P1 and
commune C1, each with every role — walk every route of the server (`loacast routes`: a route
added later fails this test until it is listed in SCOPED or UNSCOPED below). For each, what lies
outside the caller's subtree answers 404 (or 403 for the station-wide settings: rule defaults,
the self-test schedule, the lexicon) and lists hold only the caller's rows, while the province
sees everything. At the end, nothing outside a caller's subtree changed. Also: the tree's own
rules (no circle, no delete while something hangs under a node), an approver of P1 approving a
commune's bulletin (two-person within the subtree) and a producer's "*" reaching only its
communes' programmes."""
import datetime
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import LOACAST, Server, check  # noqa: E402

TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
HERE = os.path.dirname(os.path.abspath(__file__))
CAP = os.path.join(HERE, "..", "data", "cap", "lu-geocode.xml")
ROLES = ("admin", "editor", "approver", "operator")

# Routes with no staff scope, and why. Everything else is in SCOPED.
UNSCOPED = {
    ("GET", "/metrics"): "open (Prometheus)", ("GET", "/healthz"): "open",
    ("GET", "/api/v1/station"): "open", ("GET", "/api/v1/time"): "open",
    ("POST", "/api/v1/login"): "open", ("POST", "/api/v1/logout"): "one's own token",
    ("POST", "/api/v1/receivers/{cluster}/status"): "a receiver's token",
    ("POST", "/api/v1/receivers/{cluster}/plays"): "a receiver's token",
    ("GET", "/api/v1/receivers/{cluster}/schedule"): "a receiver's token",
    ("GET", "/stream/{cluster}.opus"): "a receiver's token",
    ("GET", "/media/{hash}.opus"): "content by hash, any token",
    ("GET", "/api/v1/communes/{id}/listen.opus"): "a ticket made by the scoped POST listen",
    ("POST", "/api/v1/emergency/preview"): "speech only: names no commune",
    ("POST", "/api/v1/alerts"): "a CAP alert selects communes by its area; seeing and confirming it are scoped",
    ("POST", "/api/v1/normalize"): "text only", ("POST", "/api/v1/lexicon/preview"): "text only",
    ("GET", "/api/v1/lexicon"): "the station's one voice, read by all",
    ("GET", "/api/v1/rules"): "the defaults, read by all",
    ("GET", "/api/v1/selftest/schedule"): "the station's schedule, read by all",
    ("GET", "/"): "console", ("GET", "/index.html"): "console", ("GET", "/web/station.json"): "console",
    ("GET", "/web/{file}"): "console", ("GET", "/web/{dir}/{file}"): "console",
    ("GET", "/web/{dir}/{sub}/{file}"): "console",
}
# Routes added by work in progress that this test learns about when they land.
PENDING = {("POST", "/icecast/listener_add"), ("POST", "/icecast/listener_remove")}


def routes():
    out = subprocess.run([LOACAST, "routes"], capture_output=True, text=True, check=True).stdout
    return [(m, p, r) for m, p, r in (line.split(" ") for line in out.splitlines())]


def main():
    with Server() as s:
        s.start()
        root = s.admin()
        T = {("root", "admin"): root}

        def req(method, path, body=None, who=("root", "admin"), **kw):
            return s.request(method, path, body, T[who], **kw)

        def ok(r, status, what):
            check(r.status == status, "%s: %d %s (wanted %d)" % (what, r.status, r.body[:200], status))
            return r.json() if r.body else None

        # ---- the tree ----------------------------------------------------------------------------
        n = {"root": 1}
        for name, parent in (("P1", "root"), ("C1", "P1"), ("C2", "P1"), ("P2", "root"), ("C3", "P2")):
            n[name] = ok(req("POST", "/api/v1/nodes", {"name": "Nút " + name, "parent": n[parent]}),
                         201, "node " + name)["id"]
        tree = ok(req("GET", "/api/v1/nodes"), 200, "nodes")["nodes"]
        check(tree[0]["id"] == 1 and tree[0]["parent"] is None and tree[0]["name"] == "loacast", tree[0])
        check({x["id"] for x in tree} == set(n.values()), tree)
        for cid, node, code in (("a", "C1", None), ("b", "C2", None), ("c", "C3", "19639")):
            body = {"id": cid, "name": "Xã " + cid.upper(), "node": n[node]}
            if code:
                body["code"] = code
            ok(req("POST", "/api/v1/communes", body), 201, "commune " + cid)
            ok(req("PUT", "/api/v1/communes/%s/slots" % cid, []), 200, "slots " + cid)
            tok = ok(req("POST", "/api/v1/clusters", {"id": cid + "-1", "commune": cid, "name": "Cụm " + cid,
                                                      "lat": 17.5, "lon": 106.4}), 201, "cluster")["token"]
            check(tok, "a receiver token")
        for level, node in (("root", "root"), ("p1", "P1"), ("c1", "C1"), ("p2", "P2")):
            for role in ROLES:
                if (level, role) == ("root", "admin"):
                    continue
                name = "%s-%s" % (level, role)
                ok(req("POST", "/api/v1/users", {"username": name, "password": name + "-password",
                                                 "role": role, "node": n[node]}), 201, "user " + name)
                T[(level, role)] = s.login(name, name + "-password")

        # the tree's own rules
        ok(req("PATCH", "/api/v1/nodes/%d" % n["P1"], {"parent": n["C1"]}), 409, "a node under its own child")
        ok(req("PATCH", "/api/v1/nodes/1", {"parent": n["P1"]}), 409, "the root moved")
        ok(req("DELETE", "/api/v1/nodes/%d" % n["C1"]), 409, "a node with a commune deleted")
        ok(req("DELETE", "/api/v1/nodes/%d" % n["P1"], who=("p1", "admin")), 409, "one's own node deleted")
        tmp = ok(req("POST", "/api/v1/nodes", {"name": "Tạm"}, who=("p1", "admin")), 201, "p1 adds a node")
        check(tmp["parent"] == n["P1"], tmp)  # under the caller's node by default
        ok(req("PATCH", "/api/v1/nodes/%d" % tmp["id"], {"parent": n["C2"], "name": "Tạm 2"},
               who=("p1", "admin")), 200, "p1 moves its node")
        ok(req("PATCH", "/api/v1/nodes/%d" % tmp["id"], {"parent": n["P2"]}, who=("p1", "admin")), 422,
           "p1 moves its node under P2")
        ok(req("DELETE", "/api/v1/nodes/%d" % tmp["id"], who=("p1", "admin")), 204, "p1 deletes an empty node")

        # ---- bulletins at three levels -----------------------------------------------------------
        def bulletin(who, communes, title):
            return ok(req("POST", "/api/v1/bulletins", {"title": title, "text": "Thông báo " + title + ".",
                                                        "communes": communes}, who=who), 202, title)["id"]
        b_p2 = bulletin(("p2", "editor"), ["c"], "Tin P2")
        b_c1 = bulletin(("c1", "editor"), ["a"], "Tin C1")
        b_p1 = bulletin(("p1", "editor"), ["*"], "Tin P1")
        b_root = bulletin(("root", "editor"), ["*"], "Tin tỉnh")
        for b, who in ((b_p2, ("p2", "editor")), (b_c1, ("c1", "editor")), (b_p1, ("p1", "editor")),
                       (b_root, ("root", "editor"))):
            s.wait_status(T[who], b, {"pending"})
        # two-person within the subtree: P1's approver approves C1's bulletin; C1's own approver
        # approves P1's? No: P1's bulletin is above C1 (404 for them)
        ok(s.approve(b_c1, T[("p1", "approver")]), 200, "p1 approver approves C1's bulletin")
        ok(s.approve(b_p1, T[("c1", "approver")], heard="x" * 64), 404, "c1 approver approves P1's bulletin")
        ok(s.approve(b_p1, T[("p1", "approver")]), 200, "p1 approver approves P1's bulletin")
        ok(s.approve(b_root, T[("root", "approver")]), 200, "root approver approves the province's bulletin")
        # a producer's "*" is its communes: P1's bulletin is in a's and b's programmes, not c's;
        # the province's is in all three
        start = int(time.time()) + 3600
        for cid in ("a", "b", "c"):
            ok(req("POST", "/api/v1/communes/%s/sessions" % cid,
                   {"start": datetime.datetime.fromtimestamp(start, TZ).isoformat(), "minutes": 10}),
               201, "session " + cid)
        for cid, want in (("a", {b_c1, b_p1, b_root}), ("b", {b_p1, b_root}), ("c", {b_root})):
            day = datetime.datetime.fromtimestamp(start, TZ).strftime("%Y-%m-%d")
            prog = ok(req("GET", "/api/v1/communes/%s/programme?date=%s" % (cid, day)), 200, "programme")
            got = {i["bulletin"] for sess in prog["sessions"] for i in sess["items"]}
            check(got == want, "commune %s's programme has bulletins %s, wanted %s" % (cid, got, want))

        # ---- history seeded in the database: a session, deliveries, plays, self-test results ------
        db = sqlite3.connect(os.path.join(s.data, "loacast.db"), timeout=30)
        t0 = int(time.time()) - 86400
        yday = datetime.datetime.fromtimestamp(t0, TZ).strftime("%Y-%m-%d")
        db.execute("INSERT INTO selftest_runs (id, started_at, started_by, scheduled, bulletin)"
                   " VALUES (900, ?, 'system', 0, ?)", (t0, b_root))
        for sid, cid in ((901, "a"), (903, "c")):
            db.execute("INSERT INTO broadcasts (id, commune, kind, start_at, end_at, status, programme,"
                       " created_at, aired_at_ms, ended_at_ms) VALUES (?, ?, 'adhoc', ?, ?, 'done',"
                       " '{\"items\":[]}', ?, ?, ?)", (sid, cid, t0, t0 + 600, t0, t0 * 1000, (t0 + 600) * 1000))
            db.execute("INSERT INTO deliveries (session, cluster, commune, session_start, session_end,"
                       " connected_at, audio_s, programme_s, bytes, reached, updated_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, 60, 60, 1000, 1, ?)",
                       (sid, cid + "-1", cid, t0, t0 + 600, t0, t0))
            db.execute("INSERT INTO plays (cluster, id, commune, session, bulletin, hash, start_ms, end_ms,"
                       " played_s, underruns, source, received_at) VALUES (?, 'p1', ?, ?, 0, '', ?, ?, 60, 0,"
                       " 'live', ?)", (cid + "-1", cid, sid, t0 * 1000, (t0 + 60) * 1000, t0))
            db.execute("INSERT INTO selftests (run, commune, session, start_at, state) VALUES"
                       " (900, ?, ?, ?, 'judged')", (cid, sid, t0))
            db.execute("INSERT INTO selftest_results (run, cluster, commune, ok, reason, at) VALUES"
                       " (900, ?, ?, 0, 'not_connected', ?)", (cid + "-1", cid, t0))
        db.commit()
        # a CAP alert whose geocode is commune c's (P2's)
        with open(CAP, "rb") as f:
            r = req("POST", "/api/v1/alerts", f.read(), headers={"Content-Type": "application/cap+xml"})
        alert = ok(r, 201, "CAP alert")
        check(alert["communes"] == ["c"], alert)

        # ---- every route, as staff of three levels ------------------------------------------------
        outside = {"node": n["C3"], "commune": "c", "cluster": "c-1", "user": "p2-editor", "bulletin": b_p2,
                   "alert": alert["id"]}
        # what each level may see: communes, users' names prefix, bulletins
        sees = {"root": {"a", "b", "c"}, "p1": {"a", "b"}, "c1": {"a"}}
        D = "?date=" + yday
        R = "?from=%s&to=%s" % (yday, yday)
        o = outside
        # (method, pattern) → (path, body, expected status for a caller outside, [list key, row field])
        SCOPED = {
            ("GET", "/api/v1/nodes"): ("/api/v1/nodes", None, 200, ("nodes", "node")),
            ("POST", "/api/v1/nodes"): ("/api/v1/nodes", {"name": "x", "parent": o["node"]}, 422, None),
            ("GET", "/api/v1/nodes/{id}"): ("/api/v1/nodes/%d" % o["node"], None, 404, None),
            ("PATCH", "/api/v1/nodes/{id}"): ("/api/v1/nodes/%d" % o["node"], {"name": "x"}, 404, None),
            ("DELETE", "/api/v1/nodes/{id}"): ("/api/v1/nodes/%d" % o["node"], None, 404, None),
            ("GET", "/api/v1/users"): ("/api/v1/users", None, 200, ("users", "user")),
            ("POST", "/api/v1/users"): ("/api/v1/users", {"username": "x1", "password": "long-password-1",
                                                          "role": "editor", "node": o["node"]}, 422, None),
            ("PATCH", "/api/v1/users/{name}"): ("/api/v1/users/" + o["user"], {"role": "admin"}, 404, None),
            ("DELETE", "/api/v1/users/{name}"): ("/api/v1/users/" + o["user"], None, 404, None),
            ("POST", "/api/v1/users/{name}/unlock"): ("/api/v1/users/%s/unlock" % o["user"], None, 404, None),
            ("GET", "/api/v1/audit"): ("/api/v1/audit?limit=1000", None, 200, ("audit", "actor")),
            ("GET", "/api/v1/communes"): ("/api/v1/communes", None, 200, ("communes", "id")),
            ("POST", "/api/v1/communes"): ("/api/v1/communes", {"id": "x", "name": "x", "node": o["node"]}, 422, None),
            ("GET", "/api/v1/communes/{id}"): ("/api/v1/communes/c", None, 404, None),
            ("PATCH", "/api/v1/communes/{id}"): ("/api/v1/communes/c", {"name": "x"}, 404, None),
            ("DELETE", "/api/v1/communes/{id}"): ("/api/v1/communes/c", None, 404, None),
            ("GET", "/api/v1/clusters"): ("/api/v1/clusters", None, 200, ("clusters", "commune")),
            ("POST", "/api/v1/clusters"): ("/api/v1/clusters", {"commune": "c", "name": "x"}, 422, None),
            ("GET", "/api/v1/clusters/{id}"): ("/api/v1/clusters/c-1", None, 404, None),
            ("PATCH", "/api/v1/clusters/{id}"): ("/api/v1/clusters/c-1", {"name": "x"}, 404, None),
            ("DELETE", "/api/v1/clusters/{id}"): ("/api/v1/clusters/c-1", None, 404, None),
            ("POST", "/api/v1/clusters/{id}/token"): ("/api/v1/clusters/c-1/token", None, 404, None),
            ("GET", "/api/v1/bulletins"): ("/api/v1/bulletins", None, 200, ("bulletins", "bulletin")),
            ("POST", "/api/v1/bulletins"): ("/api/v1/bulletins", {"title": "x", "text": "x", "communes": ["c"]}, 422, None),
            ("GET", "/api/v1/bulletins/{id}"): ("/api/v1/bulletins/%d" % o["bulletin"], None, 404, None),
            ("POST", "/api/v1/bulletins/{id}/approve"): ("/api/v1/bulletins/%d/approve" % o["bulletin"],
                                                         {"audio_hash": "0" * 64}, 404, None),
            ("POST", "/api/v1/bulletins/{id}/reject"): ("/api/v1/bulletins/%d/reject" % o["bulletin"],
                                                        {"reason": "x"}, 404, None),
            ("POST", "/api/v1/bulletins/{id}/withdraw"): ("/api/v1/bulletins/%d/withdraw" % o["bulletin"], None, 404, None),
            ("PUT", "/api/v1/bulletins/{id}/audio"): ("/api/v1/bulletins/%d/audio" % o["bulletin"], b"RIFF", 404, None),
            ("GET", "/api/v1/bulletins/{id}/audio"): ("/api/v1/bulletins/%d/audio" % o["bulletin"], None, 404, None),
            ("GET", "/api/v1/communes/{id}/slots"): ("/api/v1/communes/c/slots", None, 404, None),
            ("PUT", "/api/v1/communes/{id}/slots"): ("/api/v1/communes/c/slots", [], 404, None),
            ("POST", "/api/v1/communes/{id}/sessions"): ("/api/v1/communes/c/sessions",
                                                         {"start": datetime.datetime.fromtimestamp(start + 7200, TZ).isoformat(),
                                                          "minutes": 5}, 404, None),
            ("GET", "/api/v1/communes/{id}/programme"): ("/api/v1/communes/c/programme", None, 404, None),
            ("PUT", "/api/v1/rules"): ("/api/v1/rules", {}, 403, None),
            ("GET", "/api/v1/communes/{id}/rules"): ("/api/v1/communes/c/rules", None, 404, None),
            ("PUT", "/api/v1/communes/{id}/rules"): ("/api/v1/communes/c/rules", {}, 404, None),
            ("POST", "/api/v1/emergency"): ("/api/v1/emergency", {"text": "x", "communes": ["c"]}, 422, None),
            ("GET", "/api/v1/emergency/{bulletin}"): ("/api/v1/emergency/%d" % o["bulletin"], None, 404, None),
            ("GET", "/api/v1/onair"): ("/api/v1/onair", None, 200, ("communes", "commune")),
            ("POST", "/api/v1/communes/{id}/listen"): ("/api/v1/communes/c/listen", None, 404, None),
            ("GET", "/api/v1/alerts"): ("/api/v1/alerts", None, 200, ("alerts", "alert")),
            ("GET", "/api/v1/alerts/{id}"): ("/api/v1/alerts/%d" % o["alert"], None, 404, None),
            ("POST", "/api/v1/alerts/{id}/confirm"): ("/api/v1/alerts/%d/confirm" % o["alert"], None, 404, None),
            ("POST", "/api/v1/selftest"): ("/api/v1/selftest", {"communes": ["c"]}, 422, None),
            ("PUT", "/api/v1/selftest/schedule"): ("/api/v1/selftest/schedule", {}, 403, None),
            ("GET", "/api/v1/selftest/report"): ("/api/v1/selftest/report", None, 200, ("clusters", "commune")),
            ("PUT", "/api/v1/lexicon/{word}"): ("/api/v1/lexicon/" + urllib.parse.quote("HĐND"), {"reading": "hội đồng"}, 403, None),
            ("DELETE", "/api/v1/lexicon/{word}"): ("/api/v1/lexicon/" + urllib.parse.quote("HĐND"), None, 403, None),
            ("GET", "/api/v1/plays"): ("/api/v1/plays" + R, None, 200, ("plays", "commune")),
            ("GET", "/api/v1/deliveries"): ("/api/v1/deliveries" + D, None, 200, ("deliveries", "commune")),
            ("GET", "/api/v1/coverage"): ("/api/v1/coverage" + R, None, 200, ("sessions", "commune")),
            ("GET", "/api/v1/coverage/summary"): ("/api/v1/coverage/summary" + R, None, 200, ("communes", "commune")),
            ("GET", "/api/v1/map"): ("/api/v1/map", None, 200, ("clusters", "commune")),
        }
        bad = []
        server = routes()
        for m, p, roles in server:
            if (m, p) not in SCOPED and (m, p) not in UNSCOPED and (m, p) not in PENDING:
                bad.append("%s %s: a route this test does not know (scoped or not?)" % (m, p))
        check(not bad, "\n".join(bad))

        users_of = {"root": None, "p1": ("p1-", "c1-"), "c1": ("c1-",)}
        bulletins_of = {"root": {b_p2, b_c1, b_p1, b_root}, "p1": {b_c1, b_p1}, "c1": {b_c1}}
        nodes_of = {"root": set(n.values()), "p1": {n["P1"], n["C1"], n["C2"]}, "c1": {n["C1"]}}
        calls = 0
        for m, p, roles in server:
            if (m, p) not in SCOPED:
                continue
            path, body, want, listing = SCOPED[(m, p)]
            admitted = [r for r in ROLES if r in roles.split(",")]
            for level in ("c1", "p1", "root"):
                who = (level, admitted[0])
                if ("lexicon" in p or p.endswith("/rules") or "schedule" in p) and m != "GET" and level != "root":
                    admitted_who = [(level, r) for r in admitted]
                else:
                    admitted_who = [who]
                for w in admitted_who:
                    if level == "root" and listing is None:
                        continue  # what is outside the others is inside the province's
                    r = s.request(m, path, body, T[w])
                    calls += 1
                    if listing is None:
                        if r.status != want:
                            bad.append("%s %s as %s-%s → %d %s (wanted %d)" % (m, path, w[0], w[1], r.status,
                                                                             r.body[:100], want))
                        continue
                    if r.status != 200:
                        bad.append("%s %s as %s → %d %s" % (m, path, w, r.status, r.body[:100]))
                        continue
                    key, field = listing
                    rows = r.json()[key]
                    if field == "node":
                        got = {x["id"] for x in rows}
                        okk = got == nodes_of[level]
                    elif field == "user":
                        got = {x["username"] for x in rows}
                        okk = users_of[level] is None or all(u.startswith(users_of[level]) for u in got)
                        okk = okk and (users_of[level] is None or any(u.startswith(level) for u in got))
                    elif field == "actor":
                        got = {x["actor"] for x in rows}
                        okk = users_of[level] is None or all(u.startswith(users_of[level]) for u in got)
                        okk = okk and len(got) > 0
                    elif field == "bulletin":
                        got = {x["id"] for x in rows}
                        okk = got == bulletins_of[level]
                    elif field == "alert":
                        got = {x["id"] for x in rows}
                        okk = got == ({alert["id"]} if level == "root" else set())
                    else:
                        got = {x[field] for x in rows}
                        # lists that hold rows of the seeded communes a and c only
                        expect = sees[level] & ({"a", "c"} if p in ("/api/v1/plays", "/api/v1/deliveries",
                                                                     "/api/v1/coverage", "/api/v1/selftest/report")
                                                else {"a", "b", "c"})
                        okk = got == expect if p != "/api/v1/coverage/summary" else got <= sees[level] and "a" in got
                    if not okk:
                        bad.append("%s %s as %s: %s %s" % (m, path, w, field, sorted(map(str, got))))
        check(not bad, "scope:\n" + "\n".join(bad))

        # ---- nothing outside a caller's subtree changed ------------------------------------------
        c = ok(req("GET", "/api/v1/communes/c"), 200, "commune c")
        check(c["name"] == "Xã C" and c["node"] == n["C3"], c)
        check(ok(req("GET", "/api/v1/clusters/c-1"), 200, "c-1")["name"] == "Cụm c", "c-1 renamed")
        check(ok(req("GET", "/api/v1/bulletins/%d" % b_p2), 200, "b_p2")["status"] == "pending", "b_p2 changed")
        check(ok(req("GET", "/api/v1/nodes/%d" % n["C3"]), 200, "C3")["name"] == "Nút C3", "C3 renamed")
        users = {u["username"]: u for u in ok(req("GET", "/api/v1/users"), 200, "users")["users"]}
        check(users["p2-editor"]["role"] == "editor" and "x1" not in users, users.get("p2-editor"))
        check(ok(req("GET", "/api/v1/alerts/%d" % alert["id"]), 200, "alert")["status"] == "awaiting", "alert aired")
        check(ok(req("GET", "/api/v1/lexicon"), 200, "lexicon")["entries"] == [], "lexicon changed")
        # inside: the producer changes its commune, the commune officer its own
        ok(req("PATCH", "/api/v1/communes/b", {"population": 1200}, who=("p1", "admin")), 200, "p1 edits b")
        ok(req("PATCH", "/api/v1/communes/a", {"node": n["C2"]}, who=("c1", "admin")), 422,
           "c1 moves its commune out of its subtree")
        ok(req("PATCH", "/api/v1/communes/a", {"node": n["C2"]}, who=("p1", "admin")), 200, "p1 moves a to C2")
        ok(req("GET", "/api/v1/communes/a", who=("c1", "admin")), 404, "a, moved away, is gone for c1")
        print("org: %d nodes, %d staff at three levels, %d scoped routes walked in %d calls, %d unscoped" %
              (len(n), len(T), len(SCOPED), calls, len(UNSCOPED)))


if __name__ == "__main__":
    main()
