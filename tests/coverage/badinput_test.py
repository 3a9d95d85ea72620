"""Bad input to the coverage and health routes gets a 4xx and changes nothing; roles; retention
prunes old delivery rows and old audit entries in small batches at start and keeps recent ones."""
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from lcserver import Server, check, wait_for  # noqa: E402


def db_rows(s, sql):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(s.data, "loacast.db"), uri=True, timeout=10)
    rows = db.execute(sql).fetchall()
    db.close()
    return rows


def main():
    with Server("[coverage]\nretention_days = 30\n") as s:
        s.start()
        admin = s.admin()
        operator = s.make_user(admin, "oanh", "operator")
        editor = s.make_user(admin, "eva", "editor")
        r = s.post("/api/v1/communes", {"id": "tan-phu", "name": "Tân Phú", "population": 5000}, admin)
        check(r.status == 201, r)
        r = s.post("/api/v1/clusters", {"id": "c1", "commune": "tan-phu", "name": "Cụm 1"}, admin)
        check(r.status == 201, r)
        token = r.json()["token"]
        before = s.get("/api/v1/clusters/c1", admin).json()

        cases = [
            ("/api/v1/coverage?from=2026-13-01", 400),
            ("/api/v1/coverage?from=h%C3%B4m-nay", 400),
            ("/api/v1/coverage?from=2026-02-30", 400),
            ("/api/v1/coverage?from=2026-05-02&to=2026-05-01", 400),
            ("/api/v1/coverage?from=2024-01-01&to=2026-01-01", 422),
            ("/api/v1/coverage?commune=khong-co", 404),
            ("/api/v1/coverage/summary?to=2026-1-1", 400),
            ("/api/v1/deliveries?date=yesterday", 400),
            ("/api/v1/deliveries?commune=khong-co", 404),
            ("/api/v1/deliveries?cluster=khong-co", 404),
            ("/api/v1/clusters?status=broken", 400),
        ]
        for path, status in cases:
            r = s.get(path, operator)
            check(r.status == status and r.json()["error"], "%s: %r" % (path, r))
        for path in ("/api/v1/coverage", "/api/v1/deliveries", "/api/v1/coverage/summary"):
            check(s.get(path, editor).status == 403, "editor may not read " + path)
            check(s.get(path).status == 401, "no token: " + path)
            check(s.get(path, admin).status == 200, "admin reads " + path)

        # status reports: wrong token, unknown cluster, a 10 MB body, broken JSON
        r = s.post("/api/v1/receivers/c1/status", {"volume": 50}, "wrong")
        check(r.status == 401, r)
        r = s.post("/api/v1/receivers/nope/status", {"volume": 50}, token)
        check(r.status in (401, 404), r)
        r = s.request("POST", "/api/v1/receivers/c1/status", b"{" + b" " * (10 << 20) + b"}", token,
                      headers={"Content-Type": "application/json"})
        check(r.status == 413, r)
        r = s.request("POST", "/api/v1/receivers/c1/status", b"{not json", token,
                      headers={"Content-Type": "application/json"})
        check(r.status == 400, r)
        after = s.get("/api/v1/clusters/c1", admin).json()
        check(after["status"] == before["status"] and after["last_seen"] == before["last_seen"],
              (before, after))
        check(s.get("/healthz").status == 200, "server still up")
        s.stop()

        # retention: 1,200 rows older than 30 days and 5 recent ones, written while stopped
        db = sqlite3.connect(os.path.join(s.data, "loacast.db"))
        now = int(time.time())
        old, new = now - 40 * 86400, now - 86400
        rows = [(i, "c1", "tan-phu", old, old + 3600, 0, 0, 0, 0, 0, 0, "[]", old) for i in range(1200)]
        rows += [(5000 + i, "c1", "tan-phu", new, new + 3600, 0, 0, 0, 0, 0, 0, "[]", new) for i in range(5)]
        db.executemany("INSERT INTO deliveries (session, cluster, commune, session_start, session_end,"
                       " connected_at, disconnected_at, audio_s, programme_s, bytes, reconnections,"
                       " bulletins_whole, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        # audit entries older than [auth] audit_days (730) go too; the recent ones stay
        recent_audit = db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
        db.executemany("INSERT INTO audit (at, actor, action, target) VALUES (?,?,?,?)",
                       [(now - 800 * 86400, "ghost", "login_failed", "ghost")] * 1200)
        db.commit()
        db.close()
        s.start()
        wait_for(lambda: db_rows(s, "SELECT COUNT(*) FROM deliveries")[0][0] == 5, 20,
                 lambda: "pruning: %d rows left" % db_rows(s, "SELECT COUNT(*) FROM deliveries")[0][0],
                 interval=0.2)
        check(db_rows(s, "SELECT MIN(session_start) FROM deliveries")[0][0] == new, "a recent row was pruned")
        wait_for(lambda: db_rows(s, "SELECT COUNT(*) FROM audit WHERE actor = 'ghost'")[0][0] == 0, 20,
                 "old audit entries pruned", interval=0.2)
        check(db_rows(s, "SELECT COUNT(*) FROM audit")[0][0] >= recent_audit, "recent audit pruned")
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
