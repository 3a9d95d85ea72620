"""Helpers for the schedules integration tests: the real server (tests/server/lcserver.py, imported,
not copied), users of each role, communes without slots, approved bulletins, RFC 3339 times.

Standard library only. Times measured by the server are Unix milliseconds ("aired_at_ms",
"start_ms", "ended_at_ms" in the programme API), so the checks do not depend on the zone."""
import datetime
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from lcserver import LOACAST, Server, check, sleep_until, wait_for  # noqa: E402,F401


def rfc3339(ts, offset_minutes=0):
    """Unix seconds (whole) as RFC 3339 with the given UTC offset."""
    tz = datetime.timezone(datetime.timedelta(minutes=offset_minutes))
    return datetime.datetime.fromtimestamp(int(ts), tz).isoformat()


class Station:
    """A started server with an admin, an editor, an approver and an operator."""

    def __init__(self, server):
        self.s = server
        self.admin = server.admin()
        self.editor = server.make_user(self.admin, "editor1", "editor")
        self.approver = server.make_user(self.admin, "approver1", "approver")
        self.operator = server.make_user(self.admin, "operator1", "operator")
        self.dates = {}     # session id -> the station date of its programme (session())

    def commune(self, cid, slots=()):
        r = self.s.post("/api/v1/communes", {"id": cid, "name": cid.title()}, self.operator)
        check(r.status == 201, r)
        r = self.s.request("PUT", "/api/v1/communes/%s/slots" % cid, list(slots), self.operator)
        check(r.status == 200, r)
        return cid

    def session(self, cid, start_ts, minutes=1):
        r = self.s.post("/api/v1/communes/%s/sessions" % cid,
                        {"start": rfc3339(start_ts, 7 * 60), "minutes": minutes}, self.operator)
        check(r.status == 201, r)
        # the programme that holds it is the one of its start's station date (UTC+7 here), which
        # is not "today" for a session made before midnight that starts after it
        self.dates[r.json()["id"]] = time.strftime("%Y-%m-%d", time.gmtime(start_ts + 7 * 3600))
        return r.json()

    def bulletin(self, text, communes, **kw):
        """An approved text bulletin; returns its object."""
        body = {"title": kw.pop("title", text[:30]), "text": text, "communes": communes}
        body.update(kw)
        r = self.s.post("/api/v1/bulletins", body, self.editor)
        check(r.status == 202, r)
        b = self.s.wait_status(self.editor, r.json()["id"], ("pending", "failed"))
        check(b["status"] == "pending", b)
        r = self.s.approve(b["id"], self.approver)
        check(r.status == 200, r)
        return r.json()

    def programme(self, cid, date=None):
        path = "/api/v1/communes/%s/programme" % cid + ("?date=" + date if date else "")
        r = self.s.get(path, self.operator)
        check(r.status == 200, r)
        return r.json()

    def find_session(self, cid, sid, date=None):
        for x in self.programme(cid, date or self.dates.get(sid))["sessions"]:
            if x["id"] == sid:
                return x
        return None

    def wait_session(self, cid, sid, statuses, timeout=30, date=None):
        seen = [None]

        def status():
            x = seen[0] = self.find_session(cid, sid, date)
            return x if x and x["status"] in statuses else None
        return wait_for(status, timeout, lambda: "session %s of %s to be %s (it is %r)" %
                        (sid, cid, "/".join(statuses), seen[0]), interval=0.05)

    def log_lines(self, pattern):
        """The server's stderr lines matching pattern (a regex)."""
        with open(self.s.err_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        return [m for m in re.finditer(pattern, text)]


def next_second_boundary(ahead):
    """A whole Unix second at least `ahead` seconds from now."""
    return int(time.time() + ahead) + 1
