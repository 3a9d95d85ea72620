"""Coverage from a real session: three clusters of different populations, one connected all along
(held before the start), one that leaves after the first bulletin, one that never connects.
The numbers in /api/v1/deliveries and /api/v1/coverage are the ones computed by hand below; the
CSV answers hold the same content as the JSON; the offline listing follows the threshold (set to
seconds here); clusters reached in none of the last session are flagged."""
import csv
import datetime
import io
import os
import sys
import time
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
import streamkit as K  # noqa: E402
from streamkit import check  # noqa: E402

# b1: 4 s at 0 s, gap 1 s, b2: 4 s at 5 s: a 9 s programme.
TONES = [(4.0, 500), (4.0, 900)]
POP = {"k1": 100, "k2": 250, "k3": 400}


def csv_rows(body):
    text = body.decode("utf-8")
    check(text.startswith("\ufeff"), "CSV without a byte-order mark")
    return list(csv.DictReader(io.StringIO(text[1:])))


def same(json_value, csv_value):
    """One JSON value against its CSV field, as lc_csv_write writes it."""
    if json_value is None:
        return csv_value == ""
    if isinstance(json_value, bool):
        return csv_value == ("true" if json_value else "false")
    if isinstance(json_value, float):
        return abs(float(csv_value) - json_value) < 0.0006
    if isinstance(json_value, list):
        if json_value and isinstance(json_value[0], dict):
            import json
            return json.loads(csv_value) == json_value
        return csv_value == ";".join(str(v) for v in json_value)
    return csv_value == str(json_value)


def check_csv_matches(s, token, path, key):
    j = s.get(path, token).json()[key]
    r = s.get(path + ("&" if "?" in path else "?") + "format=csv", token)
    check(r.status == 200 and r.headers["content-type"].startswith("text/csv"), r)
    rows = csv_rows(r.body)
    check(len(rows) == len(j), "%s: %d CSV rows, %d JSON rows" % (path, len(rows), len(j)))
    for jr, cr in zip(j, rows):
        for k, v in cr.items():
            check(same(jr.get(k), v), "%s: %s: JSON %r, CSV %r" % (path, k, jr.get(k), v))
    # the Accept header works too
    r2 = s.get(path, token, headers={"Accept": "text/csv"})
    check(r2.status == 200 and r2.body == r.body, "Accept: text/csv differs from ?format=csv")


