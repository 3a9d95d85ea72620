"""The hold window carries Ogg Opus silence ([stream] hold_audio, the default), and every page goes
out [stream] lead_ms before its audio plays (issue 15, points 2 and 3).

A receiver held 10 s before the start gets the header pages, then silence pages at real-time pace
(never more than a page apart: nothing a client or proxy could take for a dead source), ending
exactly where the programme begins; the page with the programme's first sample arrives lead_ms
(2 s) before the start, and every later page lead_ms before its audio plays. The capture is one
valid logical stream (opusinfo, ffprobe); decoded, it is the hold's silence then the programme,
tones at their offsets. The delivery row counts the hold's bytes (they were sent) but not its
audio: audio_s and reached are the programme's. A receiver with hold_audio off gets only the
headers until lead_ms before the start.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import streamkit as K  # noqa: E402
from streamkit import check  # noqa: E402

TONES = [(3.0, 400), (2.0, 800)]
HOLD_S = 10


def programme_page(rc, preskip):
    """Index in pages() of the first page whose audio is not the hold's silence: the decoded
    tones tell where the programme starts (its first item is at offset 0)."""
    segs = [x for x in K.tones(K.decode(rc.path_saved)) if x[0]]
    t_prog = segs[0][1]
    g = preskip + round(t_prog * 50) * 960
    ps = K.pages(rc.body)
    return next(i for i, p in enumerate(ps) if i >= 2 and p[2] > g + 960), t_prog, segs


def main():
    with K.Server(K.config("hold_audio = true\n").replace("hold_s = 5", "hold_s = %d" % HOLD_S)) as s:
        s.start()
        st = K.Setup(s, 2, TONES)
        start, sess = st.session(HOLD_S + 1, minutes=1)
        length = sess["length_s"]
        K.wait_held(s)
        path, tok = st.url(0)
        rc = K.Receiver(s.port, path, tok)
        rc.start()
        rc.join(start + length + 20 - time.time())
        check(not rc.is_alive() and rc.error is None and rc.status == 200, (rc.error, rc.raw[:200]))
        ps = K.check_ogg(rc.body)
        rc.path_saved = rc.save(os.path.join(s.tmp, "held.opus"))
        K.tools_accept(rc.path_saved)
        preskip = int.from_bytes(rc.body[ps[0][0] + 38:ps[0][0] + 40], "little")

        # the hold: silence pages from the connection on, never more than ~a page apart
        held_for = start - rc.connected_at
        check(held_for > 5, "connected only %.1f s before the start" % held_for)
        first_page = rc.arrival(ps[2][0])
        check(first_page - rc.connected_at < 0.5, "first hold page %.2f s after connecting" %
              (first_page - rc.connected_at))
        k, t_prog, segs = programme_page(rc, preskip)
        arrivals = [rc.arrival(p[0]) for p in ps[2:k + 1]]
        gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
        # (pages go out in groups of send_ms: 2 s)
        check(gaps and max(gaps) < K.SEND_S + 0.5, "hold pages %.2f s apart at most" % max(gaps or [0]))
        # the hold's silence ends where the programme begins: as long as the receiver was held
        # (the held receiver gets the hold from where the stream began it, a burst's worth back)
        check(-0.2 < t_prog - (start - first_page) < K.LEAD_S + 3.2,
              "programme at %.2f s of the capture, held %.2f s" % (t_prog, start - first_page))
        # the programme's first page went out lead_ms before the start (or up to a group of send_ms
        # earlier) ...
        t_k = rc.arrival(ps[k][0])
        check(start - K.LEAD_S - (K.SEND_S - 1.0) - 0.3 < t_k < start - K.LEAD_S + 0.4,
              "programme's first page at %+.2f s from the start" % (t_k - start))
        # ... and every later page lead_ms before its audio plays (within a page)
        late = max(rc.arrival(p[0]) - (start + (p[2] - ps[k][2]) / 48000 - K.LEAD_S)
                   for p in ps[k + 1:-1])
        check(late < 1.1, "a page %.2f s later than lead_ms before its audio" % late)
        # decoded: the hold then the programme, tones in order at their offsets
        check([f for f, _, _ in segs] == [f for _, f in TONES], segs)
        for (f, t0, t1), (sec, _), item in zip(segs, TONES, sess["items"]):
            check(abs((t1 - t0) - sec) < 0.1 and abs(t0 - t_prog - item["offset_s"]) < 0.1, segs)

        # the row: every byte (the hold's too), the programme's audio only
        row = K.wait_closed_rows(s, ("k1",))["k1"]
        K.check_delivered(row, rc, "k1 (held)")
        check(abs(row["audio_s"] - length) < 0.05 and row["reached"] == 1, (row, length))
        check(abs(row["programme_s"] - length) < 0.05, (row, length))
        print("held %.1f s: hold pages at most %.2f s apart; programme's first page %+.2f s from the "
              "start; pages at most %.2f s later than lead_ms ahead" % (held_for, max(gaps), t_k - start, late))
        s.stop()

    # hold_audio off: the headers, then nothing until lead_ms before the start
    with K.Server(K.config().replace("hold_s = 5", "hold_s = 6")) as s:
        s.start()
        st = K.Setup(s, 1, [(1.0, 400)])
        start, sess = st.session(7, minutes=1)
        K.wait_held(s)
        path, tok = st.url(0)
        rc = K.Receiver(s.port, path, tok)
        rc.start()
        rc.join(start + 20 - time.time())
        check(rc.error is None and rc.status == 200, rc.error)
        ps = K.check_ogg(rc.body)
        t_audio = rc.arrival(ps[2][0])
        check(start - K.LEAD_S - (K.SEND_S - 1.0) - 0.3 < t_audio < start - K.LEAD_S + 0.4 and
              ps[2][2] / 48000 < 1.1,
              "no hold audio: first audio page at %+.2f s from the start (granule %d)" % (t_audio - start, ps[2][2]))
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
