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

What "delivered" means, precisely (docs/streaming.md, "Delivery accounting"): the server counts a
page — its bytes and its audio — once the page's write completed, i.e. once the kernel took it
into the connection's socket buffer; the client reads it from there a moment later (or, if it
closes without reading, never). So at any instant the server may count up to what the socket
buffers hold beyond what the client has read (a full run once saw 18,952 bytes counted against
16,002 read: one 1 s page on its way). The checks say exactly that, with no race:

- mid-session: what the database says was delivered is a prefix of the client's stream ending on
  a page boundary, and the client does read all of it (waited for, with a deadline) — never
  more than the server wrote; and the database lags the client by at most a batch: everything
  the client had read 2 s before the query (batch_ms = 1 s, plus 1 s for a loaded machine's
  late loop) is counted;
- at the end, every client has read to the server's close (one that leaves half-closes and
  reads on, see streamkit.Receiver), so bytes counted == bytes read, in whole pages.
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


def check_in_flight(cid, row, rc, t_query):
    """A row read at t_query from the running server against a client still reading (see the
    module's comment): returns the client's audio at the row's last page."""
    n = row["bytes"]
    # every byte the server counts reaches the client (it was in the socket buffers)
    K.wait_for(lambda: len(rc.body_now()) >= n, 10,
               lambda: "%s: the client to read the %d bytes counted (it has %d)" % (cid, n, len(rc.body_now())))
    body = rc.body_now()
    ends = {o + ln: g for o, ln, g, _, _, _ in K.pages(body)}
    check(n in ends, "%s: %d bytes counted, not a page boundary of the client's stream" % (cid, n))
    audio = (ends[n] - 312) / 48000
    check(abs(row["audio_s"] - audio) < 0.03, "%s: %.3f s counted, %.3f s in the client's first %d bytes: %r"
          % (cid, row["audio_s"], audio, n, row))
    # and it lags the client by at most a batch
    lag_from = rc.body_at(t_query - 2.0)
    check(n >= lag_from, "%s: %d bytes counted; the client had %d two seconds before" % (cid, n, lag_from))
    return audio


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

        # the middle of the session: 7 s in, k3 left (at about 5 s) and its
        # disconnection was written (the batch after it left)
        K.wait_for(lambda: min(rcs[0].audio_now(), rcs[1].audio_now()) >= 8.0, start + 30 - time.time(),
                   "8 pages at k1 and k2 (7 s in)")
        K.wait_for(lambda: [r for r in raw(s, "SELECT * FROM deliveries WHERE cluster = 'k3'")
                            if r["disconnected_at"]], 10, "k3's row closed")
        rows = {r["cluster"]: r for r in raw(s, "SELECT * FROM deliveries")}
        prog = raw(s, "SELECT * FROM delivery_progress")
        check(len(prog) == 1 and prog[0]["session"] == sess["id"], prog)
        for cid in ("k1", "k2"):
            r = rows[cid]
            check(r["anchor_g"] is not None and r["anchor_g"] < prog[0]["granule"], (r, prog))
            check(r["updated_at"] < prog[0]["updated_at"], "row of %s written every second: %s" % (cid, r))
        check(rows["k3"]["anchor_g"] is None and rows["k3"]["disconnected_at"], rows["k3"])

        t_query = time.time()
        view = K.deliveries(s)
        have = [0.0, 0.0]
        for i, cid in enumerate(("k1", "k2")):
            v = view[cid]
            have[i] = check_in_flight(cid, v, rcs[i], t_query)
            check(v["audio_s"] > rows[cid]["audio_s"] + 1.0, (cid, v, rows[cid]))
            check(v["disconnected_at"] is None and v["reached"] == 0, v)
        k3 = view["k3"]
        check(3.0 < k3["audio_s"] <= 7.0 + K.LEAD_S and k3["reached"] == 0, k3)

        admin = st.admin
        # the day of the session's start in the station's zone (UTC+7), not "today": a run across
        # midnight asked for the next day's rows
        day = time.strftime("%Y-%m-%d", time.gmtime(start + 7 * 3600))
        api = s.get("/api/v1/deliveries?commune=%s&date=%s" % (K.COMMUNE, day), admin)
        check(api.status == 200, api)
        t_query = time.time()
        by = {r["cluster"]: r for r in api.json()["deliveries"]}
        for i, cid in enumerate(("k1", "k2")):
            check(view[cid]["audio_s"] <= by[cid]["audio_s"], (cid, by[cid], view[cid]))
            check_in_flight(cid, by[cid], rcs[i], t_query)
        check(abs(by["k3"]["audio_s"] - k3["audio_s"]) < 1e-6, (by["k3"], k3))
        moved = {r["cluster"]: r for r in raw(s, "SELECT * FROM deliveries")}
        for cid in ("k1", "k2"):  # seconds later, after the read: still the same anchored row
            check(moved[cid]["anchor_g"] == rows[cid]["anchor_g"] and
                  moved[cid]["audio_s"] == rows[cid]["audio_s"], (moved[cid], rows[cid]))
        print("mid-session: raw k1 %.2f s, view %.2f s, API %.2f s, client %.2f s" %
              (rows["k1"]["audio_s"], view["k1"]["audio_s"], by["k1"]["audio_s"], have[0]))

        # the end: rows whole, equal to what each client saved
        for rc in rcs:
            rc.join(30)
            check(not rc.is_alive() and rc.error is None, (rc.path, rc.error))
        K.wait_closed_rows(s, ("k1", "k2", "k3"))
        # the progress row goes when the session closes (lead_ms after its last page went out)
        K.wait_for(lambda: raw(s, "SELECT * FROM delivery_progress") == [], 15, "progress row left")
        final = {r["cluster"]: r for r in raw(s, "SELECT * FROM deliveries")}
        view = K.deliveries(s)
        for i, cid in enumerate(("k1", "k2", "k3")):
            r = final[cid]
            check(r["anchor_g"] is None and r["disconnected_at"], r)
            K.check_delivered(r, rcs[i], cid)
            check(abs(view[cid]["audio_s"] - r["audio_s"]) < 1e-9, (view[cid], r))
        for cid in ("k1", "k2"):
            check(final[cid]["reached"] == 1 and abs(final[cid]["audio_s"] - 12.0) < 0.1, final[cid])
        check(final["k3"]["reached"] == 0 and final["k3"]["audio_s"] <= 7.0 + K.LEAD_S, final["k3"])
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
