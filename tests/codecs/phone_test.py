#!/usr/bin/env python3
"""Recordings from phones and browsers (issue 20, point 5): what libsndfile does not read goes
through libavformat/libavcodec (codecs/decode_av.c), for uploads and `loacast render --audio`.

Files made here by ffmpeg: AAC in M4A as a phone writes it (44.1 kHz stereo, the index at the
end), WebM/Opus as Chromium's MediaRecorder writes it (a live WebM: no length in the header), an
MP3. One server with [audio] max_bulletin_s = 1800 takes each; the stored Opus decodes (opusdec,
ffprobe), lasts the input's decoded length within 50 ms, and is at -16 LUFS +/- 1 LU (ffmpeg's
ebur128). Refused, each leaving the bulletin exactly as it was: a truncated M4A and an M4A cut
short after its index (422, damaged), a text file named .m4a (415), an M4A announcing 2 hours
(422 from the header, at once), an HLS playlist naming a WAV on this machine (415: libavformat
never opens what an upload names). `loacast render --audio x.m4a -o y.opus` likewise.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["LOACAST_SOURCE_ROOT"], "tests", "server"))
from lcserver import LOACAST, Server, check  # noqa: E402

CONFIG = """
[audio]
max_bulletin_s = 1800
"""
TARGET_LUFS = -16.0


def ff(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y"] + list(args), check=True)


def decoded_seconds(path):
    """Seconds of audio once decoded (ffmpeg applies pre-skip, priming and end trim)."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar",
                        "48000", "-"], capture_output=True, check=True)
    return len(r.stdout) / 2 / 48000


def lufs(path):
    r = subprocess.run(["ffmpeg", "-nostats", "-hide_banner", "-i", path, "-af", "ebur128", "-f",
                        "null", "-"], capture_output=True, text=True)
    summary = r.stderr[r.stderr.rfind("Summary:"):]
    return float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))


def judge(path, source, what):
    """The rendered Ogg Opus: decodes, its length and loudness."""
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,channels", "-of", "json", path],
        capture_output=True, check=True).stdout)["streams"][0]
    check(probe["codec_name"] == "opus" and probe["channels"] == 1, "%s: %r" % (what, probe))
    wav = path + ".wav"
    r = subprocess.run(["opusdec", "--quiet", path, wav], capture_output=True, text=True)
    check(r.returncode == 0 and os.path.getsize(wav) > 44, "%s: opusdec: %s" % (what, r.stderr))
    got, want = decoded_seconds(path), decoded_seconds(source)
    check(abs(got - want) <= 0.050, "%s: %.3f s rendered, %.3f s recorded" % (what, got, want))
    level = lufs(path)
    check(abs(level - TARGET_LUFS) <= 1.0, "%s: %.1f LUFS" % (what, level))
    return got, level


