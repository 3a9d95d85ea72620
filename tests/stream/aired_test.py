"""A bulletin counts as aired only where receivers were sent it (issue 14, point 4;
docs/schedules.md "repeat").

Before, an airing was counted when a session opened: a session with no receiver connected (the
issue measured one opened 4 minutes late, whose receivers all got 503) made its approved bulletin
`done`, aired once, though no loudspeaker had it. Now:
1. a session that plays while no receiver is connected ends, its count is made (airings_counted)
   and the bulletin is still `approved`, aired 0 — it waits for the next session;
2. the next session, with one receiver reading the whole programme, makes it `done`, aired 1;
3. the count survives a restart and is not made twice (aired stays 1)."""
import os
import sqlite3

import streamkit as K
from streamkit import check


def counted(s, sid):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(s.data, "loacast.db"), uri=True)
    try:
        row = db.execute("SELECT airings_counted FROM broadcasts WHERE id = ?", (sid,)).fetchone()
        return row is not None and row[0] == 1
    finally:
        db.close()


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 1, [(3, 400)])
        bid = st.bulletins[0]

        _, sess = st.session(1)
        K.wait_for(lambda: counted(s, sess["id"]), 60, "the empty session's airings counted")
        b = s.get("/api/v1/bulletins/%d" % bid, st.admin).json()
        check(b["status"] == "approved" and b["aired"] == 0,
              "nobody was sent it: still approved, aired 0: %s/%s" % (b["status"], b["aired"]))

        _, sess2 = st.session(1)
        check([i["bulletin"] for i in sess2["items"]] == [bid], "it goes in the next session")
        path, tok = st.url(0)
        rc = K.Receiver(s.port, path, tok)
        rc.start()
        K.wait_for(lambda: not rc.is_alive(), 60, "the second session's stream to end")
        check(rc.status == 200 and rc.error is None, (rc.status, rc.error))
        K.wait_for(lambda: counted(s, sess2["id"]), 30, "the second session's airings counted")
        b = s.get("/api/v1/bulletins/%d" % bid, st.admin).json()
        check(b["status"] == "done" and b["aired"] == 1,
              "a receiver got it whole: done, aired 1: %s/%s" % (b["status"], b["aired"]))

        s.stop()
        s.start()
        b = s.get("/api/v1/bulletins/%d" % bid, st.admin).json()
        check(b["aired"] == 1, "not counted again after a restart: %s" % b["aired"])
    print("ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
