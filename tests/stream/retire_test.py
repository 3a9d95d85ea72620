"""Communes and clusters with history are retired, not deleted (issue 14, point 10).

Before, deleting a cluster or a commune removed its row: coverage of past sessions lost the
cluster (a session that reached 1 of 2 clusters read 1 of 1), and the id could be taken again.
Now, after a session that reached k1 and not k2:
1. DELETE of k1 (it received) and of k2 (it was there, unreached) retire them: 200 with
   retired_at; lists leave them out unless ?retired=true; GET by id still shows them; their
   tokens stop working (k1's stream 404); their ids are not taken again (409); PATCH 404;
2. the past session's coverage still reads 1 of 2 clusters reached;
3. the commune retires too (DELETE 200); its id stays taken; coverage by ?commune= still answers;
   it takes no slots, sessions or bulletins any more;
4. a cluster and a commune with no history at all are deleted (204, then 404)."""
import streamkit as K
from streamkit import check


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 2, [(2, 400)])
        admin = st.admin
        start, sess = st.session(1)
        path, tok = st.url(0)
        rc = K.Receiver(s.port, path, tok)
        rc.start()
        K.wait_for(lambda: not rc.is_alive(), 60, "the session's stream to end")
        # a 2 s programme is sent whole by the lead before its start: the clusters retire after
        # the session began, as in the field
        K.sleep_until(start + 3, "the session (2 s) is over before the clusters retire")
        check(rc.status == 200, (rc.status, rc.error))
        day = sess["start"][:10]

        def coverage():
            r = s.get("/api/v1/coverage?from=%s&to=%s&commune=%s" % (day, day, st.commune), admin)
            check(r.status == 200, r)
            rows = [x for x in r.json()["sessions"] if x["session"] == sess["id"]]
            return rows[0] if rows else None
        K.wait_for(lambda: coverage() is not None and coverage()["clusters_reached"] == 1, 30,
                   "the session's coverage")
        check(coverage()["clusters_total"] == 2, coverage())

        # 1. clusters with history are retired
        for cid in ("k1", "k2"):
            r = s.request("DELETE", "/api/v1/clusters/" + cid, None, admin)
            check(r.status == 200 and r.json()["retired_at"], r)
        r = s.request("DELETE", "/api/v1/clusters/k1", None, admin)
        check(r.status == 409, r)
        ids = [c["id"] for c in s.get("/api/v1/clusters", admin).json()["clusters"]]
        check("k1" not in ids and "k2" not in ids, ids)
        ids = [c["id"] for c in s.get("/api/v1/clusters?retired=true", admin).json()["clusters"]]
        check("k1" in ids and "k2" in ids, ids)
        check(s.get("/api/v1/clusters?retired=maybe", admin).status == 400, "bad ?retired")
        r = s.get("/api/v1/clusters/k1", admin)
        check(r.status == 200 and r.json()["retired_at"], r)
        r = s.get(path, headers={"Authorization": "Bearer " + tok})
        check(r.status == 404, "a retired cluster's token streams nothing: %r" % r)
        r = s.post("/api/v1/clusters", {"id": "k1", "commune": st.commune, "name": "again"}, admin)
        check(r.status == 409, r)
        r = s.request("PATCH", "/api/v1/clusters/k1", {"name": "x"}, admin)
        check(r.status == 404, r)
        check(s.post("/api/v1/clusters/k1/token", None, admin).status == 404, "no new token")

        # 2. history unchanged
        cov = coverage()
        check(cov["clusters_total"] == 2 and cov["clusters_reached"] == 1, cov)

        # 3. the commune retires
        r = s.request("DELETE", "/api/v1/communes/" + st.commune, None, admin)
        check(r.status == 200 and r.json()["retired_at"], r)
        names = [c["id"] for c in s.get("/api/v1/communes", admin).json()["communes"]]
        check(st.commune not in names, names)
        names = [c["id"] for c in s.get("/api/v1/communes?retired=1", admin).json()["communes"]]
        check(st.commune in names, names)
        check(s.post("/api/v1/communes", {"id": st.commune, "name": "again"}, admin).status == 409, "id kept")
        check(coverage()["clusters_reached"] == 1, "coverage of a retired commune")
        r = s.request("PUT", "/api/v1/communes/%s/slots" % st.commune, {"slots": []}, admin)
        check(r.status == 404, r)
        r = s.post("/api/v1/communes/%s/sessions" % st.commune, {"start": sess["start"], "minutes": 1}, admin)
        check(r.status == 404, r)
        r = s.post("/api/v1/bulletins", {"title": "T", "text": "Xin chào", "communes": [st.commune]},
                   st.editor)
        check(r.status == 422, r)

        # 4. no history: deleted
        check(s.post("/api/v1/communes", {"id": "xa-moi", "name": "Mới"}, admin).status == 201, "new")
        r = s.post("/api/v1/clusters", {"id": "m1", "commune": "xa-moi", "name": "m"}, admin)
        check(r.status == 201, r)
        check(s.request("DELETE", "/api/v1/communes/xa-moi", None, admin).status == 409, "has a cluster")
        check(s.request("DELETE", "/api/v1/clusters/m1", None, admin).status == 204, "m1 deleted")
        check(s.get("/api/v1/clusters/m1", admin).status == 404, "m1 gone")
        check(s.request("DELETE", "/api/v1/communes/xa-moi", None, admin).status == 204, "deleted")
        check(s.get("/api/v1/communes/xa-moi", admin).status == 404, "gone")
    print("ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
