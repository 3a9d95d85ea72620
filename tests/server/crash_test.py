"""kill -9 right after a bulletin was accepted and approved: after a restart it is there,
approved, and its audio plays. A bulletin accepted (202) but still rendering at the kill is
rendered after the restart."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import Server, check, decodes, ffprobe  # noqa: E402


def main():
    with Server() as s:
        s.start()
        admin = s.admin()
        editor = s.make_user(admin, "eva", "editor")
        approver = s.make_user(admin, "anh", "approver")
        check(s.post("/api/v1/communes", {"id": "quang-phu", "name": "Quảng Phú"}, admin).status == 201, "")
        r = s.post("/api/v1/bulletins", {"title": "Lũ", "text": "Bà con chú ý: nước sông đang lên.",
                                         "communes": ["quang-phu"]}, editor)
        bid = r.json()["id"]
        s.wait_status(editor, bid, ("pending",))
        r = s.approve(bid, approver)
        check(r.status == 200, r)
        r = s.post("/api/v1/bulletins", {"title": "Sau", "text": "Thông báo thứ hai, dài hơn một chút. " * 20,
                                         "communes": ["*"]}, editor)
        check(r.status == 202, r)
        later = r.json()["id"]
        s.kill9()

        s.start()
        admin = s.admin()
        b = s.get("/api/v1/bulletins/%d" % bid, admin).json()
        check(b["status"] == "approved" and b["approved_by"] == "anh", b)
        r = s.get("/api/v1/bulletins/%d/audio" % bid, admin)
        check(r.status == 200, r)
        path = os.path.join(s.tmp, "after.opus")
        with open(path, "wb") as f:
            f.write(r.body)
        codec, dur = ffprobe(path)
        check(codec == "opus" and abs(dur - b["duration_s"]) < 0.25 and decodes(path), (codec, dur))
        b2 = s.wait_status(admin, later, ("pending", "failed"))
        check(b2["status"] == "pending", b2)
        audit = [e["action"] for e in s.get("/api/v1/audit?target=%d" % bid, admin).json()["audit"]]
        check("bulletin_approve" in audit and "bulletin_create" in audit, audit)
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
