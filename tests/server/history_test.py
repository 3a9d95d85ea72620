"""Session ids are never used twice, and what is on air is not deleted (issue 14, point 10, in
part): a commune with a session on air cannot be deleted (409); once deleted, its last session's
id is not given to another commune's next session (before: the id came again, and the new
session's coverage showed the deleted one's delivery rows: 50% reached with no receiver)."""
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import Server, check, wait_for  # noqa: E402


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat()


def main():
    with Server("[schedules]\nhold_s = 2\n") as s:
        s.start()
        admin = s.admin()
        for c in ("xa-a", "xa-b", "xa-c"):
            check(s.post("/api/v1/communes", {"id": c, "name": c}, admin).status == 201, c)
            # no slots: the ad-hoc sessions below never overlap one, whatever the time of day
            check(s.request("PUT", "/api/v1/communes/%s/slots" % c, [], admin).status == 200, c)
        editor = s.make_user(admin, "eva", "editor")
        approver = s.make_user(admin, "anh", "approver")
        text = " ".join(["Xã thông báo lịch tiêm phòng cho gia súc, gia cầm tại nhà văn hoá các thôn."] * 4)
        r = s.post("/api/v1/bulletins", {"title": "T", "text": text, "communes": ["xa-a"]}, editor)
        s.wait_status(editor, r.json()["id"], ("pending",))
        check(s.approve(r.json()["id"], approver).status == 200, "approve")
        # a session of xa-a on air now: its commune is not deleted
        r = s.post("/api/v1/communes/xa-a/sessions", {"start": iso(int(time.time()) + 1),
                                                      "minutes": 1}, admin)
        check(r.status == 201, r)
        sid = r.json()["id"]
        day = r.json()["start"][:10]   # the station's local date of the session

        def on_air():
            ss = s.get("/api/v1/communes/xa-a/programme?date=" + day, admin).json()["sessions"]
            return any(x.get("id") == sid and x.get("status") == "on_air" for x in ss)
        wait_for(on_air, 20, "the session on air")
        r = s.request("DELETE", "/api/v1/communes/xa-a", None, admin)
        check(r.status == 409 and "on air" in r.json()["message"], r)

        # xa-c's session holds the highest id; xa-c goes (its sessions with it); xa-b's next
        # session must not take that id again
        r = s.post("/api/v1/communes/xa-c/sessions", {"start": iso(int(time.time()) + 3600),
                                                      "minutes": 5}, admin)
        check(r.status == 201, r)
        last = r.json()["id"]
        check(s.request("DELETE", "/api/v1/communes/xa-c", None, admin).status == 204, "delete")
        r = s.post("/api/v1/communes/xa-b/sessions", {"start": iso(int(time.time()) + 7200),
                                                      "minutes": 5}, admin)
        check(r.status == 201, r)
        check(r.json()["id"] > last, "session id %d taken again (last was %d)" % (r.json()["id"], last))
        print("ok: on-air commune kept (409); ids %d then %d, never reused" % (last, r.json()["id"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
