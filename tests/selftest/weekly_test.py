"""The weekly self-test starts by itself at its local time (docs/schedules.md, "Self-test").

The schedule is set 8 s ahead on the station's clock, to the second, every day: at that time the
server starts a run of its own (scheduled, by "system", audited), whose session starts hold_s later
and plays the schedule's text. A restart right after does not start that occurrence again (last_due
is kept: still one run once the restarted server's timer has judged the test), and the next run
shown is tomorrow's. Suite 'realtime': it waits for the clock."""
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
import streamkit as K  # noqa: E402
from streamkit import check  # noqa: E402

CONFIG = "[schedules]\nhold_s = 3\n[selftest]\nplays_wait_s = 1\n"


def main():
    with K.Server(CONFIG) as s:
        s.start()
        st = K.Setup(s, 1, [])
        admin = st.admin
        # 8 s ahead, to the second (the schedule takes HH:MM:SS; stations write HH:MM)
        due = int(time.time()) + 8
        local = time.gmtime(due + 7 * 3600)     # Asia/Ho_Chi_Minh
        at = "%02d:%02d:%02d" % (local.tm_hour, local.tm_min, local.tm_sec)
        r = s.request("PUT", "/api/v1/selftest/schedule",
                      {"days": [1, 2, 3, 4, 5, 6, 7], "time": at, "enabled": True,
                       "text": "Thử loa.", "communes": ["*"]}, admin)
        check(r.status == 200, r)
        nxt = datetime.datetime.fromisoformat(r.json()["next_run"]).timestamp()
        check(nxt == due, (r.json(), due))

        def runs():
            return s.get("/api/v1/selftest/report", admin).json()["runs"]
        got = K.wait_for(lambda: runs() or None, 90, "the weekly run at %s" % at, interval=0.2)
        run = got[0]
        started = datetime.datetime.fromisoformat(run["started_at"]).timestamp()
        check(run["scheduled"] and run["started_by"] == "system" and due <= started <= due + 5, (run, due))
        c = run["communes"][0]
        check(c["commune"] == st.commune and c["session"], run)
        start = datetime.datetime.fromisoformat(c["start"]).timestamp()
        check(start - started == 3 + 1, (start, started))
        audit = s.get("/api/v1/audit?action=selftest_run", admin).json()["audit"]
        check(len(audit) == 1 and audit[0]["actor"] == "system", audit)
        sched = s.get("/api/v1/selftest/schedule", admin).json()
        check(datetime.datetime.fromisoformat(sched["next_run"]).timestamp() == due + 86400, sched)

        # a restart right after the run: the occurrence is not started again. The run's test is
        # judged by the restarted server's timer (its session ends seconds after the restart;
        # no receiver: the cluster did not connect), so once the verdict is there the timer has
        # turned past the occurrence's time, and there must still be one run only
        s.stop()
        s.start()
        sched = s.get("/api/v1/selftest/schedule", admin).json()
        check(datetime.datetime.fromisoformat(sched["next_run"]).timestamp() == due + 86400, sched)
        K.wait_for(lambda: s.get("/api/v1/selftest/report", admin).json()["clusters"], 40, "the verdict")
        check(len(runs()) == 1, runs())
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
