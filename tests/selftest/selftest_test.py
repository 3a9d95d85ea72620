"""The self-test and the broken-cluster report (issue 18, points 3 and 5; docs/schedules.md,
"Self-test").

A real server; the commune quang-phu has four clusters, and quang-an (in its quiet hours now)
one. Run 1 (POST /api/v1/selftest), a test text of a few seconds:
- k1 connects in the hold window and takes the whole test (raw HTTP reader to EOF) → passes;
- k2 never connects → not_connected;
- k3 leaves one second into the test → incomplete;
- k4 takes the whole test but is a receiver that reports plays (it reported one before) and
  reports no play of the test → not_played;
- quang-an is skipped, the reason naming its quiet hours; its cluster is not judged.
The test's session plays the test bulletin alone (the commune's programme), the bulletin is
approved by the system and targets no commune. The report lists exactly k2, k3, k4 with their
reasons, failing since run 1; the CSV has the same rows.
Run 2 (the schedule's text again: the same bulletin, no render): k1 and k2 take it whole, k4
reports a whole play of it without connecting (a box playing from its cache), k3 stays away →
only k3 is left, still failing since run 1 (reason not_connected now, 2 failed tests).
Bad input (days, time, quiet-hours time, text, unknown commune, bad JSON, unknown fields) →
400/422 and nothing changed: the schedule, the runs, the sessions.
"""
import datetime
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
import streamkit as K  # noqa: E402
from streamkit import check  # noqa: E402

TEXT = "Đây là buổi phát thử nghiệm hệ thống truyền thanh."
# held receivers get pages in real time (no lead, small groups), so that one that leaves a
# second into the test has not been sent it whole; verdicts 1 s after the accounting is final
CONFIG = ("[schedules]\nhold_s = 3\ngap_ms = 500\n"
          "[stream]\nburst_s = 0\nhold_audio = false\nlead_ms = 0\nsend_ms = 200\npage_ms = 200\n"
          "[selftest]\nplays_wait_s = 1\n")


def iso_ms(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="milliseconds")


def hhmm(offset_s):
    """The station's local time (Asia/Ho_Chi_Minh, UTC+7) offset_s from now, as HH:MM."""
    t = time.gmtime(time.time() + 7 * 3600 + offset_s)
    return "%02d:%02d" % (t.tm_hour, t.tm_min)


def db_count(s, sql):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(s.data, "loacast.db"), uri=True, timeout=10)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def state(s, admin):
    """What bad input must leave alone."""
    return (s.get("/api/v1/selftest/schedule", admin).json(),
            s.get("/api/v1/selftest/report", admin).json(),
            db_count(s, "SELECT count(*) FROM broadcasts"),
            db_count(s, "SELECT count(*) FROM bulletins"))


def bad_input(s, admin):
    before = state(s, admin)
    good = {"days": [1], "time": "08:00", "enabled": True, "text": TEXT, "communes": ["*"]}
    cases = [
        ({**good, "days": "mon"}, 400), ({**good, "days": [0]}, 422), ({**good, "days": [8]}, 422),
        ({**good, "days": []}, 422), ({**good, "days": [1, 1]}, 422), ({**good, "days": [1.5]}, 400),
        ({**good, "time": "8:00"}, 422), ({**good, "time": "25:00"}, 422),
        ({**good, "time": "08:00:60"}, 422), ({**good, "time": 800}, 400),
        ({**good, "text": ""}, 422), ({**good, "text": "  "}, 422), ({**good, "text": "a" * 301}, 422),
        ({**good, "communes": ["nowhere"]}, 422), ({**good, "communes": "quang-phu"}, 400),
        ({**good, "communes": []}, 400), ({**good, "communes": ["*", "quang-phu"]}, 422),
        ({**good, "enabled": "yes"}, 400), ({**good, "colour": "red"}, 400),
        ({k: v for k, v in good.items() if k != "days"}, 400),
        ({k: v for k, v in good.items() if k != "enabled"}, 400),
    ]
    for body, want in cases:
        r = s.request("PUT", "/api/v1/selftest/schedule", body, admin)
        check(r.status == want and r.json()["message"], "PUT %r → %r, not %d" % (body, r, want))
    for raw in (b"{", b"[]", b"\xff"):
        r = s.request("PUT", "/api/v1/selftest/schedule", raw, admin, headers={"Content-Type": "application/json"})
        check(r.status == 400, (raw, r))
        r = s.request("POST", "/api/v1/selftest", raw, admin, headers={"Content-Type": "application/json"})
        check(r.status == 400, (raw, r))
    runs = [({}, 400), ({"communes": []}, 400), ({"communes": ["nowhere"]}, 422),
            ({"communes": ["quang-phu"], "text": ""}, 422), ({"communes": ["quang-phu"], "extra": 1}, 400),
            ({"communes": [1]}, 400), ({"communes": ["quang-phu"], "text": 5}, 400)]
    for body, want in runs:
        r = s.post("/api/v1/selftest", body, admin)
        check(r.status == want and r.json()["message"], "POST %r → %r, not %d" % (body, r, want))
    check(state(s, admin) == before, "bad input changed something")


