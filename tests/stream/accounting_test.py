"""Delivery accounting at scale: a receiver in step with its stream is written once with an
anchor, and later batches write only the stream's progress (docs/streaming.md, "Delivery
accounting"). Checked with three receivers in a 12 s session:

- in the middle, the raw rows of the two that keep pace carry an anchor and are older than the
  progress row: no row write per receiver per second;
- yet what the database holds is complete up to the last batch: the view deliveries_current, and
  GET /api/v1/deliveries (which reads that view, writing nothing), give each receiver about
  the audio it has (within the last batch and never more) and the bytes it read;
- a receiver that leaves half-way loses its anchor (its row is written whole) and stays at what it
  got while the others go on;
- at the end every row is whole (no anchor, no progress row) and equal to what each client saved.
"""
import os
import sqlite3
import time

import streamkit as K
from streamkit import check


def raw(s, sql):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(s.data, "loacast.db"), uri=True, timeout=10)
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute(sql)]
    db.close()
    return rows


def got_s(rc):
    """Seconds of programme audio the client has (its last page's granule, less the pre-skip)."""
    ps = K.pages(rc.body_now())
    return (ps[-1][2] - 312) / 48000 if len(ps) > 2 else 0.0


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 3, [(12.0, 500)])
        start, sess = st.session(3, minutes=1)
        rcs = []
        for i in range(3):
            path, tok = st.url(i)
            rcs.append(K.Receiver(s.port, path, tok, stop_after=(start - time.time()) + 5.0 if i == 2 else None))
            rcs[-1].start()

        # the middle of the session: 7.5 s in (k3 left at about 5 s)
        time.sleep(max(0, start + 7.5 - time.time()))
        rows = {r["cluster"]: r for r in raw(s, "SELECT * FROM deliveries")}
        prog = raw(s, "SELECT * FROM delivery_progress")
        check(len(prog) == 1 and prog[0]["session"] == sess["id"], prog)
        for cid in ("k1", "k2"):
            r = rows[cid]
            check(r["anchor_g"] is not None and r["anchor_g"] < prog[0]["granule"], (r, prog))
            check(r["updated_at"] < prog[0]["updated_at"], "row of %s written every second: %s" % (cid, r))
        check(rows["k3"]["anchor_g"] is None and rows["k3"]["disconnected_at"], rows["k3"])

        view = K.deliveries(s)
        have = [got_s(rc) for rc in rcs]  # the clients read at least as much as the view says
        for i, cid in enumerate(("k1", "k2")):
            v = view[cid]
            check(have[i] - 1.6 <= v["audio_s"] <= have[i] + 0.01, (cid, v, have[i]))
            check(v["audio_s"] > rows[cid]["audio_s"] + 1.0, (cid, v, rows[cid]))
            n = len(rcs[i].body_now())
            check(n - 8000 <= v["bytes"] <= n, (cid, v, n))
            check(v["disconnected_at"] is None and v["reached"] == 0, v)
        k3 = view["k3"]
        check(3.0 < k3["audio_s"] <= 7.0 and k3["reached"] == 0, k3)

        admin = st.admin
        api = s.get("/api/v1/deliveries?commune=%s" % K.COMMUNE, admin)
        check(api.status == 200, api)
        by = {r["cluster"]: r for r in api.json()["deliveries"]}
        have = [got_s(rc) for rc in rcs]
        for i, cid in enumerate(("k1", "k2")):
            check(view[cid]["audio_s"] <= by[cid]["audio_s"] <= have[i] + 0.01, (cid, by[cid], view[cid], have[i]))
        check(abs(by["k3"]["audio_s"] - k3["audio_s"]) < 1e-6, (by["k3"], k3))
        moved = {r["cluster"]: r for r in raw(s, "SELECT * FROM deliveries")}
        for cid in ("k1", "k2"):  # seconds later, after the read: still the same anchored row
            check(moved[cid]["anchor_g"] == rows[cid]["anchor_g"] and
                  moved[cid]["audio_s"] == rows[cid]["audio_s"], (moved[cid], rows[cid]))
        print("7.5 s in: raw k1 %.2f s, view %.2f s, API %.2f s, client %.2f s" %
              (rows["k1"]["audio_s"], view["k1"]["audio_s"], by["k1"]["audio_s"], have[0]))

        # the end: rows whole, equal to what each client saved
        for rc in rcs:
            rc.join(30)
        time.sleep(1.5)
        check(raw(s, "SELECT * FROM delivery_progress") == [], "progress row left")
        final = {r["cluster"]: r for r in raw(s, "SELECT * FROM deliveries")}
        view = K.deliveries(s)
        for i, cid in enumerate(("k1", "k2", "k3")):
            r = final[cid]
            check(r["anchor_g"] is None and r["disconnected_at"], r)
            check(r["bytes"] == len(rcs[i].body), (r, len(rcs[i].body)))
            check(abs(view[cid]["audio_s"] - r["audio_s"]) < 1e-9, (view[cid], r))
        for cid in ("k1", "k2"):
            check(final[cid]["reached"] == 1 and abs(final[cid]["audio_s"] - 12.0) < 0.1, final[cid])
        check(final["k3"]["reached"] == 0 and final["k3"]["audio_s"] <= 7.0, final["k3"])
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
