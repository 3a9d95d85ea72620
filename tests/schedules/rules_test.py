"""Broadcast rules (issue 18, point 1) on the real server: defaults and a commune's own rules;
slots and ad-hoc sessions that break one are refused with a 422 naming the rule, and change
nothing; holidays have no slot sessions; the builder ends a session at the longest allowed; an
emergency may break the rules, is marked so, and the audit says which rule; bad rules are 4xx and
change nothing; relays are http(s) URLs. The station's zone is Asia/Ho_Chi_Minh (UTC+7)."""
import datetime
import time

from schedkit import Server, Station, check, rfc3339, wait_for

ICT = datetime.timezone(datetime.timedelta(hours=7))


def local_noon(days_ahead):
    """Unix seconds of local noon `days_ahead` days from today, and that date."""
    d = datetime.datetime.now(ICT).date() + datetime.timedelta(days=days_ahead)
    noon = datetime.datetime(d.year, d.month, d.day, 12, 0, tzinfo=ICT)
    return int(noon.timestamp()), d


def at(day_noon, hhmm):
    """Unix seconds of local time hhmm on the day of day_noon."""
    h, m = map(int, hhmm.split(":"))
    return day_noon - 12 * 3600 + h * 3600 + m * 60


def refused(r, words):
    check(r.status == 422, r)
    msg = r.json()["error"]["message"] if isinstance(r.json().get("error"), dict) else str(r.json())
    check(words in msg, "expected %r in %r" % (words, msg))
    return msg


