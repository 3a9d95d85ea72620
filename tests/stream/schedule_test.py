"""Each receiver's signed schedule, with long-poll (issue 16, point 2; SPEC "Receivers that
store"), checked the way a receiver checks it: with the station's public key only (openssl, as an
independent Ed25519 implementation).

1. GET /api/v1/receivers/k1/schedule with k1's token: the payload is signed by the key of
   GET /api/v1/station; a payload changed by one byte fails the check; it names k1, its volume and
   mute, and the sessions ahead (an ad-hoc one, the commune's two daily slots within 36 h), each
   item with its media (/media/<BLAKE2b>.opus), hash, bytes, duration and offset.
2. No token, another cluster's token: 401; an unknown cluster: 404; bad since / wait: 400.
3. since = the current version: 304 at once (wait=0) or after the wait (wait=2).
4. Long-poll: a receiver waiting with since = its version gets the new schedule when a staff
   change touches it (k1's volume set to 40: version grows, volume 40); an emergency reaches a
   waiting receiver within 1 s of POST /api/v1/emergency's answer (a session of kind emergency).
5. Versions only grow and name one content: the same content keeps its version over a restart,
   a change after the restart gets a larger one; an old version (replayed by a client) is
   answered with the current schedule, never with the old one."""
import base64
import json
import os
import subprocess
import threading
import time

import streamkit as K
from streamkit import check

ED25519_SPKI = bytes.fromhex("302a300506032b6570032100")


def fetch(s, path, token=None, timeout=60):
    h = {"Authorization": "Bearer " + token} if token else {}
    return s.get(path, headers=h, timeout=timeout)


def verify(tmp, public_key_b64, payload, signature):
    """True if openssl verifies signature over payload with the station's public key only."""
    pub = os.path.join(tmp, "station.der")
    with open(pub, "wb") as f:
        f.write(ED25519_SPKI + base64.b64decode(public_key_b64))
    with open(os.path.join(tmp, "payload"), "wb") as f:
        f.write(payload)
    with open(os.path.join(tmp, "sig"), "wb") as f:
        f.write(signature)
    p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-keyform", "DER",
                        "-rawin", "-in", os.path.join(tmp, "payload"), "-sigfile",
                        os.path.join(tmp, "sig")], capture_output=True)
    return p.returncode == 0


def waiting(s):
    for line in s.get("/metrics").body.decode().splitlines():
        if line.startswith("loacast_schedule_waiting "):
            return int(line.split()[1])
    return -1


