"""A receiver that stops reading is dropped once its unsent audio passes [stream] backlog_s, logged
and counted; the receivers that read keep getting every page on time (each page arrives within
0.5 s of when its audio starts) and whole valid streams; the stalled one's row has less audio."""
import io
import os
import random
import struct
import time
import wave

import streamkit as K
from streamkit import check


def noise_wav(seconds, rate=48000):
    """White noise (so that Opus spends its whole bitrate)."""
    rnd = random.Random(7)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", rnd.randint(-6000, 6000)) for _ in range(int(seconds * rate))))
    return buf.getvalue()


def main():
    cfg = K.config("backlog_s = 2\n[audio]\nbitrate_kbps = 64\n")
    with K.Server(cfg) as s:
        s.start()
        st = K.Setup(s, 3, [])
        r = s.post("/api/v1/bulletins", {"title": "Nhiễu", "communes": [K.COMMUNE]}, st.editor)
        bid = r.json()["id"]
        r = s.request("PUT", "/api/v1/bulletins/%d/audio" % bid, noise_wav(12), st.editor,
                      headers={"Content-Type": "audio/wav"})
        check(r.status == 200, r)
        check(s.approve(bid, st.approver).status == 200, "approve")
        start, sess = st.session(3, minutes=1)
        K.wait_held(s)
        readers = []
        for i in (0, 1):
            path, tok = st.url(i)
            readers.append(K.Receiver(s.port, path, tok))
        path, tok = st.url(2)
        stalled = K.Receiver(s.port, path, tok, stall=True, rcvbuf=4096)
        for rc in readers + [stalled]:
            rc.start()
        dropped = []

        def readers_done():  # noting when the stalled one is dropped on the way
            if not dropped and K.metrics(s)["loacast_receivers_dropped_slow_total"] >= 1:
                dropped.append(time.time() - start)
            return all(not rc.is_alive() for rc in readers)
        # polled twice a second: the readers' own timing is what is measured here, and a test
        # process busy polling /metrics under CI load delays its reader threads
        K.wait_for(readers_done, start + sess["length_s"] + 20 - time.time(), "the readers to finish",
                   interval=0.5)
        dropped_at = dropped[0] if dropped else None
        stalled.stop_event.set()
        check(dropped_at is not None and dropped_at < 10, "not dropped (%s)" % dropped_at)
        check("dropped: too slow" in s.logs(), "no log line")
        for i, rc in enumerate(readers):
            check(rc.error is None and rc.status == 200, rc.error)
            ps = K.check_ogg(rc.body)
            K.tools_accept(rc.save(os.path.join(s.tmp, "r%d.opus" % i)))
            for prev, p in zip(ps[1:], ps[2:]):  # every page on time: sent when its audio starts
                late = rc.arrival(p[0]) - (start + prev[2] / 48000)
                check(late < 0.5, "page %d of reader %d late by %.3f s" % (p[3], i, late))
        rows = K.wait_closed_rows(s, ("k1", "k2", "k3"))
        check(rows["k3"]["audio_s"] < rows["k1"]["audio_s"] - 2 and rows["k3"]["reached"] == 0, rows["k3"])
        check(rows["k1"]["reached"] == 1 and rows["k2"]["reached"] == 1, rows)
        m = K.metrics(s)
        check(m["loacast_receivers_dropped_slow_total"] == 1, m)
        print("stalled receiver dropped %.1f s after the start" % dropped_at)
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
