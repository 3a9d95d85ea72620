"""Sessions a few seconds in the future go on air within 50 ms of their start on the real loop
(measured by the server itself: aired_at_ms − start, the clock it publishes OPEN by), end when
their programme ends, and count the airing of what they played; the PREPARE (hold) comes hold_s
before. Several communes start in the same second and in consecutive seconds."""
import time

from schedkit import Server, Station, check, next_second_boundary


def main():
    with Server(config="[schedules]\nhold_s = 2\ngap_ms = 500\n") as srv:
        srv.start()
        st = Station(srv)
        communes = [st.commune("xa-%d" % i) for i in range(6)]
        b = st.bulletin("Thông báo lịch tiêm chủng cho trẻ em dưới năm tuổi.", ["xa-0"], repeat=2)
        t0 = next_second_boundary(3)
        sessions = []
        for i, c in enumerate(communes):
            start = t0 + (i // 2)           # two communes per second, three seconds
            sessions.append((c, st.session(c, start)["id"], start))
        lates = []
        for c, sid, start in sessions:
            x = st.wait_session(c, sid, ("on_air", "done"), timeout=20)
            check(x["start_ms"] == start * 1000, x)
            lates.append(x["late_ms"])
            check(abs(x["late_ms"]) <= 50, "session %d of %s went on air %d ms from its start" %
                  (sid, c, x["late_ms"]))
        # the programme with a bulletin closes when it ends, the empty ones at once
        x = st.wait_session("xa-0", sessions[0][1], ("done",), timeout=30)
        check(len(x["items"]) == 1 and x["items"][0]["bulletin"] == b["id"], x)
        check(x["frozen"], x)
        length_ms = x["length_s"] * 1000
        check(abs(x["ended_at_ms"] - (x["start_ms"] + length_ms)) <= 250, x)
        x = st.wait_session("xa-1", sessions[1][1], ("done",), timeout=5)
        check(x["items"] == [] and x["ended_at_ms"] - x["aired_at_ms"] < 250, x)
        # aired once (of two): still approved; the next session of xa-0 plays it again
        bb = srv.get("/api/v1/bulletins/%d" % b["id"], st.operator).json()
        check(bb["status"] == "approved", bb)
        # PREPARE came about hold_s before OPEN (log lines of the scheduler)
        prep = st.log_lines(r"prepare session %d \(xa-0\)" % sessions[0][1])
        check(len(prep) == 1, "no single PREPARE for the first session")
        start2 = next_second_boundary(2)
        sid2 = st.session("xa-0", start2)["id"]
        x = st.wait_session("xa-0", sid2, ("done",), timeout=30)
        check(abs(x["late_ms"]) <= 50 and len(x["items"]) == 1, x)
        bb = srv.get("/api/v1/bulletins/%d" % b["id"], st.operator).json()
        check(bb["status"] == "done" and bb["aired"] == 2, bb)
        lates.append(x["late_ms"])
        print("on-air lateness (ms) of %d sessions: %s; max |late| %d ms" %
              (len(lates), lates, max(abs(v) for v in lates)))
        srv.stop()
    print("ok")


if __name__ == "__main__":
    main()
