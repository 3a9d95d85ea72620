"""An emergency interrupts the session on air in place: a receiver connected before it hears it
within 2 s of the request (the page carrying its first samples arrives < 2 s after POST
/api/v1/emergency), in the same logical stream (one serial, one BOS, no reconnection); the
interrupted bulletin then plays again from its start, then the rest of the programme. The capture
is valid for opusinfo and ffprobe; the delivery row lists the emergency and the replayed bulletin
as whole."""
import os
import datetime
import time
import zoneinfo

import streamkit as K
from streamkit import check


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 1, [(8.0, 400), (2.0, 800)])
        b1, b2 = st.bulletins
        em = st.emergency_recording(1.5, 1500)
        start, sess = st.session(3, minutes=1)
        K.wait_held(s)
        path, tok = st.url(0)
        rc = K.Receiver(s.port, path, tok)
        rc.start()
        # the emergency in the middle of b1 (8 s): once the receiver has its 3rd page (2 s in)
        K.wait_for(lambda: rc.audio_now() >= 3.0 + K.LEAD_S, start + 20 - time.time(), "3 pages of b1")
        t_post = time.time()
        r = s.post("/api/v1/emergency", {"bulletin": em, "communes": [K.COMMUNE]}, st.approver)
        check(r.status == 201 and r.json()["sessions"][0]["interrupted"], r)
        rc.join(start + 30 - time.time())
        check(not rc.is_alive() and rc.error is None and rc.status == 200, rc.error)
        ps = K.check_ogg(rc.body)  # one serial, one BOS, EOS at the end
        cap = rc.save(os.path.join(s.tmp, "em.opus"))
        K.tools_accept(cap)

        segs = [x for x in K.tones(K.decode(cap)) if x[0]]
        check([f for f, _, _ in segs] == [400, 1500, 400, 800], segs)
        check(abs(segs[1][2] - segs[1][1] - 1.5) < 0.1, segs)           # the emergency, whole
        check(abs(segs[2][2] - segs[2][1] - 8.0) < 0.1, segs)           # b1 again from its start
        # heard within 2 s: the page that carries the emergency's first sample
        preskip = int.from_bytes(rc.body[ps[0][0] + 38:ps[0][0] + 40], "little")
        g_em = preskip + int(segs[1][1] * 48000)
        page = next(p for p in ps[2:] if p[2] >= g_em)
        heard = rc.arrival(page[0]) - t_post
        check(0 < heard < 2.0, "emergency arrived %.3f s after the request" % heard)

        # what was streamed is the stored programme, moved by the emergency, the gap after it
        # ([schedules] gap_ms, 1 s here) and b1's replay: b1 again and b2 at their stored offsets
        # the station's date (the server's zone), not this process's: they differ for 7 h a day
        day = datetime.datetime.fromtimestamp(start, zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%d")
        prog = s.get("/api/v1/communes/%s/programme?date=%s" % (K.COMMUNE, day), st.admin).json()
        mine = next(x for x in prog["sessions"] if x["id"] == sess["id"])
        offs = {it["bulletin"]: it["offset_s"] for it in mine["items"]}
        check(abs(segs[2][1] - offs[b1]) < 0.1 and abs(segs[3][1] - offs[b2]) < 0.1,
              "streamed b1 at %.2f s, b2 at %.2f s; stored %r" % (segs[2][1], segs[3][1], offs))
        check(abs((segs[2][1] - segs[1][2]) - 1.0) < 0.1, "gap after the emergency: %r" % segs)
        streamed = len(K.decode(cap)) / 48000
        check(abs(streamed - mine["length_s"]) < 0.1, "streamed %.3f s, stored %r" % (streamed, mine))
        row = K.wait_closed_rows(s, ("k1",))["k1"]
        check(em in row["bulletins_whole"] and b1 in row["bulletins_whole"] and b2 in row["bulletins_whole"], row)
        check(row["reached"] == 1 and row["reconnections"] == 0, row)
        print("emergency page arrived %.3f s after the request; streamed %.3f s = stored programme"
              % (heard, streamed))
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
