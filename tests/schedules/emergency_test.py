"""An emergency posted while a session is on air in 3 communes is on air in all 3 within 2 s of
the POST (text rendered ahead of the queue, INTERRUPT published, an emergency session recorded
inside each running session, which then runs longer); an approved bulletin sent to every commune
("*") opens an emergency session at once where nothing is on air. Audited."""
import time

from schedkit import Server, Station, check, next_second_boundary

LONG = ("Thông báo của Ủy ban nhân dân huyện về kế hoạch sản xuất vụ đông xuân: các hợp tác xã "
        "chuẩn bị giống, phân bón, nạo vét kênh mương nội đồng trước ngày mười lăm tháng tới. "
        "Bà con theo dõi lịch thời vụ trên loa truyền thanh của xã và tại nhà văn hóa thôn.")


def main():
    with Server(config="[schedules]\nhold_s = 2\n[audio]\nrender_workers = 1\n") as srv:
        srv.start()
        st = Station(srv)
        on = [st.commune(c) for c in ("an-binh", "an-hoa", "an-phu")]
        off = st.commune("an-thanh")
        st.bulletin(LONG, on)
        start = next_second_boundary(2)
        hosts = {c: st.session(c, start)["id"] for c in on}
        for c in on:
            st.wait_session(c, hosts[c], ("on_air",), timeout=10)
        ends_before = {c: st.find_session(c, hosts[c])["start_ms"] +
                       st.find_session(c, hosts[c])["length_s"] * 1000 for c in on}
        # keep the render pool busy with ordinary bulletins: the emergency goes first
        for i in range(3):
            r = srv.post("/api/v1/bulletins", {"title": "q%d" % i, "text": LONG, "communes": on},
                         st.editor)
            check(r.status == 202, r)
        t_post = time.time()
        r = srv.post("/api/v1/emergency", {"text": "Khẩn cấp: lũ quét, bà con lên chỗ cao ngay.",
                                           "communes": on}, st.approver)
        t_answer = time.time()
        check(r.status == 201, r)
        em = r.json()
        check(sorted(x["commune"] for x in em["sessions"]) == on, em)
        check(all(x["interrupted"] for x in em["sessions"]), em)
        latencies = []
        for x in em["sessions"]:
            e = st.find_session(x["commune"], x["session"])
            check(e is not None and e["kind"] == "emergency", e)
            check(e.get("interrupting") == hosts[x["commune"]], e)
            lat = e["aired_at_ms"] - t_post * 1000
            latencies.append(round(lat))
            check(0 <= lat <= 2000, "on air %d ms after the POST" % lat)
        check(len(st.log_lines(r"interrupt session")) == 3, "three INTERRUPTs")
        eb = srv.get("/api/v1/bulletins/%d" % em["bulletin"], st.operator).json()
        check(eb["priority"] == "emergency" and eb["approved_by"] == "approver1", eb)
        # the interrupted sessions run longer (the emergency, then the interrupted item again)
        for c in on:
            h = st.wait_session(c, hosts[c], ("done",), timeout=40)
            check(h["ended_at_ms"] > ends_before[c] + 1000, (h, ends_before[c]))
        # an approved bulletin, to every commune: where nothing is on air, a session opens now
        c = st.bulletin("Thông báo mất điện từ tám giờ đến mười giờ sáng mai.", [off])
        t2 = time.time()
        r = srv.post("/api/v1/emergency", {"bulletin": c["id"], "communes": ["*"]}, st.admin)
        check(r.status == 201, r)
        got = {x["commune"]: x for x in r.json()["sessions"]}
        check(sorted(got) == sorted(on + [off]) and not any(x["interrupted"] for x in got.values()),
              got)
        e = st.find_session(off, got[off]["session"])
        check(e["status"] == "on_air" and e["kind"] == "emergency" and
              e["aired_at_ms"] - t2 * 1000 <= 2000, e)
        check(len(st.log_lines(r"open session %d \(an-thanh\)" % got[off]["session"])) == 1, "OPEN")
        audit = srv.get("/api/v1/audit?action=emergency", st.admin).json()["audit"]
        check(len(audit) == 2 and audit[0]["actor"] == "admin", audit)
        print("emergency on air in 3 communes %s ms after the POST (answered in %d ms)" %
              (latencies, (t_answer - t_post) * 1000))
        srv.stop()
    print("ok")


if __name__ == "__main__":
    main()
