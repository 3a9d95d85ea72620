"""What receivers that store played (issue 16, points 4 and 5; SPEC "Receivers that store").

A 10 s bulletin airs in a session; k1 listens live to the end (reached by what it was sent), k2
leaves the live stream after 0.5 s (sent too little: not reached) and then reports that it played
the bulletin from its cache:
- POST /api/v1/receivers/k2/plays answers {"acked":[ids]}; the same id again is acked and kept
  once (at least once, deduplicated); GET /api/v1/plays lists it (JSON and CSV);
- bad input is refused with a clear 4xx and stores nothing — one bad play in a batch of good
  ones, played_s longer than start..end, a bad hash, a bad source, an unknown field, no plays,
  another cluster's token;
- GET /api/v1/deliveries: k1 basis "sent", reached; k2 basis "played", played_s 10, reached;
  coverage counts 2 of 2 clusters reached (1 of 2 before k2's report);
- a status report with the SPEC's fields is kept and shown (GET /api/v1/clusters/k2), a bad
  next_session is refused."""
import datetime

import streamkit as K
from streamkit import check


def iso_ms(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="milliseconds")


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 2, [(10, 500)])
        (k1, t1), (k2, t2) = st.clusters
        bid = st.bulletins[0]
        media = s.get("/api/v1/bulletins/%d" % bid, st.admin).json()["media_hash"]
        start, sess = st.session(1)
        sid = sess["id"]
        r1 = K.Receiver(s.port, st.url(0)[0], t1)
        r2 = K.Receiver(s.port, st.url(1)[0], t2, stop_after=0.5)
        r1.start()
        K.wait_for(lambda: r1.status == 200 or len(r1.raw) > 0 or r1.connected_at, 10, "k1 connected")
        K.sleep_until(start, "the session's start, for k2 to join on air")
        r2.start()
        K.wait_for(lambda: not r1.is_alive() and not r2.is_alive(), 60, "the session's streams to end")
        day = sess["start"][:10]

        def deliveries():
            rows = s.get("/api/v1/deliveries?date=%s&commune=%s" % (day, st.commune), st.admin).json()
            return {d["cluster"]: d for d in rows["deliveries"] if d["session"] == sid}

        def coverage():
            r = s.get("/api/v1/coverage?from=%s&to=%s&commune=%s" % (day, day, st.commune), st.admin)
            return [x for x in r.json()["sessions"] if x["session"] == sid][0]
        K.wait_for(lambda: len(deliveries()) == 2 and deliveries()[k1]["reached"], 30, "both rows")
        d = deliveries()
        check(d[k1]["basis"] == "sent" and d[k2]["basis"] == "sent" and not d[k2]["reached"], d)
        check(coverage()["clusters_reached"] == 1, coverage())

        path = "/api/v1/receivers/%s/plays" % k2
        good = {"id": "k2-p1", "session": sid, "bulletin": bid, "hash": media,
                "start": iso_ms(start + 0.2), "end": iso_ms(start + 10.25), "played_s": 10.0,
                "underruns": 0, "source": "cache"}

        def count():
            return len(s.get("/api/v1/plays?cluster=%s&from=%s&to=%s" % (k2, day, day), st.admin)
                       .json()["plays"])
        # bad input: a clear 4xx, nothing stored
        bad = [
            ({"plays": [good, dict(good, id="k2-x", played_s=30.0)]}, 422, "longer"),
            ({"plays": [dict(good, hash="abc")]}, 422, "hash"),
            ({"plays": [dict(good, bulletin=0)]}, 422, "relay"),        # a relay's play has no hash
            ({"plays": [dict(good, bulletin=0, hash="")]}, 422, "relay"),   # ... and is live
            ({"plays": [dict(good, hash="")]}, 422, "hash"),
            ({"plays": [dict(good, source="radio")]}, 422, "source"),
            ({"plays": [dict(good, end=iso_ms(start - 5))]}, 422, "before"),
            ({"plays": [dict(good, extra=1)]}, 400, "unknown"),
            ({"plays": []}, 422, "1.."),
            ({"plays": [dict(good, session="one")]}, 400, "session"),
        ]
        for body, status, word in bad:
            r = s.post(path, body, t2)
            check(r.status == status and word in r.json()["message"], (body, r))
        check(s.post(path, {"plays": [good]}, t1).status == 401, "k1's token for k2")
        check(s.post(path, {"plays": [good]}).status == 401, "no token")
        check(count() == 0, "nothing stored by refused reports")

        r = s.post(path, {"plays": [good]}, t2)
        check(r.status == 200 and r.json() == {"acked": ["k2-p1"]}, r)
        r = s.post(path, {"plays": [good]}, t2)
        check(r.status == 200 and r.json() == {"acked": ["k2-p1"]}, "acked again")
        rows = s.get("/api/v1/plays?session=%d" % sid, st.admin).json()["plays"]
        check(len(rows) == 1 and rows[0]["id"] == "k2-p1" and rows[0]["cluster"] == k2, rows)
        check(rows[0]["played_s"] == 10.0 and rows[0]["source"] == "cache" and rows[0]["hash"] == media, rows)
        check(rows[0]["start"].endswith(good["start"][19:23] + "+07:00") or "." in rows[0]["start"], rows)
        csv = s.get("/api/v1/plays?session=%d&format=csv" % sid, st.admin).body.decode("utf-8-sig")
        check(csv.splitlines()[0].startswith("cluster,cluster_name,commune,commune_name,id,session") and "k2-p1" in csv, csv)
        check(s.get("/api/v1/plays?session=x", st.admin).status == 400, "bad session query")
        check(s.get("/api/v1/plays", st.editor).status == 403, "editors do not read plays")

        d = deliveries()
        check(d[k2]["basis"] == "played" and d[k2]["played_s"] == 10.0 and d[k2]["reached"], d[k2])
        check(d[k1]["basis"] == "sent" and d[k1]["reached"], d[k1])
        check(coverage()["clusters_reached"] == 2, coverage())

        # the status report of receivers that store
        rep = {"version": "loacast-receiver 0.1", "uptime_s": 3600, "clock_offset_ms": -12.5,
               "rtt_ms": 180, "cache_bytes": 123456, "disk_free_bytes": 987654321,
               "next_session": {"id": sid, "fetched_percent": 100}, "volume": 40, "muted": False,
               "signal": -71, "last_error": "none"}
        check(s.post("/api/v1/receivers/%s/status" % k2, rep, t2).status == 204, "status")
        c = s.get("/api/v1/clusters/%s" % k2, st.admin).json()
        check(c["status"] == rep and c["status_at"], c)
        r = s.post("/api/v1/receivers/%s/status" % k2, dict(rep, next_session={"fetched_percent": 101}), t2)
        check(r.status == 422, r)
        r = s.post("/api/v1/receivers/%s/status" % k2, dict(rep, next_session=5), t2)
        check(r.status == 400, r)
        r = s.post("/api/v1/receivers/%s/status" % k2, dict(rep, version=7), t2)
        check(r.status == 400, r)
        check(s.get("/api/v1/clusters/%s" % k2, st.admin).json()["status"] == rep,
              "a refused report stores nothing")
    print("ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
