"""loacast-receiver's fetch side against the real server (issue 17; SPEC "Receivers that
store"): tests/receiver/fetch_tool.c runs the receiver's own code (config, net, schedule,
cache, prefetch, clock, journal, status) once per step; this test sets the server up and checks
what it did with independent means (hashlib, the server's API).

1. A commune, cluster k1, two recorded bulletins, an ad-hoc session in 10 minutes. The tool
   fetches the signed schedule (verified with the pinned key), keeps it on disk and reads it
   back, long-polls (304), prefetches every item: each <hash>.opus in cache_dir/media has the
   schedule's size, its BLAKE2b-256 is its name, and its bytes are GET /media's; no .part left.
   Its plays are acked and listed by GET /api/v1/plays; its status (fetched 100 %) is the
   cluster's.
2. Resume: an item's file replaced by the first half of its bytes as <hash>.part: the next run
   completes it with a Range request (a 206 counted in /metrics) and it checks.
3. A wrong .part (right size, wrong bytes): the hash check deletes it, the retry fetches the
   whole file, and the .opus checks. A .part longer than the file is started over.
4. Offline: the kept schedule is read back without the server (re-verified); changed on disk,
   it is refused.
5. A receiver provisioned with another station key refuses the schedule (and keeps nothing)."""
import base64
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
import streamkit as K  # noqa: E402
from streamkit import check  # noqa: E402

TOOL = sys.argv[1]


def run(conf, *args, ok=True):
    p = subprocess.run([TOOL, conf] + list(args), capture_output=True, timeout=120)
    err = p.stderr.decode("utf-8", "replace")
    if ok:
        check(p.returncode == 0, "fetch_tool failed (%d): %s" % (p.returncode, err))
        return json.loads(p.stdout), err
    return p.returncode, err


def write_conf(path, s, cluster, token, key, cache):
    with open(path, "w") as f:
        f.write("[receiver]\nserver = http://127.0.0.1:%d\ncluster = %s\ntoken = %s\n"
                "station_key = %s\ncache_dir = %s\nsink = null\npoll_wait_s = 1\n"
                % (s.port, cluster, token, key, cache))


def media_requests(s, code):
    for line in s.get("/metrics").body.decode().splitlines():
        if line.startswith('loacast_media_requests_total{code="%s"}' % code):
            return int(float(line.split()[1]))
    return 0


def items_of(out):
    seen = {}
    for se in out["schedule"]["sessions"]:
        for it in se["items"]:
            seen[it["hash"]] = it
    return list(seen.values())


