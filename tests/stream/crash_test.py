"""Delivery accounting survives kill -9: rows are written in batches (≤ 1 s, one transaction), so
after the server is killed in the middle of a session each connected cluster's row holds what its
client received, up to the last batch (within about 1 s of audio), and never more. Restarted, the
server resumes the session at its offset: a receiver that reconnects gets the stream from there
(a valid stream whose first granule is the offset), and its row goes on from the earlier run's
(one more reconnection, more audio). SIGTERM while receivers stream: exit 0, rows closed."""
import os
import time

import streamkit as K
from streamkit import check


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 2, [(10.0, 500)])
        start, sess = st.session(3, minutes=1)
        K.wait_held(s)
        rcs = []
        for i in range(2):
            path, tok = st.url(i)
            rcs.append(K.Receiver(s.port, path, tok))
            rcs[-1].start()
        # killed in the middle: once both receivers have their 6th page plus the lead (5 s in),
        # so that the restarted server resumes past 5 s
        K.wait_for(lambda: min(rc.audio_now() for rc in rcs) >= 6.0 + K.LEAD_S, start + 30 - time.time(),
                   "6 pages")
        s.kill9()
        for rc in rcs:
            rc.join(10)
            check(not rc.is_alive(), "a receiver still reads after kill -9")
        rows = K.deliveries(s)
        for i, rc in enumerate(rcs):
            row = rows["k%d" % (i + 1)]
            check(row["disconnected_at"] is None, row)  # killed while connected
            # The row holds the pages whose writes had completed at the last batch. The client read
            # to EOF, so it has every one of them (the kernel sent what it held after the kill):
            # the row is a prefix of the client's stream ending on a page boundary, and at most
            # 2 pages behind its end (the batch period, 1 s, and one page of a late loop).
            ps = K.pages(rc.body)
            ends = [o + ln for o, ln, _, _, _, _ in ps]
            check(row["bytes"] in ends, (row, ends))
            behind = len(ends) - 1 - ends.index(row["bytes"])
            check(behind <= 2, "row %d pages behind the client: %r" % (behind, row))
            g = ps[ends.index(row["bytes"])][2]
            check(abs(row["audio_s"] - (g - 312) / 48000) < 0.03, (row, g))
            check(row["connected_at"] and row["programme_s"] > 9.9, row)
        print("rows after kill -9: %s" % {k: round(v["audio_s"], 2) for k, v in rows.items()})

        # restart: the session goes on where it is; k1 reconnects
        s.start()
        path, tok = st.url(0)
        again = K.Receiver(s.port, path, tok)
        again.start()
        # SIGTERM once it has 2 pages from the new run (or the programme ended before that)
        K.wait_for(lambda: len(K.pages(again.body_now())) >= 4 or not again.is_alive(), 20,
                   "2 pages after the restart")
        s.stop()  # SIGTERM while streaming: exit 0 (and no leak under ASan)
        again.join(10)
        check(again.status == 200 and again.error is None, again.raw[:200])
        ps = K.check_ogg(again.body, whole=False)
        first_g = ps[2][2]
        check(first_g / 48000 > 5, "resumed at %.2f s" % (first_g / 48000))
        path_ = os.path.join(s.tmp, "again.opus")
        K.tools_accept(again.save(path_), cut=True)
        row = K.deliveries(s)["k1"]
        check(row["reconnections"] == 1 and row["disconnected_at"], row)
        check(row["audio_s"] > rows["k1"]["audio_s"] + 1.0, (row, rows["k1"]))
        check(row["bytes"] > rows["k1"]["bytes"], row)
        print("resumed at %.2f s; k1 now %.2f s of audio" % (first_g / 48000, row["audio_s"]))
    print("ok")


if __name__ == "__main__":
    main()
