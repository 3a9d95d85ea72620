"""A producer's programme carried live inside communes' sessions (issue 19, point 2).

Producer node P1 has a channel, commune kenh-p1 (no loudspeakers of its own), whose session airs
two recorded bulletins (400 Hz 3 s, 800 Hz 2 s). Communes xa-a (node C1) and xa-b (node C2), both
below P1, have sessions at the same time with relay "loacast:kenh-p1".

- each carrying commune's cluster (a raw receiver on GET /stream) gets a whole Ogg stream that
  decodes without error and holds the producer's bulletins in order, at their lengths, after
  the relay cushion; the carried session ends with the producer's programme, not at the end of
  its one-minute window;
- one encode: the carriers' sessions open a feed of the producer's packets (the log says
  "carry loacast:kenh-p1: started"), no relay and no encoder (no "relay ...: started");
- both clusters have delivery rows in their own communes' sessions, reached;
- refused with 422, changing nothing: a commune carrying itself, a sibling (not above it), a
  commune that does not exist, a malformed channel; in slots too.
"""
import datetime
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import streamkit as K  # noqa: E402
from streamkit import check  # noqa: E402

TONES = [(3.0, 400), (2.0, 800)]
CHANNEL = "kenh-p1"


def main():
    t_begin = time.time()
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 0, TONES, commune=CHANNEL)
        adm = st.admin

        def post(path, body, status):
            r = s.post(path, body, adm)
            check(r.status == status, (path, body, r))
            return r.json() if r.body else None
        p1 = post("/api/v1/nodes", {"name": "Đài P1"}, 201)["id"]
        c1 = post("/api/v1/nodes", {"name": "Xã A", "parent": p1}, 201)["id"]
        c2 = post("/api/v1/nodes", {"name": "Xã B", "parent": p1}, 201)["id"]
        r = s.request("PATCH", "/api/v1/communes/" + CHANNEL, {"node": p1}, adm)
        check(r.status == 200, r)
        toks = {}
        for cid, node in (("xa-a", c1), ("xa-b", c2)):
            post("/api/v1/communes", {"id": cid, "name": cid, "node": node}, 201)
            check(s.request("PUT", "/api/v1/communes/%s/slots" % cid, [], adm).status == 200, cid)
            toks[cid + "-1"] = post("/api/v1/clusters", {"id": cid + "-1", "commune": cid, "name": cid,
                                                          "population": 100}, 201)["token"]

        # refused: 422 and nothing stored
        start, sess = st.session(7, minutes=1)
        iso = datetime.datetime.fromtimestamp(start, datetime.timezone.utc).isoformat()
        for cid, relay in (("xa-a", "loacast:xa-a"), ("xa-a", "loacast:xa-b"), ("xa-a", "loacast:nowhere"),
                           ("xa-a", "loacast:Not A Slug"), ("xa-a", "loacast:")):
            r = s.post("/api/v1/communes/%s/sessions" % cid, {"start": iso, "minutes": 1, "relay": relay}, adm)
            check(r.status == 422, (relay, r))
            r = s.request("PUT", "/api/v1/communes/%s/slots" % cid,
                          [{"start": "03:00", "minutes": 30, "relay": relay}], adm)
            check(r.status == 422, (relay, r))
        for cid in ("xa-a", "xa-b"):
            check(s.get("/api/v1/communes/%s/slots" % cid, adm).json()["slots"] == [], cid)
            day = datetime.datetime.fromtimestamp(start, datetime.timezone(datetime.timedelta(hours=7)))
            prog = s.get("/api/v1/communes/%s/programme?date=%s" % (cid, day.strftime("%Y-%m-%d")), adm).json()
            check(prog["sessions"] == [], prog)

        # the carriers' sessions, at the producer's time
        sessions = {}
        for cid in ("xa-a", "xa-b"):
            sessions[cid] = post("/api/v1/communes/%s/sessions" % cid,
                                 {"start": iso, "minutes": 1, "relay": "loacast:" + CHANNEL}, 201)["id"]
        K.wait_held(s, 3)   # the producer's and both carriers' streams held: receivers are taken
        rcs = {}
        for k, tok in toks.items():
            rcs[k] = K.Receiver(s.port, "/stream/%s.opus" % k, tok)
            rcs[k].start()
        # the carried item ends with the producer's programme (~7 s), long before the window
        for k, rc in rcs.items():
            rc.join(max(0.1, start + 40 - time.time()))
            check(not rc.is_alive(), "%s: the carried stream did not end with the programme:\n%s" % (k, open(s.err_path, "rb").read().decode("utf-8", "replace")[-5000:]))
        ended = time.time()
        check(ended < start + 25, "the carriers ended %.1f s after the start" % (ended - start))
        for k, rc in rcs.items():
            path = os.path.join(s.tmp, k + ".opus")
            rc.save(path)
            K.check_ogg(rc.body)
            dec = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"],
                                 capture_output=True, text=True)
            check(dec.returncode == 0 and dec.stderr.strip() == "", (k, dec.stderr[-500:]))
            segs = [x for x in K.tones(K.decode(path)) if x[0]]
            check([f for f, _, _ in segs] == [f for _, f in TONES], (k, segs))
            for (f, t0, t1), (sec, _) in zip(segs, TONES):
                check(abs((t1 - t0) - sec) < 0.15, (k, segs))
            lag = segs[0][1]
            check(1.0 < lag < 6.0, "%s: the producer's first bulletin %.2f s into the carried stream" % (k, lag))

        # one encode: feeds, no relay of a URL
        with open(s.err_path, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        check(len(re.findall(r"carry loacast:%s: started" % CHANNEL, log)) == 2, log[-3000:])
        check(not re.search(r"relay \S+: started", log), "an upstream relay was opened:\n" + log[-3000:])
        stopped = re.findall(r"carry loacast:%s: stopped: ([0-9.]+) s carried" % CHANNEL, log)

        # delivery rows in each carrier's own session
        def rows():
            d = K.deliveries(s)
            got = {k: d.get(k) for k in toks}
            return got if all(v and v["disconnected_at"] for v in got.values()) else None
        got = K.wait_for(rows, 20, "the carriers' delivery rows")
        for k, row in got.items():
            cid = k[:-2]
            check(row["session"] == sessions[cid] and row["commune"] == cid, row)
            check(row["reached"] == 1 and row["audio_s"] >= 0.9 * row["programme_s"] > 5.0, row)
        print("ok: %s carried into 2 communes: first bulletin %s s behind, carried %s s each, "
              "rows %s; %.1f s" % (CHANNEL, ["%.2f" % K.tones(K.decode(os.path.join(s.tmp, k + ".opus")))[0][2]
                                              for k in toks], stopped,
                                   {k: round(v["audio_s"], 2) for k, v in got.items()}, time.time() - t_begin))


if __name__ == "__main__":
    main()
