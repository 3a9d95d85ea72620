"""A restart in the middle of a session resumes it at the right offset: the session stays
`on_air` in the database, the new process publishes OPEN with the session's real start (the
engine plays from now − start), so the programme ends when it would have without the restart.
Once after SIGTERM, once after kill -9. No receiver listens, so nothing counts as aired
(tests/stream/aired_test.py counts with one, across a restart)."""
import time

from schedkit import Server, Station, check, next_second_boundary, sleep_until

TEXT = ("Ủy ban nhân dân xã thông báo: lịch tiêm phòng dại cho chó mèo năm nay bắt đầu từ thứ hai "
        "tuần sau tại nhà văn hóa các thôn. Đề nghị bà con đưa vật nuôi đến tiêm đúng hẹn, mang theo "
        "sổ theo dõi. Mọi thắc mắc xin liên hệ cán bộ thú y xã vào giờ hành chính. Xin cảm ơn bà con.")


def restart(srv, how):
    if how == "kill":
        srv.kill9()
    else:
        srv.stop()
    srv.start()
    return time.time()


def resumed_offset(st, sid):
    """The offset (ms) of the last 'resumes' log line of session sid in the current run."""
    lines = st.log_lines(r"session %d \(\w[\w-]*\) resumes, \+(\d+) ms from its start" % sid)
    check(lines, "no resume logged:\n" + st.s.logs())
    return int(lines[-1].group(1))


def main():
    with Server(config="[schedules]\nhold_s = 2\ngap_ms = 0\n") as srv:
        srv.start()
        st = Station(srv)
        st.commune("quang-phu")
        b = st.bulletin(TEXT, ["quang-phu"])
        check(b["duration_s"] > 14, b)
        start = next_second_boundary(2)
        sid = st.session("quang-phu", start)["id"]
        x = st.wait_session("quang-phu", sid, ("on_air",), timeout=10)
        aired = x["aired_at_ms"]
        length_ms = int(x["length_s"] * 1000)
        check(abs(x["late_ms"]) <= 50 and length_ms > 14000, x)
        offsets = []
        for how, at in (("term", 4), ("kill", 9)):
            sleep_until(start + at, "the scenario: the server goes down %d s into the session" % at)
            t_before = time.time()
            t_up = restart(srv, how)
            dates = st.dates
            st = Station.__new__(Station)       # same users, new tokens
            st.s = srv
            st.dates = dates                    # the sessions' station dates (schedkit)
            st.operator = srv.login("operator1", "operator1-password")
            off = resumed_offset(st, sid)
            # the new process resumed between going down and answering /healthz
            lo, hi = (t_before - start) * 1000, (t_up - start) * 1000
            check(lo - 1000 <= off <= hi + 1000, (how, off, lo, hi))
            offsets.append((how, off, round(lo), round(hi)))
            y = st.find_session("quang-phu", sid)
            check(y["status"] == "on_air" and y["aired_at_ms"] == aired, y)
        # it ends where the programme ends, as if there had been no restart
        y = st.wait_session("quang-phu", sid, ("done",), timeout=30)
        end_expected = start * 1000 + length_ms
        check(abs(y["ended_at_ms"] - end_expected) <= 1000, (y, end_expected))
        bb = srv.get("/api/v1/bulletins/%d" % b["id"], st.operator).json()
        check(bb["status"] == "approved" and bb["aired"] == 0, bb)
        # killed during a short programme, back after it ended (window still open): done, with
        # the programme's end as its end, and no OPEN
        st.approver = srv.login("approver1", "approver1-password")
        st.editor = srv.login("editor1", "editor1-password")
        short = st.bulletin("Xin chào bà con.", ["quang-phu"])
        start2 = next_second_boundary(2)
        sid2 = st.session("quang-phu", start2)["id"]
        z = st.wait_session("quang-phu", sid2, ("on_air",), timeout=10)
        check([i["bulletin"] for i in z["items"]] == [b["id"], short["id"]], z)
        srv.kill9()
        sleep_until(start2 + z["length_s"] + 1, "the scenario: the programme ends while the server is down")
        srv.start()
        z2 = st.wait_session("quang-phu", sid2, ("done",), timeout=10)
        check(z2["ended_at_ms"] == start2 * 1000 + int(round(z["length_s"] * 1000)), (z, z2))
        check(not st.log_lines(r"session %d \(" % sid2), "published after its programme ended")
        print("resumed at offsets (how, logged ms, down at ms, up at ms): %s; ended %+d ms from "
              "the programme's end" % (offsets, y["ended_at_ms"] - end_expected))
        srv.stop()
    print("ok")


if __name__ == "__main__":
    main()
