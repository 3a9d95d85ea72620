"""Nothing withdrawn reaches a speaker: a bulletin withdrawn after its session's programme was
frozen (PREPARE, hold window) is taken out at OPEN — the programme is built again from what is
still approved — and the approved bulletins after it move up. An approved bulletin past its `expires` becomes
`expired`."""
import time

from schedkit import Server, Station, check, next_second_boundary, rfc3339, wait_for


def main():
    with Server(config="[schedules]\nhold_s = 4\ngap_ms = 1000\n") as srv:
        srv.start()
        st = Station(srv)
        st.commune("quang-phu")
        first = st.bulletin("Thông báo thứ nhất về lịch họp thôn.", ["quang-phu"], priority="high")
        second = st.bulletin("Thông báo thứ hai về vệ sinh môi trường.", ["quang-phu"])
        start = next_second_boundary(6)
        sid = st.session("quang-phu", start)["id"]
        x = wait_for(lambda: [y for y in [st.find_session("quang-phu", sid)] if y["frozen"]], 10,
                     "the programme frozen (PREPARE)", interval=0.05)[0]
        check(x["status"] == "scheduled", x)
        check([i["bulletin"] for i in x["items"]] == [first["id"], second["id"]], x)
        check(time.time() < start - 0.5, "frozen too late to test")
        r = srv.post("/api/v1/bulletins/%d/withdraw" % first["id"], {}, st.editor)
        check(r.status == 200, r)
        x = st.wait_session("quang-phu", sid, ("on_air", "done"), timeout=10)
        check([i["bulletin"] for i in x["items"]] == [second["id"]], x)
        check(x["items"][0]["offset_s"] == 0 and abs(x["late_ms"]) <= 50, x)
        check(len(st.log_lines(r"session %d: a bulletin was withdrawn" % sid)) == 1, "rebuilt")
        b1 = srv.get("/api/v1/bulletins/%d" % first["id"], st.operator).json()
        check(b1["status"] == "withdrawn" and b1["aired"] == 0, b1)
        # an approved bulletin past its `expires` becomes `expired` (audited) within a second
        exp = int(time.time()) + 5
        e = st.bulletin("Thông báo có hạn.", ["quang-phu"], expires=rfc3339(exp, 7 * 60))
        check(e["status"] == "approved", e)
        e = wait_for(lambda: [y for y in [srv.get("/api/v1/bulletins/%d" % e["id"], st.operator).json()]
                              if y["status"] != "approved"], exp + 10 - time.time(), "the bulletin expired",
                     interval=0.1)[0]
        check(e["status"] == "expired" and time.time() < exp + 2.5, e)
        audit = srv.get("/api/v1/audit?action=bulletin_expired", st.admin).json()["audit"]
        check([a["target"] for a in audit] == [str(e["id"])], audit)
        srv.stop()
    print("ok")


if __name__ == "__main__":
    main()