def open_schedule(s, pk, r):
    check(r.status == 200, r)
    body = r.json()
    payload = base64.b64decode(body["payload"])
    sig = base64.b64decode(body["signature"])
    check(verify(s.tmp, pk, payload, sig), "the schedule's signature does not verify")
    return payload, sig, json.loads(payload)


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 2, [(3, 400), (2, 800)])
        (k1, t1), (k2, t2) = st.clusters
        pk = s.get("/api/v1/station").json()["public_key"]
        start, sess = st.session(600)          # an ad-hoc session in 10 minutes
        path = "/api/v1/receivers/%s/schedule" % k1

        # 1. signed, and what it says
        payload, sig, p = open_schedule(s, pk, fetch(s, path, t1))
        forged = payload.replace(b'"volume":100', b'"volume":101')
        check(forged != payload and not verify(s.tmp, pk, forged, sig), "a forged payload verifies")
        check(p["cluster"] == k1 and p["volume"] == 100 and p["muted"] is False, p)
        check(isinstance(p["version"], int) and p["version"] > 0, p)
        check(p["issued_at"] < p["expires_at"], p)
        ids = [x["id"] for x in p["sessions"]]
        check(sess["id"] in ids, "the ad-hoc session is in it: %s" % ids)
        kinds = sorted({x["kind"] for x in p["sessions"]})
        check("slot" in kinds and "adhoc" in kinds, kinds)
        adhoc = [x for x in p["sessions"] if x["id"] == sess["id"]][0]
        check([i["bulletin"] for i in adhoc["items"]] == st.bulletins, adhoc)
        for it in adhoc["items"]:
            check(it["media"] == "/media/%s.opus" % it["hash"] and len(it["hash"]) == 64, it)
            check(it["bytes"] > 0 and it["duration_s"] > 1 and it["offset_s"] >= 0, it)
            b = s.get("/api/v1/bulletins/%d" % it["bulletin"], st.admin).json()
            check(b["media_hash"] == it["hash"] and b["audio_bytes"] == it["bytes"], (b, it))

        # 2. who may ask
        check(fetch(s, path).status == 401, "no token")
        check(fetch(s, path, t2).status == 401, "another cluster's token")
        check(fetch(s, "/api/v1/receivers/nope/schedule", t1).status == 404, "unknown cluster")
        check(fetch(s, path + "?since=abc", t1).status == 400, "bad since")
        check(fetch(s, path + "?since=1&wait=61", t1).status == 400, "wait over 60")

        # 3. nothing new
        v = p["version"]
        check(fetch(s, path + "?since=%d" % v, t1).status == 304, "since = current, no wait")
        t0 = time.monotonic()
        r = fetch(s, path + "?since=%d&wait=2" % v, t1)
        took = time.monotonic() - t0
        check(r.status == 304 and 1.5 <= took <= 4.5, (r.status, took))

        # 4. long-poll: a staff change, then an emergency
        def wait_for_change(since, out):
            t = time.monotonic()
            out["r"] = fetch(s, path + "?since=%d&wait=30" % since, t1, timeout=60)
            out["at"] = time.monotonic()
            out["waited"] = out["at"] - t

        got = {}
        th = threading.Thread(target=wait_for_change, args=(v, got))
        th.start()
        K.wait_for(lambda: waiting(s) == 1, 10, "the long-poll held")
        r = s.request("PATCH", "/api/v1/clusters/%s" % k1, {"volume": 40}, st.admin)
        check(r.status == 200 and r.json()["volume"] == 40, r)
        changed_at = time.monotonic()
        th.join(35)
        _, _, p2 = open_schedule(s, pk, got["r"])
        check(p2["version"] > v and p2["volume"] == 40, (v, p2["version"], p2["volume"]))
        volume_latency = got["at"] - changed_at

        got = {}
        th = threading.Thread(target=wait_for_change, args=(p2["version"], got))
        th.start()
        K.wait_for(lambda: waiting(s) == 1, 10, "the long-poll held")
        sent_at = time.monotonic()
        r = s.post("/api/v1/emergency", {"text": "Khẩn cấp: lũ đang lên, bà con sơ tán ngay.",
                                         "communes": [st.commune]}, st.admin)
        check(r.status == 201, r)
        answered_at = time.monotonic()
        th.join(35)
        _, _, p3 = open_schedule(s, pk, got["r"])
        em = [x for x in p3["sessions"] if x["kind"] == "emergency"]
        check(em and em[0]["items"] and em[0]["items"][0]["hash"], p3)
        emergency_latency = got["at"] - answered_at
        check(emergency_latency < 1.0, "the emergency reached the waiting receiver %.3f s after"
              " its POST was answered" % emergency_latency)

        # 5. versions grow, and persist
        v3 = p3["version"]
        s.stop()
        s.start()
        _, _, p4 = open_schedule(s, pk, fetch(s, path, t1))
        same = {k: p4[k] for k in ("volume", "muted")} == {k: p3[k] for k in ("volume", "muted")}
        if same and [x["id"] for x in p4["sessions"]] == [x["id"] for x in p3["sessions"]]:
            check(p4["version"] == v3, "the same content keeps its version over a restart")
        check(p4["version"] >= v3, "versions never go back")
        r = s.request("PATCH", "/api/v1/clusters/%s" % k1, {"muted": True}, st.admin)
        check(r.status == 200 and r.json()["muted"] is True, r)
        _, _, p5 = open_schedule(s, pk, fetch(s, path + "?since=%d" % v, t1))
        check(p5["version"] > p4["version"] and p5["muted"] is True, "an old version gets the current")
        # the answers race (the waiter's may be read first): both are within a few ms
        print("ok: a volume change reached a waiting receiver %.0f ms after its PATCH was answered;"
              " an emergency %.0f ms after its POST was answered, %.0f ms after it was sent"
              " (the text rendered meanwhile)" % (max(0, volume_latency) * 1000,
                                                  max(0, emergency_latency) * 1000,
                                                  (got["at"] - sent_at) * 1000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
