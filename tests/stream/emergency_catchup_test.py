"""An emergency between sessions reaches the receivers that poll (issue 15, point 1).

Off air a receiver gets 503 with Retry-After 20–30 s and polls again then. An emergency that lasts
5 s is over before most of them poll again; for [stream] catchup_s after it began (45 s by default;
20 here, ≥ the longest Retry-After) a receiver that did not get it is sent it from its first
second. Here: k1 polls as a box does (honouring Retry-After) from before the POST; k2 polls right
after it; k3 never connects; the second commune's only cluster never connects. Both pollers get the
whole emergency. GET /api/v1/emergency/{bulletin} says so cluster by cluster (2 of 3 in the first
commune, 0 of 1 in the other) and becomes final after the catch-up; the bulletin counts as aired in
the first commune only — nothing says it aired where nobody got it.
"""
import os
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import streamkit as K  # noqa: E402
from streamkit import check  # noqa: E402

CATCHUP_S = 32


class Poller(threading.Thread):
    """A box off air: GET the stream; on 503 wait what Retry-After says and ask again; on 200 read
    the stream to its end. first_audio: when the first audio page arrived."""

    def __init__(self, port, path, tok, deadline):
        super().__init__(daemon=True)
        self.port, self.path, self.tok, self.deadline = port, path, tok, deadline
        self.rc, self.polls, self.error = None, [], None
        self.stop = threading.Event()

    def run(self):
        try:
            while time.time() < self.deadline and not self.stop.is_set():
                rc = K.Receiver(self.port, self.path, self.tok, close=True)
                rc.start()
                rc.join(self.deadline - time.time())
                self.polls.append((rc.connected_at, rc.status))
                if rc.status == 200:
                    self.rc = rc
                    return
                head = rc.raw[:rc.head_len].decode()
                retry = int(next(l.split(":")[1] for l in head.split("\r\n")
                                 if l.lower().startswith("retry-after:")))
                check(20 <= retry <= 30, "Retry-After %d" % retry)
                self.stop.wait(retry)  # the box's own wait, as Retry-After tells it
        except Exception as e:  # reported by the test
            self.error = e


def whole_emergency(rc, s, name, polls=None):
    check(rc is not None and rc.status == 200, "%s got no stream: polls %r; server log:\n%s" %
          (name, polls, "\n".join(l for l in s.logs().splitlines() if "stream" in l)))
    K.check_ogg(rc.body)
    cap = rc.save(os.path.join(s.tmp, name + ".opus"))
    K.tools_accept(cap)
    segs = [x for x in K.tones(K.decode(cap)) if x[0]]
    check(len(segs) == 1 and segs[0][0] == 1500 and abs(segs[0][2] - segs[0][1] - 5.0) < 0.1 and
          segs[0][1] < 0.2, "%s: %r" % (name, segs))


def main():
    with K.Server(K.config("catchup_s = %d\n" % CATCHUP_S)) as s:
        s.start()
        st = K.Setup(s, 3, [(1.0, 400)])
        em = st.emergency_recording(5.0, 1500)
        r = s.post("/api/v1/clusters", {"id": "q1", "commune": "quang-an", "name": "Cụm Q"}, st.admin)
        check(r.status == 201, r)

        # k1 polls from now on; its first poll is answered 503 (off air)
        p1 = Poller(s.port, *st.url(0), deadline=time.time() + 60)
        p1.start()
        K.wait_for(lambda: p1.polls, 10, "k1's first poll")
        check(p1.polls[0][1] == 503, p1.polls)

        t_post = time.time()
        r = s.post("/api/v1/emergency", {"bulletin": em, "communes": [K.COMMUNE, "quang-an"]}, st.approver)
        check(r.status == 201, r)
        check(all(not x["interrupted"] for x in r.json()["sessions"]), r)
        # k2 polls right after it
        p2 = Poller(s.port, *st.url(1), deadline=time.time() + 30)
        p2.start()

        rep = s.get("/api/v1/emergency/%d" % em, st.admin)
        check(rep.status == 200 and rep.json()["final"] is False, rep)

        for p in (p1, p2):
            p.join(70)
            check(not p.is_alive() and p.error is None, p.error)
        whole_emergency(p2.rc, s, "k2", p2.polls)
        whole_emergency(p1.rc, s, "k1", p1.polls)
        ps1, ps2 = K.pages(p1.rc.body), K.pages(p2.rc.body)
        k1_at = p1.rc.arrival(ps1[2][0]) - t_post
        k2_at = p2.rc.arrival(ps2[2][0]) - t_post
        k1_wait = p1.rc.arrival(ps1[2][0]) - p1.rc.connected_at
        check(k1_wait < 0.5, "k1 connected %.2f s before its first audio page" % k1_wait)
        check(k1_at > 5.0, "k1 polled again only after the emergency was over: %.1f s" % k1_at)

        # the report, cluster by cluster; final once the catch-up is over
        def report():
            x = s.get("/api/v1/emergency/%d" % em, st.admin)
            check(x.status == 200, x)
            return x.json()
        rep = K.wait_for(lambda: [x for x in [report()] if x["final"]], CATCHUP_S + 30, "the final report")[0]
        by = {c["commune"]: c for c in rep["communes"]}
        qp = {k["cluster"]: k["delivered"] for k in by[K.COMMUNE]["clusters"]}
        check(qp == {"k1": True, "k2": True, "k3": False}, rep)
        check(by["quang-an"]["clusters_delivered"] == 0 and by["quang-an"]["clusters_total"] == 1, rep)
        check(rep["clusters_total"] == 4 and rep["clusters_delivered"] == 2, rep)
        check(s.get("/api/v1/emergency/999999", st.admin).status == 404, "unknown bulletin")

        # aired in the commune that got it, not in the other (whose cluster never connected, and
        # which the bulletin targets: it stays approved there, aired 0)
        def airings():
            db = sqlite3.connect("file:%s?mode=ro" % os.path.join(s.data, "loacast.db"), uri=True, timeout=10)
            rows = dict(db.execute("SELECT commune, aired FROM bulletin_airings WHERE bulletin = ?", (em,)))
            db.close()
            return rows
        K.wait_for(lambda: airings() == {K.COMMUNE: 1}, 15, lambda: "airings %r" % airings())
        b = s.get("/api/v1/bulletins/%d" % em, st.admin).json()
        check(b["aired"] == 0 and b["status"] == "approved", b)
        print("emergency to a box polling right after the POST: first audio page %.2f s after the "
              "POST; to a box polling every 20-30 s: %.2f s after (its poll at +%.1f s, audio %.2f s "
              "after connecting), from the emergency's first second" %
              (k2_at, k1_at, p1.rc.connected_at - t_post, k1_wait))
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
