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
        time.sleep(1.5)
        rcs = []
        for i in range(2):
            path, tok = st.url(i)
            rcs.append(K.Receiver(s.port, path, tok))
            rcs[-1].start()
        time.sleep(max(0, start + 4.6 - time.time()))
        s.kill9()
        for rc in rcs:
            rc.join(10)
        rows = K.deliveries(s)
        for i, rc in enumerate(rcs):
            row = rows["k%d" % (i + 1)]
            ps = K.pages(rc.body)
            got = (ps[-1][2] - 312) / 48000  # audio the client has
            check(row["disconnected_at"] is None, row)  # killed while connected
            check(got - 1.6 <= row["audio_s"] <= got + 0.01, (row, got))
            check(len(rc.body) - 8000 <= row["bytes"] <= len(rc.body), (row, len(rc.body)))
            check(row["connected_at"] and row["programme_s"] > 9.9, row)
        print("rows after kill -9: %s" % {k: round(v["audio_s"], 2) for k, v in rows.items()})

        # restart: the session goes on where it is; k1 reconnects
        s.start()
        path, tok = st.url(0)
        again = K.Receiver(s.port, path, tok)
        again.start()
        time.sleep(2.5)
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
