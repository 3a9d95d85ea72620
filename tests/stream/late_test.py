"""A session whose start has already passed when it is made plays its programme from the top
(issue 14, point 4; docs/schedules.md): created 3 s and 60 s after its start, the receiver gets
the whole 6 s bulletin, and the bulletin counts as aired. Before, the stream started at the
offset now − start: 3.3 s of the bulletin were never sent, and 60 s in the past nothing at all
while the bulletin was marked aired."""
import datetime
import os
import time

import streamkit as K
from streamkit import check


def main():
    for past in (3, 60):
        with K.Server(K.config()) as s:
            s.start()
            st = K.Setup(s, 1, [(6, 400)])
            start = int(time.time()) - past
            iso = datetime.datetime.fromtimestamp(start, datetime.timezone.utc).isoformat()
            r = s.post("/api/v1/communes/%s/sessions" % st.commune, {"start": iso, "minutes": 2},
                       st.admin)
            check(r.status == 201, r)
            path, tok = st.url(0)
            rc = K.Receiver(s.port, path, tok)
            rc.start()
            K.wait_for(lambda: not rc.is_alive(), 30, "the session's stream to end")
            check(rc.status == 200, (past, rc.status, rc.error))
            # what the receiver can play: the decoded 400 Hz tone, in seconds
            pcm = K.decode(rc.save(os.path.join(s.tmp, "late%d.opus" % past)))
            got = sum(t1 - t0 for f, t0, t1 in K.tones(pcm) if f == 400)
            check(got > 5.8, "%d s late: %.2f s of the 6 s bulletin were heard" % (past, got))
            # counted once the session's accounting is final (docs/schedules.md, "repeat")
            K.wait_for(lambda: s.get("/api/v1/bulletins/%d" % st.bulletins[0],
                                     st.admin).json()["aired"] >= 1, 30, "the bulletin counted as aired")
            print("%d s after its start: %.2f s of audio, from the top" % (past, got))
    print("ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