def quiet_hours(s, admin):
    """A schedule time in the default quiet hours → 422 naming the rule; quang-an is in its own
    quiet hours now (so a run skips it)."""
    before = state(s, admin)
    r = s.request("PUT", "/api/v1/rules", {"quiet": [{"from": hhmm(6 * 3600), "to": hhmm(7 * 3600)}]}, admin)
    check(r.status == 200, r)
    r = s.request("PUT", "/api/v1/selftest/schedule",
                  {"days": [1, 2, 3, 4, 5, 6, 7], "time": hhmm(6 * 3600 + 1800), "enabled": True}, admin)
    check(r.status == 422 and "quiet" in r.json()["message"], r)
    check(state(s, admin) == before, "a refused schedule changed something")
    r = s.request("PUT", "/api/v1/communes/quang-an/rules",
                  {"quiet": [{"from": hhmm(-3600), "to": hhmm(3600)}]}, admin)
    check(r.status == 200, r)


def report(s, admin):
    return s.get("/api/v1/selftest/report", admin).json()


def wait_judged(s, admin, run, timeout=40):
    def judged():
        for x in report(s, admin)["runs"]:
            if x["run"] == run and all(c["state"] != "pending" for c in x["communes"]):
                return x
        return None
    return K.wait_for(judged, timeout, "run %d judged" % run, interval=0.2)


