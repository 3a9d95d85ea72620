"""A corrupt page met while the server runs is an error, never "no rows" (issue 14, point 11).

Measured before: one corrupt page of the clusters table made GET /api/v1/clusters answer 200 with
an empty list, and real receivers 404 ("no cluster"). Here the clusters table's root page is
overwritten on disk while the server runs (then another connection commits, so that the
server's page cache is dropped and the page is read again). Now:
- GET /api/v1/clusters and GET /api/v1/clusters/{id} answer 500, not 200 [] or 404;
- a receiver's status report answers 500, not 404 "no cluster";
- /healthz answers 503 {"status": "database_corrupt"}, /metrics says loacast_store_corrupt 1,
  the log says THE DATABASE IS CORRUPT once;
- what does not touch the page still works (GET /api/v1/bulletins answers 200);
- at the next start the check refuses the database with a clear message (quick_check)."""
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import LOACAST, Server, check, wait_for  # noqa: E402


def main():
    with Server() as s:
        s.start()
        admin = s.admin()
        check(s.post("/api/v1/communes", {"id": "xa", "name": "Xã"}, admin).status == 201, "commune")
        tokens = {}
        for i in range(40):
            r = s.post("/api/v1/clusters", {"id": "k%d" % i, "commune": "xa", "name": "Cụm loa số %d" % i,
                                            "population": 100}, admin)
            check(r.status == 201, r)
            tokens["k%d" % i] = r.json()["token"]
        check(len(s.get("/api/v1/clusters", admin).json()["clusters"]) == 40, "40 clusters")

        path = os.path.join(s.data, "loacast.db")
        db = sqlite3.connect(path)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'clusters'").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
        with open(path, "r+b") as f:
            f.seek((root - 1) * size)
            f.write(b"\x00" * 64)     # no valid b-tree page type: SQLITE_CORRUPT when read
        # another connection commits: the server's connection drops its cached pages
        db.execute("CREATE TABLE IF NOT EXISTS test_poke (a)")
        db.execute("INSERT INTO test_poke VALUES (1)")
        db.commit()
        db.close()

        r = s.get("/api/v1/clusters", admin)
        check(r.status == 500, "the list of clusters is an error, not %r" % r)
        r = s.get("/api/v1/clusters/k3", admin)
        check(r.status == 500, "one cluster is an error, not %r" % r)
        r = s.post("/api/v1/receivers/k3/status", {"volume": 50}, tokens["k3"])
        check(r.status == 500, "a receiver's report is an error, not %r" % r)
        r = s.get("/healthz")
        check(r.status == 503 and r.json()["status"] == "database_corrupt", r)
        check("loacast_store_corrupt 1" in s.get("/metrics").body.decode(), "metric")
        check(s.logs().count("THE DATABASE IS CORRUPT") == 1, "logged once:\n" + s.logs())
        check(s.get("/api/v1/bulletins", admin).status == 200, "the rest still answers")
        s.stop()
        p = subprocess.run([LOACAST, "serve", "--config", s.config_path], capture_output=True,
                           timeout=60)
        check(p.returncode != 0 and b"damaged" in p.stderr, p.stderr)
        print("ok: 500s where the page is read, /healthz 503, refused at the next start")
    return 0


if __name__ == "__main__":
    sys.exit(main())
