"""Decoding and speaking are bounded by [audio] max_bulletin_s (issue 14, point 2; 60 s here):
a recording whose header announces 2 hours (a FLAC of silence: small file, huge audio) is
refused 422 before it is decoded, and the server's memory does not follow the audio's length
(before: an 11.7 MB FLAC of 20 h took the server to 3 GB); a longer WAV is refused the same way;
a text of 2,000 digits (5,000 took 1,303 s of speech before) fails with a clear error, the
bulletin `failed` with its reason, quickly; a text longer than any 60 s bulletin can speak (over
60 × 40 characters) is refused at once (422). The server stays up and still renders a normal bulletin."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import Server, check, rss_kb, wav_bytes  # noqa: E402

CONFIG = """
[audio]
max_bulletin_s = 60
"""


def main():
    with Server(CONFIG) as s:
        s.start()
        admin = s.admin()
        editor = s.make_user(admin, "bien.tap", "editor")
        flac = os.path.join(s.tmp, "silence.flac")
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", flac, "trim", "0", "7200"],
                       check=True)
        check(os.path.getsize(flac) < 16 * 1024 * 1024, os.path.getsize(flac))
        with open(flac, "rb") as f:
            bomb = f.read()
        r = s.post("/api/v1/bulletins", {"title": "Bom", "communes": ["*"]}, editor)
        bid = r.json()["id"]
        before = rss_kb(s.proc.pid)
        t0 = time.monotonic()
        r = s.request("PUT", "/api/v1/bulletins/%d/audio" % bid, bomb, editor,
                      headers={"Content-Type": "audio/flac"})
        dt = time.monotonic() - t0
        grown = rss_kb(s.proc.pid) - before
        check(r.status == 422 and "7200 s" in r.json()["message"] and "60 s" in r.json()["message"], r)
        check(dt < 5 and grown < 50 * 1024, "2 h FLAC: %.1f s, RSS +%d kB" % (dt, grown))
        check(s.get("/api/v1/bulletins/%d" % bid, editor).json()["status"] == "draft", "changed")
        # a WAV of 90 s: refused too (its header says so)
        r = s.request("PUT", "/api/v1/bulletins/%d/audio" % bid, wav_bytes(90.0), editor,
                      headers={"Content-Type": "audio/wav"})
        check(r.status == 422, r)
        # longer than 60 s can hold at the fastest rate: refused before anything is spoken
        r = s.post("/api/v1/bulletins", {"title": "Dài", "text": "a " * 1250, "communes": ["*"]}, editor)
        check(r.status == 422 and "2400" in r.json()["message"], r)
        # 2,000 digits: short enough to be taken, but the speech would be far longer than 60 s
        t0 = time.monotonic()
        r = s.post("/api/v1/bulletins", {"title": "Số", "text": "7" * 2000, "communes": ["*"]}, editor)
        check(r.status == 202, r)
        b = s.wait_status(editor, r.json()["id"], ("failed", "pending"))
        spoken_in = time.monotonic() - t0
        check(b["status"] == "failed" and "shorten it" in (b["error"] or ""), b)
        check(spoken_in < 30, "%.1f s to refuse" % spoken_in)
        # still working: a normal bulletin renders
        r = s.post("/api/v1/bulletins", {"title": "Thường", "text": "Xin chào bà con.", "communes": ["*"]},
                   editor)
        check(s.wait_status(editor, r.json()["id"], ("pending", "failed"))["status"] == "pending", "normal")
        check(s.proc.poll() is None, "the server died")
        print("ok: 2 h FLAC refused in %.2f s (RSS +%d kB); 2,000 digits failed in %.1f s"
              % (dt, grown, spoken_in))
    return 0


if __name__ == "__main__":
    sys.exit(main())