def main():
    t0 = time.time()
    with K.Server(CONFIG) as s:
        s.start()
        st = K.Setup(s, 4, [])
        admin = st.admin
        (k1, t1), (k2, t2), (k3, t3), (k4, t4) = st.clusters
        r = s.post("/api/v1/communes", {"id": "quang-an", "name": "Quảng An"}, admin)
        check(r.status == 201, r)
        check(s.request("PUT", "/api/v1/communes/quang-an/slots", [], admin).status == 200, "slots")
        r = s.post("/api/v1/clusters", {"id": "a1", "commune": "quang-an", "name": "An 1"}, admin)
        check(r.status == 201, r)

        bad_input(s, admin)
        quiet_hours(s, admin)

        # a valid schedule: the test text, every day 12 hours from now (out of every quiet hour)
        at = hhmm(12 * 3600)
        sched = {"days": [1, 2, 3, 4, 5, 6, 7], "time": at, "text": TEXT, "communes": ["*"], "enabled": False}
        r = s.request("PUT", "/api/v1/selftest/schedule", sched, s.make_user(admin, "olga", "operator"))
        check(r.status == 200 and r.json()["next_run"] is None, r)
        got = s.get("/api/v1/selftest/schedule", admin).json()
        check({k: got[k] for k in sched} == sched, got)
        r = s.request("PUT", "/api/v1/selftest/schedule", {**sched, "enabled": True}, admin)
        check(r.status == 200 and r.json()["next_run"] and r.json()["next_run"][11:16] == at, r)

        # k4 is a receiver that reports plays: one of an earlier session
        r = s.post("/api/v1/receivers/%s/plays" % k4, {"plays": [{
            "id": "old-1", "session": 999999, "bulletin": 999999, "hash": "0" * 64,
            "start": iso_ms(time.time() - 3600), "end": iso_ms(time.time() - 3590), "played_s": 10.0}]},
            t4)
        check(r.status == 200, r)

        # ---- run 1 ----
        r = s.post("/api/v1/selftest", {"communes": ["quang-phu", "quang-an"], "text": TEXT}, admin)
        check(r.status == 201, r)
        run1 = r.json()
        by = {c["commune"]: c for c in run1["communes"]}
        check("session" in by["quang-phu"] and by["quang-an"]["skipped"] and
              "quiet" in by["quang-an"]["reason"], run1)
        bid = run1["bulletin"]
        b = s.get("/api/v1/bulletins/%d" % bid, admin).json()
        check(b["status"] == "approved" and b["communes"] == [] and b["approved_by"] == "system", b)
        K.wait_held(s)
        start1 = datetime.datetime.fromisoformat(by["quang-phu"]["start"]).timestamp()
        rc1 = K.Receiver(s.port, st.url(0)[0], t1)
        rc3 = K.Receiver(s.port, st.url(2)[0], t3, stop_after=start1 - time.time() + 1.0)
        rc4 = K.Receiver(s.port, st.url(3)[0], t4)
        for x in (rc1, rc3, rc4):
            x.start()
        # the session's programme is the test bulletin alone
        day = by["quang-phu"]["start"][:10]
        prog = s.get("/api/v1/communes/quang-phu/programme?date=%s" % day, admin).json()
        mine = [x for x in prog["sessions"] if x["id"] == by["quang-phu"]["session"]]
        check(len(mine) == 1 and [i["bulletin"] for i in mine[0]["items"]] == [bid], prog)
        K.wait_for(lambda: not any(x.is_alive() for x in (rc1, rc3, rc4)), 40, "the test's streams to end")
        for x in (rc1, rc3, rc4):
            check(x.error is None and x.status == 200, (x.error, x.raw[:200]))
        K.check_ogg(rc1.body)
        judged = wait_judged(s, admin, run1["run"])
        c = {x["commune"]: x for x in judged["communes"]}
        check(c["quang-phu"]["state"] == "judged" and c["quang-phu"]["passed"] == 1 and
              c["quang-phu"]["failed"] == 3 and c["quang-an"]["state"] == "skipped", judged)
        rep = report(s, admin)["clusters"]
        got = {x["cluster"]: x["reason"] for x in rep}
        check(got == {k2: "not_connected", k3: "incomplete", k4: "not_played"}, rep)
        first = rep[0]["failing_since"]
        check(all(x["failing_since"] == first == x["last_test"] and x["commune"] == "quang-phu" and
                  x["failed_tests"] == 1 for x in rep), rep)
        check(datetime.datetime.fromisoformat(first).timestamp() == start1, (first, start1))
        # the CSV: a spreadsheet's rows, the same clusters
        r = s.get("/api/v1/selftest/report?format=csv", admin)
        check(r.status == 200 and r.headers["content-type"].startswith("text/csv"), r)
        lines = r.body.decode("utf-8-sig").split("\r\n")
        check(lines[0].startswith("commune,commune_name,cluster,") and len([x for x in lines[1:] if x]) == 3 and
              all(("," + k + ",") in r.body.decode() for k in (k2, k3, k4)), lines)

        # ---- run 2: the schedule's text, the same bulletin ----
        r = s.post("/api/v1/selftest", {"communes": ["quang-phu"]}, admin)
        check(r.status == 201 and r.json()["bulletin"] == bid, r)
        run2 = r.json()
        sess2 = run2["communes"][0]["session"]
        start2 = datetime.datetime.fromisoformat(run2["start"]).timestamp()
        K.wait_held(s)
        rc1 = K.Receiver(s.port, st.url(0)[0], t1)
        rc2 = K.Receiver(s.port, st.url(1)[0], t2)
        for x in (rc1, rc2):
            x.start()
        K.wait_for(lambda: not rc1.is_alive() and not rc2.is_alive(), 40, "run 2's streams to end")
        dur = b["duration_s"]
        r = s.post("/api/v1/receivers/%s/plays" % k4, {"plays": [{
            "id": "test-2", "session": sess2, "bulletin": bid, "hash": b["media_hash"],
            "start": iso_ms(start2), "end": iso_ms(start2 + dur + 0.1), "played_s": dur}]}, t4)
        check(r.status == 200, r)
        wait_judged(s, admin, run2["run"])
        rep = report(s, admin)["clusters"]
        check([(x["cluster"], x["reason"], x["failing_since"], x["failed_tests"]) for x in rep] ==
              [(k3, "not_connected", first, 2)], rep)
        check(datetime.datetime.fromisoformat(rep[0]["last_test"]).timestamp() == start2, rep)
        runs = s.get("/api/v1/audit?action=selftest_run", admin).json()["audit"]
        check(len(runs) == 2, runs)
        check(len(s.get("/api/v1/audit?action=selftest_schedule", admin).json()["audit"]) == 2, "audit")
        s.stop()
    print("ok (%.1f s)" % (time.time() - t0))


if __name__ == "__main__":
    main()
