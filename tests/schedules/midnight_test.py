"""Local midnight on the real loop. The station's zone is a fixed POSIX offset chosen so that local
midnight falls a few seconds after the server starts ("<LOC>-H:MM:SS"; the server accepts such a
zone besides IANA names). A slot at 23:59:57 with a programme longer than 3 s goes on air within
50 ms, is listed on the day it started, and ends after midnight; a slot at 00:00:02 of another
commune goes on air within 50 ms on the new date. Each fires once."""
import datetime
import time

from schedkit import Server, Station, check, wait_for

LEAD_S = 14     # seconds from writing the configuration to local midnight


def main():
    midnight = int(time.time()) + LEAD_S
    offset = (-midnight) % 86400           # seconds east of UTC that make `midnight` 00:00:00
    h, m, s = offset // 3600, offset // 60 % 60, offset % 60
    tz = "<LOC>-%d:%02d:%02d" % (h, m, s)
    local = datetime.timezone(datetime.timedelta(seconds=offset))
    day_before = datetime.datetime.fromtimestamp(midnight - 1, local).date().isoformat()
    day_after = datetime.datetime.fromtimestamp(midnight, local).date().isoformat()
    check(datetime.datetime.fromtimestamp(midnight, local).strftime("%H:%M:%S") == "00:00:00", tz)
    with Server(config="timezone = %s\n[schedules]\nhold_s = 2\n" % tz) as srv:
        srv.start()
        st = Station(srv)
        st.commune("truoc", [{"start": "23:59:57", "minutes": 1}])
        st.commune("sau", [{"start": "00:00:02", "minutes": 1}])
        b = st.bulletin("Thông báo: từ ngày mai, chợ phiên họp từ sáu giờ sáng đến mười giờ trưa, "
                        "bà con chú ý sắp xếp thời gian.", ["truoc"])
        check(time.time() < midnight - 4, "too slow to set up before midnight")
        before = st.programme("truoc", day_before)["sessions"]
        check(len(before) == 1 and before[0]["status"] == "scheduled", before)
        check(before[0]["start_ms"] == (midnight - 3) * 1000, (before, midnight))
        check([i["bulletin"] for i in before[0]["items"]] == [b["id"]], before)   # predicted
        # 23:59:57: on air on time, still on air at midnight, done after it
        x = wait_for(lambda: [y for y in st.programme("truoc", day_before)["sessions"][:1] if y["status"] == "done"],
                     30, "23:59:57 to be done", interval=0.1)[0]
        check(abs(x["late_ms"]) <= 50, x)
        check(x["frozen"] and len(x["items"]) == 1, x)
        check(x["length_s"] > 3 and x["ended_at_ms"] > midnight * 1000, x)
        # not listed on the next day (a session belongs to the day it starts on), which has its
        # own 23:59:57, not yet materialised
        after = st.programme("truoc", day_after)["sessions"]
        check(len(after) == 1 and after[0]["id"] is None and
              after[0]["start_ms"] == (midnight - 3 + 86400) * 1000, after)
        # 00:00:02 of the new date
        y = wait_for(lambda: [y for y in st.programme("sau", day_after)["sessions"][:1]
                              if y["status"] in ("on_air", "done")], 30, "00:00:02 on air")[0]
        check(y["start_ms"] == (midnight + 2) * 1000 and abs(y["late_ms"]) <= 50, y)
        check(st.programme("sau", day_before)["sessions"][0]["start_ms"] ==
              (midnight + 2 - 86400) * 1000, "yesterday's 00:00:02")
        # each fired once
        check(len(st.log_lines(r"on air, [+-]\d+ ms from its start")) == 2, "two OPENs")
        print("23:59:57 on air %+d ms, 00:00:02 on air %+d ms; programme ended %d ms after midnight"
              % (x["late_ms"], y["late_ms"], x["ended_at_ms"] - midnight * 1000))
        srv.stop()
    print("ok")


if __name__ == "__main__":
    main()