def main():
    with Server(config="[schedules]\nhold_s = 2\n") as srv:
        srv.start()
        st = Station(srv)
        op = st.operator
        st.commune("dong-son", [])
        st.commune("tan-an", [])
        st.commune("quang-an", [])
        audit = lambda: len(srv.get("/api/v1/audit?limit=1000", st.admin).json()["audit"])  # noqa

        # ---- defaults: none at first; set and read back ----
        r = srv.get("/api/v1/rules", op)
        check(r.status == 200 and r.json() == {}, r)
        noon2, d2 = local_noon(2)
        holiday = d2.isoformat()
        defaults = {"max_session_minutes": 45, "quiet": [{"from": "22:00", "to": "05:00"}],
                    "holidays": [holiday]}
        r = srv.request("PUT", "/api/v1/rules", defaults, op)
        check(r.status == 200 and r.json() == defaults, r)
        check(srv.get("/api/v1/rules", st.editor).status == 403, "an editor may not read rules")
        r = srv.get("/api/v1/communes/tan-an/rules", op)
        check(r.status == 200 and r.json() == dict(defaults, inherited=True), r)

        # ---- slots against the defaults ----
        slots = "/api/v1/communes/tan-an/slots"
        n = audit()
        msg = refused(srv.request("PUT", slots, [{"start": "21:45", "minutes": 30}], op),
                      "quiet hours 22:00–05:00 (quiet)")
        print("slot in the quiet hours:", msg)
        msg = refused(srv.request("PUT", slots, [{"start": "06:00", "minutes": 60}], op),
                      "at most 45 minutes (max_session_minutes)")
        print("slot too long:", msg)
        check(srv.get(slots, op).json()["slots"] == [] and audit() == n, "refusals changed nothing")
        r = srv.request("PUT", slots, [{"start": "06:00", "minutes": 30}], op)
        check(r.status == 200, r)

        # ---- holidays: no slot sessions that day; the next day has its slot ----
        p = st.programme("tan-an", holiday)
        check([x for x in p["sessions"] if x["kind"] == "slot"] == [], p)
        p = st.programme("tan-an", (d2 + datetime.timedelta(days=1)).isoformat())
        check(len([x for x in p["sessions"] if x["kind"] == "slot"]) == 1, p)

        # ---- a commune's own rules replace the defaults; slots that break them are named ----
        own = {"windows": [{"days": [1, 2, 3, 4, 5], "from": "05:30", "to": "06:30"},
                           {"days": [1, 2, 3, 4, 5], "from": "16:30", "to": "18:00"}],
               "max_sessions_per_day": 2, "max_day_minutes": 60}
        msg = refused(srv.request("PUT", "/api/v1/communes/tan-an/rules", own, op),
                      "commune tan-an: slot 0 (06:00, 30 min) on Sat")
        print("rules that the slots break:", msg)
        check(srv.get("/api/v1/communes/tan-an/rules", op).json()["inherited"] is True, "unchanged")
        r = srv.request("PUT", slots, [{"start": "06:00", "minutes": 30,
                                        "days": ["mon", "tue", "wed", "thu", "fri"]}], op)
        check(r.status == 200, r)
        r = srv.request("PUT", "/api/v1/communes/tan-an/rules", own, op)
        check(r.status == 200 and r.json()["inherited"] is False, r)
        check(r.json()["max_day_minutes"] == 60 and "quiet" not in r.json(), r)

        # ---- ad-hoc sessions against the commune's rules (a weekday at least 2 days ahead) ----
        day = 2
        while True:
            noon, d = local_noon(day)
            if d.isoweekday() <= 5:
                break
            day += 1
        sessions = "/api/v1/communes/tan-an/sessions"
        before = st.programme("tan-an", d.isoformat())
        n = audit()
        msg = refused(srv.post(sessions, {"start": rfc3339(at(noon, "12:00"), 420), "minutes": 10},
                               op), "outside the allowed windows (windows)")
        print("session outside the windows:", msg)
        r = srv.post(sessions, {"start": rfc3339(at(noon, "16:30"), 420), "minutes": 20}, op)
        check(r.status == 201, r)
        msg = refused(srv.post(sessions, {"start": rfc3339(at(noon, "17:00"), 420), "minutes": 20},
                               op), "at most 2 sessions a day (max_sessions_per_day)")
        print("a third session:", msg)
        r = srv.request("PUT", "/api/v1/communes/tan-an/rules", dict(own, max_sessions_per_day=3), op)
        check(r.status == 200, r)
        msg = refused(srv.post(sessions, {"start": rfc3339(at(noon, "17:00"), 420), "minutes": 20},
                               op), "at most 60 minutes of sessions a day (max_day_minutes)")
        print("too many minutes:", msg)
        after = st.programme("tan-an", d.isoformat())
        check(len(after["sessions"]) == len(before["sessions"]) + 1 and audit() == n + 2,
              "only the accepted session and the rules change were written")

        # ---- back to the defaults ----
        r = srv.request("PUT", "/api/v1/communes/tan-an/rules", {"inherited": True}, op)
        check(r.status == 200 and r.json() == dict(defaults, inherited=True), r)

        # ---- the builder ends a session at the longest allowed ----
        s60 = st.session("dong-son", at(noon2 + 86400, "10:00"), 40)
        check(s60["minutes"] == 40, s60)
        r = srv.request("PUT", "/api/v1/communes/dong-son/rules", {"max_session_minutes": 20}, op)
        check(r.status == 200, r)
        x = st.find_session("dong-son", s60["id"], (d2 + datetime.timedelta(days=1)).isoformat())
        check(x is not None and x["minutes"] == 20, "the session now ends after 20 min: %r" % x)
        print("a planned 40-minute session under max_session_minutes 20 lasts", x["minutes"], "min")
        # ---- bad rules: 4xx, nothing changes ----
        n = audit()
        for body, status in [
                ({"quiet": [{"from": "25:00", "to": "05:00"}]}, 422),
                ({"quiet": [{"from": "22:00"}]}, 400),
                ({"windows": [{"days": [0], "from": "05:00", "to": "06:00"}]}, 422),
                ({"windows": [{"days": [], "from": "05:00", "to": "06:00"}]}, 400),
                ({"max_session_minutes": 0}, 422),
                ({"max_day_minutes": "60"}, 400),
                ({"holidays": ["2027-13-01"]}, 422),
                ({"nightly": True}, 400),
                ({"quiet": [{"from": "05:00", "to": "05:00"}]}, 422),
                ([1, 2], 400)]:
            r = srv.request("PUT", "/api/v1/rules", body, op)
            check(r.status == status, (body, r))
        r = srv.request("PUT", "/api/v1/rules", b"{not json", op)
        check(r.status == 400, r)
        r = srv.request("PUT", "/api/v1/communes/nowhere/rules", defaults, op)
        check(r.status == 404, r)
        r = srv.request("PUT", "/api/v1/communes/tan-an/rules", {"inherited": True, "quiet": []}, op)
        check(r.status == 400, r)
        check(srv.get("/api/v1/rules", op).json() == defaults and audit() == n,
              "bad rules changed nothing")

        # ---- relays: http(s) only; a relay session's programme is the upstream ----
        for url in ("ftp://vov.vn/live", "vov1", "http://", "http://a b/c", 7):
            r = srv.post("/api/v1/communes/quang-an/sessions",
                         {"start": rfc3339(at(noon2 + 86400, "09:00"), 420), "minutes": 10,
                          "relay": url}, op)
            check(r.status in (400, 422), (url, r))
        url = "http://127.0.0.1:9/vov1.mp3"
        r = srv.post("/api/v1/communes/quang-an/sessions",
                     {"start": rfc3339(at(noon2 + 86400, "09:00"), 420), "minutes": 10,
                      "relay": url}, op)
        check(r.status == 201 and r.json()["relay"] == url, r)
        check(r.json()["items"] == [{"bulletin": 0, "title": "Tiếp sóng", "relay": url,
                                     "offset_s": 0.0, "duration_s": 600.0}], r.json())
        r = srv.request("PUT", "/api/v1/communes/quang-an/slots",
                        [{"start": "11:00", "minutes": 15, "relay": "https://radio.example/vov2"}],
                        op)
        check(r.status == 200 and r.json()["slots"][0]["relay"] == "https://radio.example/vov2", r)
        r = srv.request("PUT", "/api/v1/communes/quang-an/slots",
                        [{"start": "11:00", "minutes": 15, "relay": "gopher://x"}], op)
        check(r.status == 422, r)

        # ---- an emergency may break the rules: marked, and audited with the rule ----
        now = datetime.datetime.now(ICT)
        frm = (now - datetime.timedelta(hours=1)).strftime("%H:%M")
        to = (now + datetime.timedelta(hours=1)).strftime("%H:%M")
        r = srv.request("PUT", "/api/v1/communes/quang-an/rules",
                        {"quiet": [{"from": frm, "to": to}]}, op)
        check(r.status == 200, r)
        r = srv.post("/api/v1/emergency", {"text": "Bão số ba sắp đổ bộ.", "communes": ["quang-an"]},
                     st.approver)
        check(r.status == 201, r)
        sid = r.json()["sessions"][0]["session"]
        x = wait_for(lambda: st.find_session("quang-an", sid), 10, "the emergency session")
        check("quiet hours" in x.get("rule_broken", ""), x)
        entries = srv.get("/api/v1/audit?limit=1000", st.admin).json()["audit"]
        hit = [e for e in entries if e["action"] == "emergency_rule_break"]
        check(len(hit) == 1 and "quiet" in str(hit[0]) and hit[0]["target"] == str(sid), hit)
        print("emergency in the quiet hours: on air, marked:", x["rule_broken"])
        print("ok")


if __name__ == "__main__":
    main()