def make_files(d):
    f = {}
    # speech-like: a tone whose level moves (beeps), on pink noise
    src = "sine=f=330:beep_factor=3:r=%d:d=%s"
    # a phone's voice memo: AAC-LC, 44.1 kHz stereo, the moov index after the data
    f["m4a"] = os.path.join(d, "ghi-am.m4a")
    ff("-f", "lavfi", "-i", src % (44100, "3.0"), "-ac", "2", "-c:a", "aac", "-b:a", "128k",
       f["m4a"])
    # Chromium's MediaRecorder: Opus in a live WebM (no duration, no cues)
    f["webm"] = os.path.join(d, "mic.webm")
    ff("-f", "lavfi", "-i", src % (48000, "2.5"), "-c:a", "libopus", "-b:a", "32k", "-f", "webm",
       "-live", "1", f["webm"])
    f["mp3"] = os.path.join(d, "tin.mp3")
    ff("-f", "lavfi", "-i", src % (22050, "2.0"), "-c:a", "libmp3lame", "-b:a", "64k", f["mp3"])
    with open(f["m4a"], "rb") as fh:
        whole = fh.read()
    f["truncated"] = whole[:len(whole) // 2]  # the index at the end is lost
    # the index first (+faststart), the data cut: the file says 3 s, holds ~1.5 s
    fast = os.path.join(d, "fast.m4a")
    ff("-i", f["m4a"], "-c", "copy", "-movflags", "+faststart", fast)
    with open(fast, "rb") as fh:
        data = fh.read()
    f["cut"] = data[:len(data) // 2]
    f["text"] = "Kính gửi bà con, đây là một tệp văn bản.\n".encode() * 20
    # two hours of silence, small: 10 s of AAC at 8 kHz, copied 720 times
    ten = os.path.join(d, "ten.m4a")
    f["long"] = os.path.join(d, "hai-gio.m4a")
    ff("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "10", "-c:a", "aac", "-b:a", "8k", ten)
    ff("-stream_loop", "719", "-i", ten, "-c", "copy", f["long"])
    # an HLS playlist whose segment is a real recording on this machine: must not be read
    wav = os.path.join(d, "secret.wav")
    ff("-f", "lavfi", "-i", src % (16000, "2.0"), wav)
    f["hls"] = ("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nfile:%s\n"
                "#EXTINF:2.0,\n%s\n#EXT-X-ENDLIST\n" % (wav, wav)).encode()
    return f


def body(f, key):
    v = f[key]
    if isinstance(v, bytes):
        return v
    with open(v, "rb") as fh:
        return fh.read()


def main():
    d = tempfile.mkdtemp(prefix="loacast-phone-")
    try:
        return run(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run(d):
    f = make_files(d)
    with Server(CONFIG) as s:
        s.start()
        admin = s.admin()
        editor = s.make_user(admin, "bien.tap", "editor")

        def upload(bid, key, ctype):
            t0 = time.monotonic()
            r = s.request("PUT", "/api/v1/bulletins/%d/audio" % bid, body(f, key), editor,
                          headers={"Content-Type": ctype})
            return r, time.monotonic() - t0

        def fetch_audio(bid, name):
            r = s.get("/api/v1/bulletins/%d/audio" % bid, editor)
            check(r.status == 200, r)
            path = os.path.join(d, name)
            with open(path, "wb") as fh:
                fh.write(r.body)
            return path

        accepted = {}
        for key, ctype in (("m4a", "audio/mp4"), ("webm", "audio/webm;codecs=opus"),
                           ("mp3", "audio/mpeg")):
            bid = s.post("/api/v1/bulletins", {"title": "Ghi âm " + key, "communes": ["*"]},
                         editor).json()["id"]
            r, dt = upload(bid, key, ctype)
            check(r.status == 200 and r.json()["status"] == "pending", "%s: %r" % (key, r))
            got, level = judge(fetch_audio(bid, key + ".opus"), f[key], key)
            check(abs(r.json()["duration_s"] - got) < 0.05, (key, r.json()["duration_s"], got))
            accepted[key] = (bid, got, level, dt)
            print("ok: %s accepted in %.2f s: %.3f s, %.1f LUFS" % (key, dt, got, level))

        # refused uploads leave the bulletin as it was (pending, the M4A's audio)
        bid = accepted["m4a"][0]
        before = s.get("/api/v1/bulletins/%d" % bid, editor).json()
        for key, ctype, status, words in (
                ("truncated", "audio/mp4", 422, "damaged"),
                ("cut", "audio/x-m4a", 422, "cut short"),
                ("text", "audio/mp4", 415, "not audio"),
                ("long", "audio/mp4", 422, "1800 s"),
                ("hls", "audio/mpeg", 415, "not audio")):
            r, dt = upload(bid, key, ctype)
            msg = r.json().get("message", "") if r.body else ""
            check(r.status == status and words in msg, "%s: %r %s" % (key, r, msg))
            if key == "long":
                check(re.search(r"lasts 72\d\d s", msg) and dt < 3, "2 h: %s in %.2f s" % (msg, dt))
            after = s.get("/api/v1/bulletins/%d" % bid, editor).json()
            check(after == before, "%s changed the bulletin: %r -> %r" % (key, before, after))
            print("ok: %s refused %d in %.2f s: %s" % (key, status, dt, msg))
        check(s.proc.poll() is None, "the server died")

    # the command line: the phone's M4A, and the text file named .m4a
    out = os.path.join(d, "cli.opus")
    r = subprocess.run([LOACAST, "render", "--audio", f["m4a"], "-o", out], capture_output=True,
                       text=True)
    check(r.returncode == 0 and "wrote" in r.stdout, r.stderr)
    got, level = judge(out, f["m4a"], "render --audio x.m4a")
    print("ok: loacast render --audio ghi-am.m4a: %.3f s, %.1f LUFS" % (got, level))
    bad = os.path.join(d, "van-ban.m4a")
    with open(bad, "wb") as fh:
        fh.write(f["text"])
    r = subprocess.run([LOACAST, "render", "--audio", bad, "-o", os.path.join(d, "bad.opus")],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "not audio" in r.stderr and not os.path.exists(
        os.path.join(d, "bad.opus")), (r.returncode, r.stderr))
    print("ok: loacast render --audio van-ban.m4a: exit 1, %s" % r.stderr.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
