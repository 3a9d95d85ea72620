"""A server killed (kill -9) after an emergency interrupted a session resumes the session where
its stream really is: the emergency moved the rest of the programme later (the interrupted
bulletin plays again from its start), and the session's stored programme says so. Programme:
b1 (8 s, 400 Hz) at 0 s, b2 (4 s, 800 Hz) after a 1 s gap; an emergency (1.5 s) at 2.5 s moves b1
to 4.0 s and b2 to 13.0 s. Killed at 6.5 s and restarted, a receiver must hear the rest of b1
(about 5 s of 400 Hz) and then b2 whole — not b1's last second and b2 early, as when the shift
lived in memory only."""
import datetime
import time
import zoneinfo

import streamkit as K
from streamkit import check


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 1, [(8.0, 400), (4.0, 800)])
        b1, b2 = st.bulletins
        em = st.emergency_recording(1.5, 1500)
        start, sess = st.session(3, minutes=1)
        K.sleep_until(start + 2.5, "the scenario: an emergency 2.5 s into b1")
        t_post = time.time()
        r = s.post("/api/v1/emergency", {"bulletin": em, "communes": [K.COMMUNE]}, st.approver)
        t_done = time.time()
        check(r.status == 201 and r.json()["sessions"][0]["interrupted"], r)

        # the stored programme moved once the stream spliced the emergency in: b1 again after the
        # emergency and the gap (1 s), b2 after it
        # the station's date (the server's zone), not this process's: they differ for 7 h a day
        day = datetime.datetime.fromtimestamp(start, zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%d")

        def offsets():
            prog = s.get("/api/v1/communes/%s/programme?date=%s" % (K.COMMUNE, day), st.admin).json()
            mine = next(x for x in prog["sessions"] if x["id"] == sess["id"])
            return {it["bulletin"]: it["offset_s"] for it in mine["items"]}
        offs = K.wait_for(lambda: [o for o in [offsets()] if o[b1] > 0], 5, "the programme moved")[0]
        # the emergency starts where the stream's next page was when it was asked for: the lead
        # (2 s) and up to a group of pages (send_ms, 2 s) past 2.5 s
        e_at = offs[b1] - 1.5 - 1.0
        check(t_post - start + K.LEAD_S - 0.1 <= e_at <= t_done - start + K.LEAD_S + K.SEND_S + 0.2 and
              offs[b2] - offs[b1] >= 8.9, (offs, t_post - start, t_done - start))

        K.sleep_until(start + offs[b1] + 2.5, "the scenario: kill -9 2.5 s into the replayed b1")
        t_kill = time.time()
        s.kill9()
        s.start()
        path, tok = st.url(0)
        t_rcv = time.time()
        rc = K.Receiver(s.port, path, tok)
        rc.start()
        rc.join(start + 40 - time.time())
        check(not rc.is_alive() and rc.error is None and rc.status == 200, (rc.error, rc.raw[:200]))
        K.check_ogg(rc.body, whole=False)
        cap = rc.save(s.tmp + "/resumed.opus")
        K.tools_accept(cap, cut=True)
        segs = [x for x in K.tones(K.decode(cap)) if x[0]]
        freqs = [f for f, _, _ in segs]
        check(freqs[-2:] == [400, 800], segs)
        rest_b1 = segs[-2][2] - segs[-2][1]
        whole_b2 = segs[-1][2] - segs[-1][1]
        # the session resumed at where it was when the server came back: between the kill and the
        # receiver's connection (≈ 5 s of b1 left; a page either side)
        lo, hi = 8.0 - (t_rcv - start - offs[b1]) - 1.0, 8.0 - (t_kill - start - offs[b1]) + 1.0
        check(lo <= rest_b1 <= hi, "after the restart b1 went on for %.2f s (want %.2f..%.2f s)" % (rest_b1, lo, hi))
        check(abs(whole_b2 - 4.0) < 0.15, "b2 played %.2f s (want 4 s)" % whole_b2)
        print("resumed: %.2f s more of b1, then b2 %.2f s" % (rest_b1, whole_b2))
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
