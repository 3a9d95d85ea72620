"""kill -9 of a loacast-receiver in the middle of a download (issue 17: "survives kill -9 and power
loss at any point; a partial file is never played").

A real server; one loacast-receiver behind tests/faults/faultproxy.py throttled to 3G speed
(6 kB/s), a session of one 8 s tone bulletin (~20 kB) 10 s ahead. Once more than half of the
item is on disk as its part file, the receiver is killed with SIGKILL. Checked:
- at the kill, the cache holds only the part file (`<hash>.part`), never `<hash>.opus`;
- restarted (the link now unthrottled), it resumes the download (a Range request: the proxy
  carries less than what was left + 30 %, not the whole item again), the finished file's BLAKE2b
  is the item's hash, and no part file is left;
- the session plays the item whole from the cache (play report: source cache, 8 s within 60 ms,
  no underrun; the WAV holds the 800 Hz tone, 8 s within 60 ms).
"""
import hashlib
import os
import sys
import time

import rkit as R
from rkit import K, check, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
from faultproxy import FaultProxy  # noqa: E402

TONES = [(8.0, 800)]


def main():
    with K.Server(K.config()) as s, FaultProxy(s.port) as proxy, R.Fleet() as fleet:
        s.start()
        st = K.Setup(s, 1, TONES)
        cid, tok = st.clusters[0]
        h = R.media_hash(s, st, st.bulletins[0])
        r = s.get("/media/%s.opus" % h, st.admin)
        check(r.status == 200, r)
        total = len(r.body)
        proxy.throttle(6000)
        rx = fleet.add(R.Rx(s, s.tmp, cid, tok, R.station_key(s), port=proxy.port))
        rx.start()
        start, sess = st.session(10, minutes=1)
        part = os.path.join(rx.cache, "media", h + ".part")

        def half():
            n = os.path.getsize(part) if os.path.exists(part) else 0
            return n if n > total // 2 else None
        got = wait_for(half, 25, lambda: "half of the item downloaded\n" + fleet.logs(), interval=0.05)
        rx.kill9()
        at_kill = os.path.getsize(part)
        check(not rx.holds(h), "a partial download became the media file")
        check(at_kill < total, (at_kill, total))
        print("killed with %d of %d bytes in the part file (%d seen before the kill)" % (at_kill, total, got))

        proxy.throttle(None)
        before = proxy.bytes_down
        rx.start()
        wait_for(lambda: rx.holds(h), 20, lambda: "the download to finish\n" + fleet.logs(), interval=0.05)
        carried = proxy.bytes_down - before
        with open(rx.media(h), "rb") as f:
            check(hashlib.blake2b(f.read(), digest_size=32).hexdigest() == h, "the media's hash")
        check(not os.path.exists(part), "a part file is left")
        left = total - at_kill
        print("after the restart the proxy carried %d bytes (what was left: %d; the item: %d)" %
              (carried, left, total))
        check(carried < left * 1.3 + 4000, "the download began again instead of resuming")

        end = start + 8.0

        def played():
            p = R.plays(s, st.admin, session=sess["id"])
            return p if p else None
        plays = wait_for(played, end - time.time() + 30, lambda: "the play report\n" + fleet.logs(),
                         interval=0.2)
        rx.stop()
        check(len(plays) == 1 and plays[0]["source"] == "cache" and plays[0]["underruns"] == 0, plays)
        check(abs(plays[0]["played_s"] - 8.0) < 0.06, plays)
        pcm, times = rx.pcm(), rx.times()
        i = R.onset(pcm, 0)
        check(i is not None, "nothing heard")
        f, length = R.tone(pcm, i)
        check(abs(f - 800) <= 10 and abs(length - 8.0) < 0.06, (f, length))
        print("played from the cache: %.0f Hz for %.3f s" % (f, length))
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
