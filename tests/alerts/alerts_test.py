"""CAP 1.2 alerts (issue 18, point 4): real Vietnamese CAP documents (tests/data/cap/) posted to a
real server. Bad documents — malformed XML (400), CAP 1.1, a missing <status>, a polygon that
touches no commune, not Actual, no Vietnamese info, an open polygon, an unknown reference, a
DOCTYPE, the wrong Content-Type, a role that may not post — are refused with a message naming what
is wrong and change nothing (the alert list and the audit log are the same after them). A storm by
polygon, a flood by administrative code, a landslide by circle select the communes whose clusters
(or codes) they cover; the same message twice is one alert; an Update supersedes the awaiting
alert, a Cancel cancels the awaiting Update; a confirm by an approver puts the flood on air as an
emergency in its communes (GET /api/v1/emergency/{bulletin}); a trusted sender's Extreme and
Immediate alert goes on air at once when posted by an approver, and waits for a confirm when
posted by an operator; a Cancel of an alert on air is recorded and the alert stays on air. Every
step is audited."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from lcserver import Server, check  # noqa: E402

DATA = os.path.join(HERE, "..", "data", "cap")
TRUSTED = "songthan@igp-vast.vn"
CONFIG = "[alerts]\ntrusted_senders = tinhuy@quangbinh.gov.vn, %s\n" % TRUSTED

# commune → (name, code, clusters as (id, lat, lon))
COMMUNES = {
    "quang-phu": ("Quảng Phú", "19567", [("k1", 17.55, 106.60), ("k2", 17.52, 106.58)]),
    "quang-thanh": ("Quảng Thanh", "19570", [("k3", 17.50, 106.55)]),
    "hai-ninh": ("Hải Ninh", "19600", [("k4", 17.20, 106.80)]),
    "son-thuy": ("Sơn Thủy", "19639", []),
}


def cap(name, *repl):
    with open(os.path.join(DATA, name), "rb") as f:
        body = f.read()
    for a, b in repl:
        check(a.encode() in body, "%s has no %r" % (name, a))
        body = body.replace(a.encode(), b.encode())
    return body


def post(s, tok, body, ctype="application/cap+xml"):
    return s.post("/api/v1/alerts", body, tok, headers={"Content-Type": ctype})


def main():
    with Server(CONFIG) as s:
        s.start()
        admin = s.admin()
        approver = s.make_user(admin, "duyet", "approver")
        gateway = s.make_user(admin, "cap-gw", "operator")
        editor = s.make_user(admin, "bientap", "editor")
        for cid, (name, code, clusters) in COMMUNES.items():
            r = s.post("/api/v1/communes", {"id": cid, "name": name, "code": code}, admin)
            check(r.status == 201 and r.json()["code"] == code, r)
            for k, lat, lon in clusters:
                r = s.post("/api/v1/clusters", {"id": k, "commune": cid, "name": "Cụm " + k,
                                                "lat": lat, "lon": lon}, admin)
                check(r.status == 201, r)
        # the commune's code: digits, unique
        check(s.post("/api/v1/communes", {"id": "x", "name": "X", "code": "19a"}, admin).status == 422, "")
        r = s.request("PATCH", "/api/v1/communes/son-thuy", {"code": "19600"}, admin)
        check(r.status == 409 and "hai-ninh" in r.json()["message"], r)
        check(s.get("/api/v1/communes/son-thuy", admin).json()["code"] == "19639", "code changed")

        def state():
            return (s.get("/api/v1/alerts", admin).json(),
                    s.get("/api/v1/audit?limit=1000", admin).json()["audit"][0]["id"])
        before = state()
        check(before[0] == {"alerts": []}, before)

        # ---- bad input: a clear 4xx, nothing changes ----
        bad = [
            ("malformed.xml", (), 400, "malformed"),
            ("cap11.xml", (), 422, "CAP 1.1"),
            ("missing-status.xml", (), 422, "status"),
            ("polygon-nowhere.xml", (), 422, "contains no commune"),
            ("bao-polygon.xml", (("<status>Actual", "<status>Exercise"),), 422, "only Actual"),
            ("bao-polygon.xml", (("<scope>Public</scope>",
                                  "<scope>Restricted</scope><restriction>nội bộ</restriction>"),), 422,
             "only Public"),
            ("bao-polygon.xml", (("<scope>Public</scope>", "<scope>Public</scope><scope>Public</scope>"),), 422,
             "not valid CAP 1.2"),
            ("bao-polygon.xml", (("<language>vi-VN", "<language>fr-FR"),), 422, "no Vietnamese info"),
            ("bao-polygon.xml", (("17.60,106.50 17.45,106.50</polygon>\n    </area>\n  </info>\n  <info>\n    <language>en-US",
                                  "17.60,106.50</polygon>\n    </area>\n  </info>\n  <info>\n    <language>en-US"),),
             422, "not closed"),
            ("bao-polygon.xml", (("<polygon>17.45,106.50 17.45", "<polygon>97.45,106.50 17.45"),),
             422, "in range"),
            ("bao-update.xml", (), 422, "references"),
            ("satlo-circle.xml", (("<msgType>Alert", "<msgType>Ack"),), 422, "msgType Ack"),
            ("satlo-circle.xml", (("<circle>17.20,106.80 5", "<circle>17.20,106.80"),), 422, "circle"),
            ("satlo-circle.xml", (("<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                                   "<?xml version=\"1.0\"?><!DOCTYPE alert [<!ENTITY x \"y\">]>"),), 422, "DOCTYPE"),
            ("satlo-circle.xml", (("2026-12-07T09:45:00+07:00", "2026-12-07T09:45:00Z"),), 422, "sent"),
        ]
        for name, repl, status, words in bad:
            r = post(s, gateway, cap(name, *repl))
            check(r.status == status and words in r.json()["message"], (name, repl, r))
            print("%-20s %d %s" % (name, r.status, r.json()["message"]))
        r = post(s, gateway, b"")
        check(r.status == 400, r)
        r = post(s, gateway, cap("satlo-circle.xml"), "application/json")
        check(r.status == 415, r)
        r = post(s, editor, cap("satlo-circle.xml"))
        check(r.status == 403, r)
        check(state() == before, "a refused alert changed something: %r" % (state(),))

        # ---- the storm, by polygon: quang-phu and quang-thanh, not hai-ninh ----
        r = post(s, gateway, cap("bao-polygon.xml"))
        check(r.status == 201, r)
        storm = r.json()
        check(storm["status"] == "awaiting" and storm["communes"] == ["quang-phu", "quang-thanh"], storm)
        check(storm["text"].startswith("Tin bão khẩn cấp") and "không ra khơi" in storm["text"], storm)
        check(storm["identifier"] == "KTTV-BTB-2026-1207-0001" and storm["event"] == "Bão số 9", storm)
        # the same message again is the same alert; the same identifier with another sent is not
        r = post(s, gateway, cap("bao-polygon.xml"))
        check(r.status == 200 and r.json()["id"] == storm["id"], r)
        r = post(s, gateway, cap("bao-polygon.xml", ("T08:00:00+07:00", "T08:05:00+07:00")))
        check(r.status == 409, r)
        # as it will be spoken: the normaliser's words, and the communes' names
        one = s.get("/api/v1/alerts/%d" % storm["id"], admin).json()
        check("mười bảy phẩy năm" in one["spoken"] and "17,5" not in one["spoken"], one["spoken"])
        check([t["name"] for t in one["targets"]] == ["Quảng Phú", "Quảng Thanh"], one["targets"])
        check(one["xml"].startswith("<?xml") and "Bão số 9" in one["xml"], one["xml"][:100])

        # ---- the flood, by administrative code; the landslide, by circle ----
        r = post(s, gateway, cap("lu-geocode.xml"))
        check(r.status == 201 and r.json()["communes"] == ["hai-ninh", "son-thuy"], r)
        flood = r.json()
        r = post(s, gateway, cap("satlo-circle.xml"))
        check(r.status == 201 and r.json()["communes"] == ["hai-ninh"], r)

        # ---- Update supersedes the awaiting storm; Cancel cancels the awaiting Update ----
        r = post(s, gateway, cap("bao-update.xml"))
        check(r.status == 201 and r.json()["status"] == "awaiting" and r.json()["references"] == [storm["id"]], r)
        update = r.json()
        old = s.get("/api/v1/alerts/%d" % storm["id"], admin).json()
        check(old["status"] == "cancelled" and old["replaced_by"] == update["id"], old)
        r = post(s, gateway, cap("bao-cancel.xml"))
        check(r.status == 201 and r.json()["status"] == "cancelled" and r.json()["msg_type"] == "Cancel", r)
        check(r.json()["communes"] == ["quang-phu", "quang-thanh"], r)
        check(s.get("/api/v1/alerts/%d" % update["id"], admin).json()["status"] == "cancelled", "")
        r = s.post("/api/v1/alerts/%d/confirm" % update["id"], None, approver)
        check(r.status == 409, r)

        # ---- a confirm puts the flood on air as an emergency in its communes ----
        check(s.post("/api/v1/alerts/%d/confirm" % flood["id"], None, gateway).status == 403, "")
        r = s.post("/api/v1/alerts/%d/confirm" % flood["id"], None, approver, timeout=60)
        check(r.status == 201 and r.json()["status"] == "on_air" and r.json()["confirmed_by"] == "duyet", r)
        b = r.json()["bulletin"]
        check(b == r.json()["emergency"]["bulletin"], r)
        em = s.get("/api/v1/emergency/%d" % b, approver)
        check(em.status == 200 and sorted(c["commune"] for c in em.json()["communes"]) == ["hai-ninh", "son-thuy"], em)
        bul = s.get("/api/v1/bulletins/%d" % b, admin).json()
        check(bul["priority"] == "emergency" and bul["title"] == "Cảnh báo: Lũ trên sông Gianh", bul)
        check(s.post("/api/v1/alerts/%d/confirm" % flood["id"], None, approver).status == 409, "twice")

        # ---- a trusted sender's Extreme/Immediate alert ----
        r = post(s, gateway, cap("trusted-extreme.xml"))
        check(r.status == 201 and r.json()["status"] == "awaiting" and "note" in r.json(), r)
        r = post(s, approver, cap("trusted-extreme.xml", ("VDL-2026-ST-0012", "VDL-2026-ST-0013")))
        check(r.status == 201 and r.json()["status"] == "on_air" and r.json()["communes"] == ["quang-phu"], r)
        trusted = r.json()
        tb = trusted["bulletin"]
        check(s.get("/api/v1/emergency/%d" % tb, approver).status == 200, "trusted alert not on air")

        # ---- a Cancel of the flood on air: recorded; what aired, aired ----
        cancel = cap("bao-cancel.xml", ("KTTV-BTB-2026-1207-0003", "PCTT-QB-2026-0459"),
                     ("canhbao@kttvbtb.gov.vn</sender>", "bchpctt@quangbinh.gov.vn</sender>"),
                     ("canhbao@kttvbtb.gov.vn,KTTV-BTB-2026-1207-0002,2026-12-07T10:00:00+07:00",
                      "bchpctt@quangbinh.gov.vn,PCTT-QB-2026-0457,2026-12-07T09:30:00+07:00"))
        r = post(s, gateway, cancel)
        check(r.status == 201 and r.json()["communes"] == ["hai-ninh", "son-thuy"], r)
        f = s.get("/api/v1/alerts/%d" % flood["id"], admin).json()
        check(f["status"] == "on_air" and f["replaced_by"] == r.json()["id"], f)

        lst = s.get("/api/v1/alerts?status=on_air", admin).json()["alerts"]
        check(sorted(a["id"] for a in lst) == sorted([flood["id"], trusted["id"]]), lst)
        check(s.get("/api/v1/alerts?status=bogus", admin).status == 400, "")
        audit = s.get("/api/v1/audit?limit=1000", admin).json()["audit"]
        actions = [e["action"] for e in audit]
        for a in ("alert_received", "alert_duplicate", "alert_updated", "alert_cancelled",
                  "alert_confirmed", "alert_on_air", "emergency"):
            check(a in actions, "no %s in the audit: %r" % (a, actions))
        onair = [e for e in audit if e["action"] == "alert_on_air"]
        check(len(onair) == 2 and {e["actor"] for e in onair} == {"duyet"}, onair)
        print("alerts: %d received, %d on air" % (actions.count("alert_received"), len(onair)))
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