def check_cache(cache, items, bodies):
    media = os.path.join(cache, "media")
    for it in items:
        path = os.path.join(media, it["hash"] + ".opus")
        with open(path, "rb") as f:
            data = f.read()
        check(len(data) == it["bytes"], (path, len(data), it["bytes"]))
        check(hashlib.blake2b(data, digest_size=32).hexdigest() == it["hash"], path)
        check(data == bodies[it["hash"]], "%s: not the bytes GET /media sends" % path)
    left = [n for n in os.listdir(media) if not n.endswith(".opus")]
    check(not left, "files left in the cache: %s" % left)


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 1, [(3, 400), (2, 800)])
        (k1, t1), = st.clusters
        _, sess = st.session(600)
        pk = s.get("/api/v1/station").json()["public_key"]
        cache = os.path.join(s.tmp, "rcv-cache")
        conf = os.path.join(s.tmp, "receiver.ini")
        write_conf(conf, s, k1, t1, pk, cache)

        # 1. schedule, prefetch, plays, status
        out, err = run(conf)
        check(out["kept_version"] == out["schedule"]["version"], out)
        check(out["poll_status"] == 304, out)
        check(abs(out["clock_offset_ms"]) < 1000 and 0 <= out["rtt_ms"] < 1000, out)
        ids = [x["id"] for x in out["schedule"]["sessions"]]
        check(sess["id"] in ids, "the ad-hoc session is in the schedule: %s" % ids)
        adhoc = [x for x in out["schedule"]["sessions"] if x["id"] == sess["id"]][0]
        check([i["bulletin"] for i in adhoc["items"]] == st.bulletins, adhoc)
        check(out["missing"] == 0 and out["errors"] == [], (out["missing"], out["errors"], err))
        check(out["fetched_percent"] == 100, out["fetched_percent"])
        items = items_of(out)
        check(len(items) == 2, items)
        bodies = {}
        for it in items:
            r = s.get("/media/%s.opus" % it["hash"], t1)
            check(r.status == 200, r)
            bodies[it["hash"]] = r.body
            check(it["path"] == os.path.join(cache, "media", it["hash"] + ".opus"), it)
        check_cache(cache, items, bodies)
        check(out["cache_bytes"] == sum(it["bytes"] for it in items), out["cache_bytes"])
        check(out["acked"] == len(out["plays"]) and out["pending"] == 0, out)
        plays = s.get("/api/v1/plays?cluster=%s" % k1, st.admin).json()["plays"]
        check(sorted(p["id"] for p in plays) == sorted(out["plays"]), (plays, out["plays"]))
        check(all(p["source"] == "cache" and p["session"] for p in plays), plays)
        cl = s.get("/api/v1/clusters/%s" % k1, st.admin).json()
        status = cl.get("status")
        if isinstance(status, str):
            status = json.loads(status)
        check(status and status["next_session"]["fetched_percent"] == 100, cl)
        check(status["cache_bytes"] == out["cache_bytes"] and status["volume"] == 100, status)
        with open(os.path.join(cache, "plays.jsonl")) as f:
            check(f.read() == "", "acked plays left in the journal")

        # 2. resume from a half .part
        a, b = items
        media = os.path.join(cache, "media")
        os.unlink(os.path.join(media, a["hash"] + ".opus"))
        with open(os.path.join(media, a["hash"] + ".part"), "wb") as f:
            f.write(bodies[a["hash"]][:a["bytes"] // 2])
        before = media_requests(s, "206")
        out, err = run(conf)
        check(out["missing"] == 0 and out["errors"] == [], (out, err))
        check(media_requests(s, "206") == before + 1, "one Range request resumed the file")
        check_cache(cache, items, bodies)

        # 3. a wrong .part of the right size, and one longer than the file
        os.unlink(os.path.join(media, a["hash"] + ".opus"))
        os.unlink(os.path.join(media, b["hash"] + ".opus"))
        with open(os.path.join(media, a["hash"] + ".part"), "wb") as f:
            f.write(b"\0" * a["bytes"])
        with open(os.path.join(media, b["hash"] + ".part"), "wb") as f:
            f.write(b"x" * (b["bytes"] + 100))
        out, err = run(conf)
        check(out["missing"] == 0, (out, err))
        check(len(out["errors"]) == 1 and "BLAKE2b" in out["errors"][0], out["errors"])
        check_cache(cache, items, bodies)

        # 4. offline: the kept schedule
        off, _ = run(conf, "--offline")
        check(off["kept"]["version"] == out["schedule"]["version"], off)
        kept = os.path.join(cache, "schedule.json")
        with open(kept) as f:
            body = json.load(f)
        payload = base64.b64decode(body["payload"]).replace(b'"volume":100', b'"volume":0')
        body["payload"] = base64.b64encode(payload).decode()
        with open(kept, "w") as f:
            json.dump(body, f)
        rc, err = run(conf, "--offline", ok=False)
        check(rc == 1 and "signature does not verify" in err, err)

        # 5. another station's key
        other = base64.b64encode(os.urandom(32)).decode()
        cache2 = os.path.join(s.tmp, "rcv-cache2")
        conf2 = os.path.join(s.tmp, "receiver2.ini")
        write_conf(conf2, s, k1, t1, other, cache2)
        rc, err = run(conf2, ok=False)
        check(rc == 1 and "signature does not verify with the station key" in err, err)
        check(not os.path.exists(os.path.join(cache2, "schedule.json")), "a refused schedule was kept")
    print("receiver fetch: ok (%d items, %d plays acked)" % (len(items), len(plays)))


if __name__ == "__main__":
    main()