def main():
    cfg = K.config("[coverage]\noffline_after_s = 4\nunreached_sessions = 1\n")
    with K.Server(cfg) as s:
        s.start()
        st = K.Setup(s, 3, TONES)
        b1, b2 = st.bulletins
        for cid, pop in POP.items():
            r = s.request("PATCH", "/api/v1/clusters/" + cid, {"population": pop}, st.admin)
            check(r.status == 200, r)
        operator = s.make_user(st.admin, "oanh", "operator")

        start, sess = st.session(3, minutes=1)
        items = {i["bulletin"]: i for i in sess["items"]}
        check(set(items) == {b1, b2}, sess)
        K.wait_held(s)  # the hold window: the receivers are held until the start
        p1, t1 = st.url(0)
        p2, t2 = st.url(1)
        whole = K.Receiver(s.port, p1, t1)
        # leaves a second after b1 ended, well before b2 ends
        b1_end = items[b1]["offset_s"] + items[b1]["duration_s"]
        half = K.Receiver(s.port, p2, t2, stop_after=start - time.time() + b1_end + 1.0)
        whole.start()
        half.start()
        whole.join(60)
        half.join(60)
        check(whole.status == 200 and half.status == 200, (whole.raw[:80], half.raw[:80]))
        K.wait_closed_rows(s, ("k1", "k2"))  # the last accounting batch (≤ 1 s after they left)

        # the server's local date (Asia/Ho_Chi_Minh, the default zone)
        date = datetime.datetime.fromtimestamp(start, ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%d")
        r = s.get("/api/v1/deliveries?commune=%s&date=%s" % (st.commune, date), operator)
        check(r.status == 200, r)
        rows = {d["cluster"]: d for d in r.json()["deliveries"]}
        check(set(rows) == {"k1", "k2"}, rows.keys())
        k1, k2 = rows["k1"], rows["k2"]
        check(k1["reached"] is True and k1["bulletins_whole"] == [b1, b2], k1)
        check(k2["reached"] is False and k2["bulletins_whole"] == [b1], k2)
        prog = k1["programme_s"]
        check(abs(k1["audio_s"] - prog) <= 1.0, k1)
        check(b1_end - 0.5 <= k2["audio_s"] <= b1_end + 2.5 + K.LEAD_S, k2)  # sent lead_ms ahead
        check(k1["connected_at"] and k1["disconnected_at"] and k2["disconnected_at"], (k1, k2))
        check(k1["bytes"] > k2["bytes"] > 0, (k1["bytes"], k2["bytes"]))

        # coverage: 1 of 3 clusters reached, 100 of 750 people; per bulletin b1: k1+k2, b2: k1
        r = s.get("/api/v1/coverage?from=%s&to=%s&commune=%s" % (date, date, st.commune), operator)
        check(r.status == 200, r)
        sessions = r.json()["sessions"]
        check(len(sessions) == 1, sessions)
        c = sessions[0]
        expect = {"commune": st.commune, "clusters_total": 3, "clusters_reached": 1,
                  "population_total": 750, "population_reached": 100,
                  "percent_clusters": 33.3, "percent_population": 13.3}
        for k, v in expect.items():
            check(c[k] == v, "coverage %s: %r, expected %r" % (k, c[k], v))
        per = {b["id"]: b for b in c["bulletins"]}
        check(per[b1]["clusters_reached"] == 2 and per[b1]["population_reached"] == 350, per)
        check(per[b2]["clusters_reached"] == 1 and per[b2]["population_reached"] == 100, per)

        summary = s.get("/api/v1/coverage/summary?from=%s&to=%s" % (date, date), operator).json()
        check(summary["sessions_aired"] == 1 and summary["worst_percent_clusters"] == 33.3, summary)
        check(summary["communes"][0]["commune"] == st.commune and
              summary["communes"][0]["sessions"] == 1, summary)

        # CSV: the same content
        check_csv_matches(s, operator, "/api/v1/deliveries?commune=%s&date=%s" % (st.commune, date),
                          "deliveries")
        check_csv_matches(s, operator, "/api/v1/coverage?from=%s&to=%s" % (date, date), "sessions")
        check_csv_matches(s, operator, "/api/v1/coverage/summary?from=%s&to=%s" % (date, date),
                          "communes")

        # health: k3 never seen; k1 and k2 report (a sign of life), then fall silent
        for i in (0, 1):
            cid, tok = st.clusters[i]
            r = s.post("/api/v1/receivers/%s/status" % cid, {"volume": 80, "signal": -71}, tok)
            check(r.status in (200, 204), r)
        off = s.get("/api/v1/clusters?status=offline", operator).json()["clusters"]
        check([c["id"] for c in off] == ["k3"], off)
        on = s.get("/api/v1/clusters?status=online", operator).json()["clusters"]
        check([c["id"] for c in on] == ["k1", "k2"] and all(c["online"] for c in on), on)
        # once the session is over (its programme was sent lead_ms before it ends)
        def flags():
            return {c["id"]: c["unreached_recently"]
                    for c in s.get("/api/v1/clusters", operator).json()["clusters"]}
        K.wait_for(lambda: flags() == {"k1": False, "k2": True, "k3": True}, 15,
                   lambda: "unreached flags: %r" % flags())
        k1c = s.get("/api/v1/clusters/k1", operator).json()
        check(k1c["status"]["volume"] == 80, k1c)
        # offline_after_s = 4: all offline once 4 s passed without a sign of life
        off = K.wait_for(lambda: [c for c in [s.get("/api/v1/clusters?status=offline", operator).json()["clusters"]]
                                  if [x["id"] for x in c] == ["k1", "k2", "k3"]], 15, "k1 and k2 offline",
                         interval=0.2)[0]
        check(all(c["last_seen"] or c["id"] == "k3" for c in off), off)
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
