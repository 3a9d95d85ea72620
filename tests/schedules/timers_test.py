"""Sessions a few seconds in the future go on air within 50 ms of their start on the real loop
(measured by the server itself: aired_at_ms − start when the timer fired, and the moment OPEN was
published, from its log), end when their programme ends; PREPARE comes hold_s before. No receiver
listens here, so nothing counts as aired (docs/schedules.md; tests/stream/aired_test.py counts
with one). Eight communes start in the same second, four the next."""
import time

from schedkit import Server, Station, check, next_second_boundary


def main():
    with Server(config="[schedules]\nhold_s = 2\ngap_ms = 500\n") as srv:
        srv.start()
        st = Station(srv)
        communes = [st.commune("xa-%d" % i) for i in range(12)]
        b = st.bulletin("Thông báo lịch tiêm chủng cho trẻ em dưới năm tuổi.", ["xa-0"], repeat=2)
        t0 = next_second_boundary(3)
        sessions = []
        for i, c in enumerate(communes):
            start = t0 + (i >= 8)           # eight communes in the same second, then four
            sessions.append((c, st.session(c, start)["id"], start))
        lates = []
        for c, sid, start in sessions:
            x = st.wait_session(c, sid, ("on_air", "done"), timeout=20)
            check(x["start_ms"] == start * 1000, x)
            lates.append(x["late_ms"])
            check(abs(x["late_ms"]) <= 50, "session %d of %s went on air %d ms from its start" %
                  (sid, c, x["late_ms"]))
        # OPEN itself went out (after the database commit) within 50 ms of the start
        pattern = r"on air, [+-]\d+ ms from its start \(OPEN published at ([+-]\d+) ms\)"
        published = [int(m.group(1)) for m in st.log_lines(pattern)]
        check(len(published) == len(sessions) and all(abs(p) <= 50 for p in published), published)
        # the programme with a bulletin closes when it ends, the empty ones at once
        x = st.wait_session("xa-0", sessions[0][1], ("done",), timeout=30)
        check(len(x["items"]) == 1 and x["items"][0]["bulletin"] == b["id"], x)
        check(x["frozen"], x)
        length_ms = x["length_s"] * 1000
        check(abs(x["ended_at_ms"] - (x["start_ms"] + length_ms)) <= 250, x)
        x = st.wait_session("xa-1", sessions[1][1], ("done",), timeout=5)   # empty
        check(x["items"] == [] and x["ended_at_ms"] - x["aired_at_ms"] < 250, x)
        # nobody was sent it: still approved; the next session of xa-0 plays it again
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
        check(bb["status"] == "approved" and bb["aired"] == 0, bb)
        lates.append(x["late_ms"])
        print("on-air lateness (ms) of %d sessions: %s; OPEN published at %s ms" %
              (len(lates), lates, published))
        srv.stop()
    print("ok")


if __name__ == "__main__":
    main()
