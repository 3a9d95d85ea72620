"""Bad input to the schedules routes gets a 4xx and changes nothing: overlapping slots (also
across midnight), 25:00, negative or zero lengths, unknown days and fields, unknown communes,
overlapping or finished ad-hoc sessions, bad dates, and emergencies by an editor or an operator,
to unknown communes, of unapproved bulletins. The state (slots, programmes, bulletins, audit) is
compared before and after."""
import subprocess
import time

from schedkit import LOACAST, Server, Station, check, rfc3339


def state(srv, st):
    out = []
    for c in ("quang-phu", "tan-an"):
        out.append(srv.get("/api/v1/communes/%s/slots" % c, st.operator).json())
        for p in st.programme(c)["sessions"]:
            out.append({k: p[k] for k in ("id", "kind", "start", "end", "status")})
    out.append(len(srv.get("/api/v1/bulletins", st.admin).json()["bulletins"]))
    out.append(len(srv.get("/api/v1/audit?limit=1000", st.admin).json()["audit"]))
    return out


def main():
    with Server(config="[schedules]\nhold_s = 2\n") as srv:
        srv.start()
        st = Station(srv)
        st.commune("quang-phu", [{"start": "06:00", "minutes": 60}, {"start": "23:30", "minutes": 45}])
        r = srv.post("/api/v1/communes", {"id": "tan-an", "name": "Tân An"}, st.operator)
        check(r.status == 201, r)
        # new communes get the default two slots
        r = srv.get("/api/v1/communes/tan-an/slots", st.editor)
        check(r.status == 200 and r.json()["slots"] == [{"start": "06:00", "minutes": 60},
                                                        {"start": "17:00", "minutes": 60}], r)
        pending = srv.post("/api/v1/bulletins", {"title": "p", "text": "Xin chào.", "communes": ["*"]},
                           st.editor).json()["id"]
        srv.wait_status(st.editor, pending, ("pending",))
        # noon (UTC+7) three days ahead: clear of the default slots (06:00, 17:00) whatever the
        # time of day the test runs at
        future = int(time.time()) + 3 * 86400
        adhoc = st.session("tan-an", future - future % 86400 + 5 * 3600, 30)
        before = state(srv, st)
        slots = "/api/v1/communes/quang-phu/slots"
        bad_slots = [
            ([{"start": "06:00", "minutes": 60}, {"start": "06:59", "minutes": 5}], 409),
            ([{"start": "23:30", "minutes": 60}, {"start": "00:15", "minutes": 10}], 409),   # midnight
            ([{"start": "22:00", "minutes": 30, "days": ["sun"]},
              {"start": "22:15", "minutes": 30, "days": ["sun", "mon"]}], 409),
            ([{"start": "25:00", "minutes": 60}], 422),
            ([{"start": "24:00", "minutes": 60}], 422),
            ([{"start": "6:00", "minutes": 60}], 422),
            ([{"start": "06:00:60", "minutes": 60}], 422),
            ([{"start": "06:00", "minutes": -60}], 422),
            ([{"start": "06:00", "minutes": 0}], 422),
            ([{"start": "06:00", "minutes": 241}], 422),
            ([{"start": "06:00", "minutes": 60, "days": ["someday"]}], 422),
            ([{"start": "06:00", "minutes": 60, "days": []}], 400),
            ([{"start": "06:00", "minutes": "60"}], 400),
            ([{"start": "06:00", "minutes": 60.5}], 400),
            ([{"start": "06:00"}], 400),
            ([{"start": "06:00", "minutes": 60, "colour": "red"}], 400),
            ([[]], 400),
            ({"slots": [], "extra": 1}, 400),
            ("06:00", 400),
            ([{"start": "%02d:00" % (i % 24), "minutes": 1} for i in range(49)], 422),
        ]
        for body, status in bad_slots:
            r = srv.request("PUT", slots, body, st.operator)
            check(r.status == status and r.json()["error"], (body, r))
        r = srv.request("PUT", slots, b"[{\"start\":", st.operator)
        check(r.status == 400, r)
        r = srv.request("PUT", "/api/v1/communes/nowhere/slots", [], st.operator)
        check(r.status == 404, r)
        r = srv.get("/api/v1/communes/nowhere/slots", st.operator)
        check(r.status == 404, r)
        r = srv.request("PUT", slots, [], st.editor)
        check(r.status == 403, r)
        r = srv.request("PUT", slots, [], st.approver)
        check(r.status == 403, r)
        # sessions
        sess = "/api/v1/communes/tan-an/sessions"
        t = adhoc["start_ms"] // 1000
        slot_next = None
        for x in st.programme("tan-an")["sessions"] + st.programme("tan-an", time.strftime(
                "%Y-%m-%d", time.gmtime(time.time() + 86400 * 2)))["sessions"]:
            if x["kind"] == "slot" and x["start_ms"] > time.time() * 1000 + 600000:
                slot_next = x["start_ms"] // 1000
                break
        check(slot_next, "a future slot session")
        bad_sessions = [
            ({"start": rfc3339(t + 600), "minutes": 10}, 409),                 # inside the ad hoc
            ({"start": rfc3339(t - 600, -5 * 60), "minutes": 11}, 409),        # overlaps its start
            ({"start": rfc3339(slot_next - 60, 0), "minutes": 2}, 409),        # a slot occurrence
            ({"start": rfc3339(t + 7200), "minutes": -10}, 422),
            ({"start": rfc3339(t + 7200), "minutes": 0}, 422),
            ({"start": rfc3339(t + 7200), "minutes": 241}, 422),
            ({"start": "2026-11-24T25:00:00+07:00", "minutes": 10}, 422),
            ({"start": "25:00", "minutes": 10}, 422),
            ({"start": "tomorrow", "minutes": 10}, 422),
            ({"start": rfc3339(time.time() - 3600), "minutes": 30}, 422),      # over already
            ({"start": rfc3339(t + 7200)}, 400),
            ({"minutes": 10}, 400),
            ({"start": rfc3339(t + 7200), "minutes": 10, "x": 1}, 400),
            ({"start": 12, "minutes": 10}, 400),
        ]
        for body, status in bad_sessions:
            r = srv.post(sess, body, st.operator)
            check(r.status == status, (body, r))
        r = srv.post("/api/v1/communes/nowhere/sessions", {"start": rfc3339(t + 7200), "minutes": 10},
                     st.operator)
        check(r.status == 404, r)
        for tok in (st.editor, st.approver):
            r = srv.post(sess, {"start": rfc3339(t + 7200), "minutes": 10}, tok)
            check(r.status == 403, r)
        # programme
        for q, status in (("?date=2026-13-01", 400), ("?date=tomorrow", 400), ("?date=", 400)):
            r = srv.get("/api/v1/communes/tan-an/programme" + q, st.editor)
            check(r.status == status, (q, r))
        check(srv.get("/api/v1/communes/nowhere/programme", st.editor).status == 404, "404")
        check(srv.get("/api/v1/communes/tan-an/programme", None).status == 401, "401")
        # emergencies
        em = "/api/v1/emergency"
        for tok in (st.editor, st.operator):
            r = srv.post(em, {"text": "Khẩn cấp.", "communes": ["tan-an"]}, tok)
            check(r.status == 403, r)
        bad_em = [
            ({"text": "Khẩn cấp.", "communes": ["nowhere"]}, 422),
            ({"text": "Khẩn cấp.", "communes": ["tan-an", "nowhere"]}, 422),
            ({"text": "Khẩn cấp.", "communes": ["*", "tan-an"]}, 422),
            ({"text": "Khẩn cấp.", "communes": []}, 400),
            ({"text": "Khẩn cấp.", "communes": "tan-an"}, 400),
            ({"text": "Khẩn cấp."}, 400),
            ({"communes": ["tan-an"]}, 400),
            ({"text": "Khẩn cấp.", "bulletin": pending, "communes": ["tan-an"]}, 400),
            ({"text": "", "communes": ["tan-an"]}, 422),
            ({"text": "Khẩn cấp.", "voice": "en", "communes": ["tan-an"]}, 422),
            ({"bulletin": pending, "communes": ["tan-an"]}, 409),
            ({"bulletin": 999999, "communes": ["tan-an"]}, 404),
            ({"bulletin": -1, "communes": ["tan-an"]}, 422),
            ({"text": "Khẩn cấp.", "communes": ["tan-an"], "priority": "high"}, 400),
            ({"text": "...", "communes": ["tan-an"]}, 422),      # nothing to speak
        ]
        for body, status in bad_em:
            r = srv.post(em, body, st.approver)
            check(r.status == status, (body, r))
        after = state(srv, st)
        check(before == after, "state changed:\n%r\n%r" % (before, after))
        srv.stop()
    # a zone that is neither an IANA name nor a fixed POSIX offset stops the server at start
    for tz in ("<LOC>-25:00", "<LOC>-7:60", "<L>-7", "Mars/Olympus", "UTC+7"):
        with Server(config="timezone = %s\n" % tz) as srv:
            p = subprocess.run([LOACAST, "serve", "--config", srv.config_path], capture_output=True,
                               timeout=30)
            check(p.returncode != 0 and b"timezone" in p.stderr, (tz, p.stderr))
    print("ok")


if __name__ == "__main__":
    main()
