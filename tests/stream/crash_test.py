"""Delivery accounting survives kill -9: rows are written in batches (≤ 1 s, one transaction), so
after the server is killed in the middle of a session each connected cluster's row holds what its
client received, up to the last batch (within about 1 s of audio), and never more."""
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
    print("ok")


if __name__ == "__main__":
    main()
