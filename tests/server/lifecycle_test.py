"""A bulletin's whole life with an editor and an approver: text → rendering → pending (audio
plays, Range works) → approved; reject with a reason; withdraw; a recorded upload; nobody
approves their own; every status change in the audit log; clean shutdown (exit 0)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import Server, check, decodes, ffprobe, wav_bytes  # noqa: E402

TEXT = ("UBND xã Quảng Phú thông báo: từ ngày 5/12/2026, trạm y tế tổ chức tiêm chủng "
        "cho trẻ em dưới 5 tuổi, từ 7 giờ 30 đến 11 giờ.")


def main():
    with Server() as s:
        s.start()
        admin = s.admin()
        editor = s.make_user(admin, "eva", "editor")
        approver = s.make_user(admin, "anh", "approver")
        r = s.post("/api/v1/communes", {"id": "quang-phu", "name": "Quảng Phú", "population": 12000}, admin)
        check(r.status == 201, r)
        r = s.post("/api/v1/communes", {"id": "quang-an", "name": "Quảng An", "population": 9000}, admin)
        check(r.status == 201, r)

        # text → 202 rendering → pending
        r = s.post("/api/v1/bulletins", {"title": "Tiêm chủng", "text": TEXT, "communes": ["quang-phu"],
                                         "priority": "high", "repeat": 2}, editor)
        check(r.status == 202, r)
        b = r.json()
        check(b["status"] == "rendering" and isinstance(b["id"], int), b)
        bid = b["id"]
        b = s.wait_status(editor, bid, ("pending", "failed"))
        check(b["status"] == "pending", b)
        check(b["duration_s"] > 1.0 and b["created_by"] == "eva" and b["approved_by"] is None, b)
        check(b["communes"] == ["quang-phu"] and b["priority"] == "high" and b["voice"] == "vi", b)

        # the audio plays
        r = s.get("/api/v1/bulletins/%d/audio" % bid, editor)
        check(r.status == 200 and r.headers["content-type"] == "audio/ogg", r)
        check(r.headers.get("accept-ranges") == "bytes", r.headers)
        path = os.path.join(s.tmp, "b.opus")
        with open(path, "wb") as f:
            f.write(r.body)
        codec, dur = ffprobe(path)
        check(codec == "opus", codec)
        check(abs(dur - b["duration_s"]) < 0.25, (dur, b["duration_s"]))
        check(decodes(path), "ffmpeg fails to decode the preview")
        whole = r.body
        # Range requests (a browser seeking)
        r = s.get("/api/v1/bulletins/%d/audio" % bid, editor, headers={"Range": "bytes=0-99"})
        check(r.status == 206 and r.body == whole[:100], r)
        check(r.headers["content-range"] == "bytes 0-99/%d" % len(whole), r.headers)
        r = s.get("/api/v1/bulletins/%d/audio" % bid, editor, headers={"Range": "bytes=-10"})
        check(r.status == 206 and r.body == whole[-10:], r)
        r = s.get("/api/v1/bulletins/%d/audio" % bid, editor, headers={"Range": "bytes=100-"})
        check(r.status == 206 and r.body == whole[100:], r)
        r = s.get("/api/v1/bulletins/%d/audio" % bid, editor, headers={"Range": "bytes=%d-" % len(whole)})
        check(r.status == 416, r)
        check(r.headers.get("content-range") == "bytes */%d" % len(whole), r.headers)
        # the ETag is the content hash: a browser that has the file gets 304 without a read
        etag = r.headers.get("etag") or s.get("/api/v1/bulletins/%d/audio" % bid, editor).headers["etag"]
        r = s.get("/api/v1/bulletins/%d/audio" % bid, editor, headers={"If-None-Match": etag})
        check(r.status == 304 and r.body == b"", r)

        # nobody approves their own: the admin writes one and may not approve it
        r = s.post("/api/v1/bulletins", {"title": "Của admin", "text": "Xin chào bà con.",
                                         "communes": ["*"]}, admin)
        check(r.status == 202, r)
        own = r.json()["id"]
        s.wait_status(admin, own, ("pending",))
        r = s.approve(own, admin)
        check(r.status == 403, r)
        check(s.get("/api/v1/bulletins/%d" % own, admin).json()["status"] == "pending", "changed")

        # approve
        r = s.approve(bid, approver)
        check(r.status == 200, r)
        b = r.json()
        check(b["status"] == "approved" and b["approved_by"] == "anh" and b["approved_at"], b)
        r = s.approve(bid, approver)
        check(r.status == 409, r)
        r = s.post("/api/v1/bulletins/%d/reject" % bid, {"reason": "late"}, approver)
        check(r.status == 409, r)
        r = s.get("/api/v1/bulletins?status=approved", editor)
        check([x["id"] for x in r.json()["bulletins"]] == [bid], r)

        # reject needs a reason
        r = s.post("/api/v1/bulletins", {"title": "Họp thôn", "text": "Họp thôn lúc 19 giờ.",
                                         "communes": ["quang-an"]}, editor)
        rej = r.json()["id"]
        s.wait_status(editor, rej, ("pending",))
        r = s.post("/api/v1/bulletins/%d/reject" % rej, {}, approver)
        check(r.status == 400, r)
        r = s.post("/api/v1/bulletins/%d/reject" % rej, {"reason": "Sai giờ họp"}, approver)
        check(r.status == 200 and r.json()["status"] == "rejected" and r.json()["reason"] == "Sai giờ họp", r)

        # withdraw (by its author), also straight from `rendering`
        r = s.post("/api/v1/bulletins", {"title": "Rút", "text": "Thông báo sẽ rút lại.",
                                         "communes": ["quang-an"]}, editor)
        wd = r.json()["id"]
        r = s.post("/api/v1/bulletins/%d/withdraw" % wd, None, editor)
        check(r.status == 200 and r.json()["status"] == "withdrawn", r)
        r = s.approve(wd, approver)
        check(r.status == 409, r)

        # text with nothing to speak fails with the renderer's message; a recording then fixes it
        r = s.post("/api/v1/bulletins", {"title": "Trống", "text": "!!! ... ---", "communes": ["*"]}, editor)
        check(r.status == 202, r)
        fl = r.json()["id"]
        b = s.wait_status(editor, fl, ("pending", "failed"))
        check(b["status"] == "failed" and b["error"] and b["audio"] is None, b)
        check(s.approve(fl, approver).status == 409, "approved a failure")
        check(s.get("/api/v1/bulletins/%d/audio" % fl, editor).status == 404, "audio of a failure")
        r = s.request("PUT", "/api/v1/bulletins/%d/audio" % fl, wav_bytes(0.5), editor)
        check(r.status == 200 and r.json()["status"] == "pending" and r.json()["error"] is None, r)

        # a recorded bulletin: draft → PUT audio → pending, plays
        r = s.post("/api/v1/bulletins", {"title": "Ghi âm", "communes": ["quang-phu", "quang-an"]}, editor)
        check(r.status == 201 and r.json()["status"] == "draft", r)
        rec = r.json()["id"]
        r = s.request("PUT", "/api/v1/bulletins/%d/audio" % rec, wav_bytes(1.5), editor,
                      headers={"Content-Type": "audio/wav"})
        check(r.status == 200, r)
        b = r.json()
        check(b["status"] == "pending" and b["kind"] == "audio" and abs(b["duration_s"] - 1.5) < 0.1, b)
        r = s.get("/api/v1/bulletins/%d/audio" % rec, approver)
        path = os.path.join(s.tmp, "rec.opus")
        with open(path, "wb") as f:
            f.write(r.body)
        check(ffprobe(path)[0] == "opus" and decodes(path), "upload does not play")
        heard = r.headers["etag"].strip('"')
        check(heard == b["audio_hash"], (heard, b["audio_hash"]))
        # approval binds what was heard: the author replaces the recording after the preview,
        # the approver's click on what they heard is refused (before: the new audio was approved)
        r = s.request("PUT", "/api/v1/bulletins/%d/audio" % rec, wav_bytes(2.5, 16000, 660), editor,
                      headers={"Content-Type": "audio/wav"})
        check(r.status == 200 and r.json()["audio_hash"] != heard, r)
        r = s.approve(rec, approver, heard=heard)
        check(r.status == 409 and r.json()["error"] == "audio_changed", r)
        check(s.get("/api/v1/bulletins/%d" % rec, approver).json()["status"] == "pending", "changed")
        r = s.post("/api/v1/bulletins/%d/approve" % rec, None, approver)
        check(r.status == 400, r)   # what was heard must be said
        r = s.approve(rec, approver)  # heard again: the current audio
        check(r.status == 200, r)

        # nobody approves audio they supplied: an admin uploads into an editor's bulletin and may
        # not approve it alone; an approver may
        r = s.post("/api/v1/bulletins", {"title": "Ghi âm 2", "communes": ["quang-phu"]}, editor)
        up = r.json()["id"]
        r = s.request("PUT", "/api/v1/bulletins/%d/audio" % up, wav_bytes(1.0), admin,
                      headers={"Content-Type": "audio/wav"})
        check(r.status == 200, r)
        r = s.approve(up, admin)
        check(r.status == 403 and "supplied" in r.json()["message"], r)
        check(s.approve(up, approver).status == 200, "an approver may approve the admin's upload")

        # the audit log tells who did what
        r = s.get("/api/v1/audit?limit=1000", admin)
        check(r.status == 200, r)
        entries = r.json()["audit"]
        seen = {(e["action"], e["actor"], e["target"]) for e in entries}
        want = [("login", "eva", "eva"), ("user_create", "admin", "eva"), ("user_create", "admin", "anh"),
                ("commune_create", "admin", "quang-phu"), ("bulletin_create", "eva", str(bid)),
                ("bulletin_rendered", "system", str(bid)), ("bulletin_approve", "anh", str(bid)),
                ("bulletin_reject", "anh", str(rej)), ("bulletin_withdraw", "eva", str(wd)),
                ("bulletin_audio", "eva", str(rec)), ("bulletin_approve", "anh", str(rec)),
                ("bulletin_failed", "system", str(fl))]
        for w in want:
            check(w in seen, "audit lacks %r" % (w,))
        check(all(e["at"] and e["id"] for e in entries), entries[:3])
        r = s.get("/api/v1/audit?action=bulletin_reject", admin)
        check([e["detail"]["reason"] for e in r.json()["audit"]] == ["Sai giờ họp"], r)

        m = s.get("/metrics").body.decode()
        check('loacast_renders_total{result="ok"}' in m and "loacast_render_queue 0" in m, m)
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
