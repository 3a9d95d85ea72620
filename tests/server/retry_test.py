"""A render's outcome that cannot be stored is stored as soon as the database takes writes again
(issue 14: "with the disk full ... a bulletin stays `rendering` until restart").

Another connection holds the database's write lock (BEGIN IMMEDIATE) past the server's busy
timeout (5 s) while a text bulletin renders: the server cannot store the outcome and says so in
its log. Once the lock is gone, the bulletin becomes `pending` within the retry period (5 s),
without a restart. Before, it stayed `rendering` until the next start."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import Server, check, wait_for  # noqa: E402


def main():
    with Server() as s:
        s.start()
        admin = s.admin()
        editor = s.make_user(admin, "eva", "editor")
        check(s.post("/api/v1/communes", {"id": "xa", "name": "Xã"}, admin).status == 201, "commune")
        db = sqlite3.connect(os.path.join(s.data, "loacast.db"), timeout=30, isolation_level=None)
        text = "Ủy ban nhân dân xã thông báo lịch tiêm phòng cho gia súc tại nhà văn hoá các thôn. " * 3
        r = s.post("/api/v1/bulletins", {"title": "T", "text": text, "communes": ["xa"]}, editor)
        check(r.status == 202, r)
        bid = r.json()["id"]
        db.execute("BEGIN IMMEDIATE")
        try:
            wait_for(lambda: "cannot store the render result" in s.logs(), 60,
                     "the server to fail storing the outcome")
            # read by the connection that holds the lock: while it does, every write the server
            # tries waits out its busy timeout (5 s) on the loop, and an HTTP request may wait
            # behind several of them
            (status,) = db.execute("SELECT status FROM bulletins WHERE id = ?", (bid,)).fetchone()
            check(status == "rendering", "not stored while locked: %s" % status)
        finally:
            db.execute("ROLLBACK")
            db.close()
        wait_for(lambda: s.get("/api/v1/bulletins/%d" % bid, editor).json()["status"] == "pending", 30,
                 "the bulletin pending once the database takes writes")
        check("render result stored at last" in s.logs(), "the retry is logged")
        s.stop()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
