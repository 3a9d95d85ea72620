"""A forged, tampered, replayed or expired schedule plays nothing (issue 17; SPEC "Receivers that
store": a receiver trusts nothing the pinned station key did not sign).

A real server; five loacast-receivers behind an HTTP proxy that rewrites the answers of
GET /api/v1/receivers/{c}/schedule, each receiver its own case. Every receiver first accepts a
genuine schedule (without the session below); then the proxy starts rewriting, and a session is
made in a few seconds:
- k1 forged: each answer signed again by another Ed25519 key;
- k2 tampered: one byte of the payload changed ("volume":100 → "volume":400), signature kept;
- k3 expired: signed with the REAL station key (data_dir/station.key), a higher version, but
  expires_at (and issued_at) in the past;
- k4 control: signed with the real key, a higher version, nothing else changed — accepted and
  played (the test's own signing is right, and the session is playable);
- k5 replayed (a commune of its own): it accepts V1, whose session has a bulletin; the bulletin
  is withdrawn and it accepts V2 (without it); then the proxy answers every request with V1.
Checked: k1, k2, k3, k5 play nothing (their WAVs hold no sound, no play is reported) and say why,
in their log and as last_error in their status (GET /api/v1/clusters/{id}); k4 plays every item
from its cache at its time.
"""
import base64
import json
import os
import threading
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import rkit as R
from rkit import K, check

WHY = {
    "k1": "the signature does not verify with the station key",
    "k2": "the signature does not verify with the station key",
    "k3": "the schedule expired at",
    "k5": "is not newer than the one held",
}


def station_private(s):
    """The station's Ed25519 key from data_dir/station.key: a header line, then base64 of
    libsodium's 64-byte secret key (the 32-byte seed first)."""
    with open(os.path.join(s.data, "station.key")) as f:
        head, b64 = f.read().split("\n", 1)
    check(head.startswith("loacast station key v1"), head)
    sk = base64.b64decode(b64.strip())
    check(len(sk) == 64, len(sk))
    return Ed25519PrivateKey.from_private_bytes(sk[:32])


def sign(key, payload_obj):
    payload = json.dumps(payload_obj, separators=(",", ":"), ensure_ascii=False).encode()
    return json.dumps({"payload": base64.b64encode(payload).decode(),
                       "signature": base64.b64encode(key.sign(payload)).decode()}).encode()


