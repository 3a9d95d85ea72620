"""A server killed (kill -9) after an emergency interrupted a session resumes the session where
its stream really is: the emergency moved the rest of the programme later (the interrupted
bulletin plays again from its start), and the session's stored programme says so. Programme:
b1 (8 s, 400 Hz) at 0 s, b2 (4 s, 800 Hz) after a 1 s gap; an emergency (1.5 s) at 2.5 s moves b1
to 4.0 s and b2 to 13.0 s. Killed at 6.5 s and restarted, a receiver must hear the rest of b1
(about 5 s of 400 Hz) and then b2 whole — not b1's last second and b2 early, as when the shift
lived in memory only."""
import time

import streamkit as K
from streamkit import check


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 1, [(8.0, 400), (4.0, 800)])
        b1, b2 = st.bulletins
        em = st.emergency_recording(1.5, 1500)
        start, sess = st.session(3, minutes=1)
        time.sleep(max(0, start + 2.5 - time.time()))
        r = s.post("/api/v1/emergency", {"bulletin": em, "communes": [K.COMMUNE]}, st.approver)
        check(r.status == 201 and r.json()["sessions"][0]["interrupted"], r)

        # the stored programme moved: b1 again after the emergency, b2 after it
        day = time.strftime("%Y-%m-%d", time.localtime(start))
        prog = s.get("/api/v1/communes/%s/programme?date=%s" % (K.COMMUNE, day), st.admin).json()
        mine = next(x for x in prog["sessions"] if x["id"] == sess["id"])
        offs = {it["bulletin"]: it["offset_s"] for it in mine["items"]}
        check(3.9 <= offs[b1] <= 4.2 and offs[b2] - offs[b1] >= 8.9, offs)

        time.sleep(max(0, start + 6.5 - time.time()))
        s.kill9()
        s.start()
        path, tok = st.url(0)
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
        check(3.5 <= rest_b1 <= 6.5, "after the restart b1 went on for %.2f s (want ~5 s)" % rest_b1)
        check(abs(whole_b2 - 4.0) < 0.15, "b2 played %.2f s (want 4 s)" % whole_b2)
        print("resumed: %.2f s more of b1, then b2 %.2f s" % (rest_b1, whole_b2))
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
