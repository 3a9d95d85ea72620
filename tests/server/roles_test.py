"""The role table on every route: for each route, each role (admin, editor, approver, operator)
and no token. No token → 401; a role the route does not admit → 403; an admitted role gets past
the check (anything but 401/403). The requests of admitted roles aim at things that do not exist
or carry invalid bodies, so that the matrix changes nothing it depends on."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import Server, check  # noqa: E402

A, E, P, O = "admin", "editor", "approver", "operator"
STAFF = {A, E, P, O}

# (method, path, body, roles admitted). Bodies are invalid or targets missing on purpose.
ROUTES = [
    ("GET", "/api/v1/users", None, {A}),
    ("POST", "/api/v1/users", {}, {A}),
    ("PATCH", "/api/v1/users/nobody", {}, {A}),
    ("DELETE", "/api/v1/users/nobody", None, {A}),
    ("GET", "/api/v1/audit", None, {A, O}),
    ("GET", "/api/v1/communes", None, STAFF),
    ("POST", "/api/v1/communes", {}, {A, O}),
    ("GET", "/api/v1/communes/nowhere", None, STAFF),
    ("PATCH", "/api/v1/communes/nowhere", {}, {A, O}),
    ("DELETE", "/api/v1/communes/nowhere", None, {A, O}),
    ("GET", "/api/v1/clusters", None, STAFF),
    ("POST", "/api/v1/clusters", {}, {A, O}),
    ("GET", "/api/v1/clusters/nothing", None, STAFF),
    ("PATCH", "/api/v1/clusters/nothing", {}, {A, O}),
    ("DELETE", "/api/v1/clusters/nothing", None, {A, O}),
    ("POST", "/api/v1/clusters/nothing/token", None, {A, O}),
    ("GET", "/api/v1/bulletins", None, STAFF),
    ("POST", "/api/v1/bulletins", {}, {A, E}),
    ("GET", "/api/v1/bulletins/999999", None, STAFF),
    ("GET", "/api/v1/bulletins/999999/audio", None, STAFF),
    ("PUT", "/api/v1/bulletins/999999/audio", b"RIFF", {A, E}),
    ("POST", "/api/v1/bulletins/999999/approve", None, {A, P}),
    ("POST", "/api/v1/bulletins/999999/reject", {"reason": "x"}, {A, P}),
    ("POST", "/api/v1/bulletins/999999/withdraw", None, {A, E, P}),
]

OPEN = [("GET", "/healthz"), ("GET", "/metrics")]


def main():
    with Server() as s:
        s.start()
        admin = s.admin()
        tokens = {A: admin, E: s.make_user(admin, "ed", E), P: s.make_user(admin, "ap", P),
                  O: s.make_user(admin, "op", O), None: None}
        bad = []
        for method, path, body, admitted in ROUTES:
            for role, tok in tokens.items():
                r = s.request(method, path, body, tok)
                if role is None:
                    ok = r.status == 401 and r.headers.get("www-authenticate") == "Bearer"
                elif role in admitted:
                    ok = r.status not in (401, 403) and r.status < 500
                else:
                    ok = r.status == 403 and r.json()["error"] == "forbidden"
                if not ok:
                    bad.append("%s %s as %s → %d %s" % (method, path, role, r.status, r.body[:120]))
        # a bogus token is no token
        r = s.get("/api/v1/bulletins", "not-a-token")
        if r.status != 401:
            bad.append("bogus token → %d" % r.status)
        for method, path in OPEN:
            r = s.request(method, path)
            if r.status != 200:
                bad.append("%s %s without token → %d" % (method, path, r.status))
        # the receiver route takes a receiver token, never a staff one
        r = s.post("/api/v1/receivers/nothing/status", {}, admin)
        if r.status not in (401, 404):
            bad.append("receiver route with a staff token → %d" % r.status)
        # unknown paths and methods
        r = s.get("/api/v1/nothing", admin)
        if r.status != 404 or r.json()["error"] != "not_found":
            bad.append("unknown path → %r" % r)
        r = s.request("DELETE", "/api/v1/bulletins", None, admin)
        if r.status != 405 or "GET" not in r.headers.get("allow", ""):
            bad.append("wrong method → %r %r" % (r, r.headers))
        # logout ends the token (last: it spends the editor's token)
        r = s.post("/api/v1/logout", None, tokens[E])
        check(r.status == 204, r)
        check(s.get("/api/v1/bulletins", tokens[E]).status == 401, "token alive after logout")
        check(not bad, "role matrix failures:\n" + "\n".join(bad))
        # nothing changed
        check(s.get("/api/v1/communes", admin).json()["communes"] == [], "communes changed")
        check(s.get("/api/v1/bulletins", admin).json()["bulletins"] == [], "bulletins changed")
        check(len(s.get("/api/v1/users", admin).json()["users"]) == 4, "users changed")
        s.stop()
    print("ok: %d routes x 5 callers" % len(ROUTES))


if __name__ == "__main__":
    main()