def main():
    lock = threading.Lock()
    mode = {}           # cluster → its case, once tampering is on
    answers = {}        # cluster → [(version, body)] of the genuine answers passed on
    served = {}         # cluster → tampered answers served

    def hook(method, path, headers, body):
        if method != "GET" or not path.startswith("/api/v1/receivers/") or "/schedule" not in path:
            return None
        cid = path.split("/")[4]
        with lock:
            m = mode.get(cid)
            if m == "replay":
                served[cid] = served.get(cid, 0) + 1
                return (200, [("Content-Type", "application/json")], answers[cid][0][1])

        def rewrite(status, rh, rb):
            if status != 200:
                return status, rh, rb
            p = json.loads(base64.b64decode(json.loads(rb)["payload"]))
            with lock:
                m = mode.get(cid)
                if m is None:
                    answers.setdefault(cid, []).append((p["version"], rb))
                    return status, rh, rb
                served[cid] = served.get(cid, 0) + 1
            if m == "forged":
                rb = sign(other, p)
            elif m == "tampered":
                o = json.loads(rb)
                raw = base64.b64decode(o["payload"])
                check(b'"volume":100' in raw, raw[:200])
                o["payload"] = base64.b64encode(raw.replace(b'"volume":100', b'"volume":400')).decode()
                rb = json.dumps(o).encode()
            elif m == "expired":
                p["version"] += 1
                p["issued_at"] = R.iso(time.time() - 7200)
                p["expires_at"] = R.iso(time.time() - 60)
                rb = sign(real, p)
            elif m == "control":
                p["version"] += 1
                rb = sign(real, p)
            return status, rh, rb
        return rewrite

    other = Ed25519PrivateKey.generate()
    with K.Server(K.config()) as s, R.HttpProxy(s.port, hook) as proxy, R.Fleet() as fleet:
        s.start()
        real = station_private(s)
        st = K.Setup(s, 4, [(1.5, 400), (1.0, 800)])
        r = s.post("/api/v1/communes", {"id": "quang-tho", "name": "Quảng Thọ"}, st.admin)
        check(r.status == 201, r)
        # as K.Setup does for its commune: one slot 12 hours away, so that no default slot
        # (06:00, 17:00) overlaps the ad-hoc session below, whatever the time of day
        hour = (int(time.time()) // 3600 + 7 + 12) % 24
        r = s.request("PUT", "/api/v1/communes/quang-tho/slots", [{"start": "%02d:00" % hour, "minutes": 60}],
                      st.admin)
        check(r.status == 200, r)
        r = s.post("/api/v1/clusters", {"id": "k5", "commune": "quang-tho", "name": "Cụm 5"}, st.admin)
        check(r.status == 201, r)
        st.clusters.append(("k5", r.json()["token"]))
        bb = R.recorded(st, "Bản tin Quảng Thọ", K.wav_bytes(1.5, 16000, 600), communes=["quang-tho"])
        key = R.station_key(s)
        for cid, tok in st.clusters:
            fleet.add(R.Rx(s, s.tmp, cid, tok, key, port=proxy.port, poll_wait_s=5))
        rx = {r.cid: r.start() for r in fleet.rxs}
        R.wait_for(lambda: all(r.kept() for r in fleet.rxs), 60, lambda: "genuine schedules\n" + fleet.logs(),
                   interval=0.2)

        # k5: V1 with a session that has bb; then bb withdrawn: V2 without it
        start_b = int(time.time()) + 30
        r = s.post("/api/v1/communes/quang-tho/sessions", {"start": R.iso(start_b), "minutes": 1}, st.admin)
        check(r.status == 201, r)
        sid_b = r.json()["id"]

        def k5_has(bid):
            k = rx["k5"].kept()
            return k and any(it.get("bulletin") == bid for x in k["sessions"] if x["id"] == sid_b for it in x["items"])
        R.wait_for(lambda: k5_has(bb), 20, lambda: "k5's schedule with bulletin %d\n%s" % (bb, rx["k5"].log()))
        v1 = rx["k5"].kept()["version"]
        r = s.post("/api/v1/bulletins/%d/withdraw" % bb, {}, st.editor)
        check(r.status == 200, r)
        R.wait_for(lambda: rx["k5"].kept()["version"] > v1 and not k5_has(bb), 20,
                   lambda: "k5's schedule without bulletin %d\n%s" % (bb, rx["k5"].log()))
        with lock:
            answers["k5"] = [a for a in answers["k5"] if a[0] == v1]
            check(answers["k5"], "V1 passed by the proxy")
            mode.update({"k1": "forged", "k2": "tampered", "k3": "expired", "k4": "control", "k5": "replay"})

        start, sess = st.session(6, minutes=1)
        sid = sess["id"]
        items = sess["items"]
        # k4 (control) takes the re-signed schedule with the session; the others refuse theirs
        R.wait_for(lambda: any(x["id"] == sid for x in rx["k4"].kept()["sessions"]), start - time.time() - 1,
                   lambda: "the control receiver's re-signed schedule\n" + rx["k4"].log())

        def refused():
            out = {}
            for cid, why in WHY.items():
                le = R.cluster_status(s, st.admin, cid).get("last_error") or ""
                if why not in le or why not in rx[cid].log() or not served.get(cid):
                    return None
                out[cid] = le
            return out
        errors = R.wait_for(refused, 30, lambda: "every refusal reported: %r %r\n%s" % (
            {c: R.cluster_status(s, st.admin, c).get("last_error") for c in WHY}, served, fleet.logs()), interval=0.2)
        end = max(start + items[-1]["offset_s"] + items[-1]["duration_s"], start_b + 2)
        R.wait_for(lambda: len(R.plays(s, st.admin, session=sid)) == len(items), end - time.time() + 20,
                   lambda: "the control receiver's plays\n" + rx["k4"].log(), interval=0.2)
        K.sleep_until(end + 1, "the sessions' time has passed: nothing may play in them")
        for r in fleet.rxs:
            r.stop()

        got = R.plays(s, st.admin)
        for cid in WHY:
            r = rx[cid]
            pcm = r.pcm()
            loud = sum(1 for v in pcm if abs(v) > 300)
            check(loud == 0, "%s refused its schedule but played %d loud samples: %s" %
                  (cid, loud, R.segments(pcm, r.times())))
            mine = [p for p in got if p["cluster"] == cid]
            check(mine == [], "%s: plays %r" % (cid, mine))
            check(not any(x["id"] == sid for x in r.kept()["sessions"]), "%s kept a refused schedule" % cid)
            print("%s (%s): nothing played; %d refused answer(s); last_error %r" %
                  (cid, {"k1": "forged", "k2": "tampered", "k3": "expired", "k5": "replayed"}[cid], served[cid],
                   errors[cid]))
        r = rx["k4"]
        pcm, times = r.pcm(), r.times()
        mine = sorted([p for p in got if p["cluster"] == "k4"], key=lambda p: p["start"])
        check([p["bulletin"] for p in mine] == st.bulletins and all(p["source"] == "cache" for p in mine), mine)
        for it, h in zip(items, [R.media_hash(s, st, b) for b in st.bulletins]):
            want = start + it["offset_s"]
            heard = R.item_heard(r, pcm, times, want, R.media_onsets(r.media(h)))
            check(heard and abs(heard[0] - want) < 0.020, "k4: bulletin %d at %.3f: %r" % (it["bulletin"], want, heard))
        print("k4 (control, re-signed with the station key): played every item at its time")
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
