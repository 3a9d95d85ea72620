"""Office reports (issue 20, docs/reports.md): every report answers JSON, CSV (machine form and
?lang=vi) and XLSX; LibreOffice headless under a Vietnamese locale opens the XLSX and the
?lang=vi CSV, and their cells read back hold Vietnamese headers, commune names intact, seconds as
numbers equal to the JSON, dates as dates in the station's time. Bad ?format= / ?lang= get 400
and change nothing.

The data are written into the database while the server is stopped (a day of two communes'
sessions, deliveries and a play), so the test takes seconds, not the real time of a broadcast."""
import csv
import datetime
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zipfile
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from lcserver import Server, check  # noqa: E402

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the server's default zone
NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
}
COMMUNES = {"tan-phu": "Tân Phú", "dong-hoa": "Đông Hòa"}
CLUSTERS = [("c1", "tan-phu", "Cụm Ấp Bắc", 300), ("c2", "tan-phu", "Cụm Chợ Mới", 200),
            ("c3", "dong-hoa", "Cụm Đình Làng", 150)]


def q(name):
    prefix, local = name.split(":")
    return "{%s}%s" % (NS[prefix], local)


def read_fods(path):
    """The first sheet of a flat ODF spreadsheet: rows of cells (type, value, text, bold)."""
    root = ET.parse(path).getroot()
    bold = set()
    for st in root.iter(q("style:style")):
        tp = st.find(q("style:text-properties"))
        if tp is not None and tp.get(q("fo:font-weight")) == "bold":
            bold.add(st.get(q("style:name")))
    table = root.find(".//" + q("table:table"))
    rows = []
    for tr in table.iter(q("table:table-row")):
        cells = []
        for tc in tr.findall(q("table:table-cell")):
            n = int(tc.get(q("table:number-columns-repeated"), "1"))
            cell = {"type": tc.get(q("office:value-type")),
                    "value": tc.get(q("office:value")) or tc.get(q("office:date-value")),
                    "text": "".join("".join(p.itertext()) for p in tc.findall(q("text:p"))),
                    "bold": tc.get(q("table:style-name")) in bold}
            cells.extend([cell] * min(n, 64))
        while cells and cells[-1]["type"] is None and not cells[-1]["text"]:
            cells.pop()
        if cells:
            rows.append(cells)
    return rows


def sheet_view(path, head):
    """What headless LibreOffice does not report (it keeps no view): the XLSX's first row is
    frozen, and the columns are as wide as their content (dates: "dd/mm/yyyy hh:mm:ss")."""
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    m = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    pane = root.find(".//%spane" % m)
    check(pane is not None and pane.get("state") == "frozen" and pane.get("ySplit") == "1",
          "the header row is not frozen")
    widths = {int(c.get("min")) - 1: float(c.get("width")) for c in root.iter(m + "col")}
    check(len(widths) == len(head), widths)
    check(widths[head.index("Phiên bắt đầu")] >= 19, ("a date column too narrow", widths))
    check(widths[head.index("Tên xã")] >= len("Đông Hòa"), ("a name column too narrow", widths))


def soffice(files, outdir, infilter=None):
    """Converts files to .fods with LibreOffice headless under the Vietnamese locale, a fresh
    profile per run. Returns the seconds it took."""
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    env = dict(os.environ, LANG="vi_VN.UTF-8", LC_ALL="vi_VN.UTF-8", HOME=profile)
    args = ["soffice", "--headless", "--norestore", "-env:UserInstallation=file://" + profile]
    if infilter:
        args.append("--infilter=" + infilter)
    t0 = time.monotonic()
    try:
        r = subprocess.run(args + ["--convert-to", "fods", "--outdir", outdir] + files, env=env,
                           capture_output=True, timeout=90)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    check(r.returncode == 0, "soffice: %s %s" % (r.stdout[-500:], r.stderr[-500:]))
    return time.monotonic() - t0


def serial_to_local(value):
    """An ODF date-value (the wall-clock time LibreOffice shows) as a naive datetime."""
    return datetime.datetime.fromisoformat(value)


def wall(rfc3339):
    """The wall-clock time an RFC 3339 text names (its own offset, the station's zone)."""
    return datetime.datetime.fromisoformat(rfc3339).replace(tzinfo=None)


def close_time(a, b, tol=0.002):
    return abs((a - b).total_seconds()) <= tol


def fill(s, day0):
    """Sessions of 'yesterday' (local) in both communes, with deliveries and a play."""
    db = sqlite3.connect(os.path.join(s.data, "loacast.db"), timeout=10)
    prog = '{"items": []}'
    t = [int(day0.timestamp()) + 6 * 3600, int(day0.timestamp()) + 17 * 3600 + 30 * 60]
    now = int(time.time())
    db.executemany("INSERT INTO broadcasts (id, commune, kind, start_at, end_at, status, programme,"
                   " created_at) VALUES (?,?,'adhoc',?,?,'done',?,?)",
                   [(901, "tan-phu", t[0], t[0] + 600, prog, now),
                    (902, "dong-hoa", t[1], t[1] + 600, prog, now)])
    rows = [(901, "c1", "tan-phu", t[0], t[0] + 600, t[0] - 3, t[0] + 601, 149.607, 150.0, 1234567,
             0, 1, "[]", now),
            (901, "c2", "tan-phu", t[0], t[0] + 600, t[0] + 40, t[0] + 70, 20.5, 150.0, 98765, 2,
             0, "[]", now),
            (902, "c3", "dong-hoa", t[1], t[1] + 600, t[1] - 2, t[1] + 602, 149.607, 150.0, 1234000,
             0, 1, "[]", now)]
    db.executemany("INSERT INTO deliveries (session, cluster, commune, session_start, session_end,"
                   " connected_at, disconnected_at, audio_s, programme_s, bytes, reconnections,"
                   " reached, bulletins_whole, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   rows)
    db.execute("INSERT INTO plays (cluster, id, commune, session, bulletin, hash, start_ms, end_ms,"
               " played_s, underruns, source, received_at) VALUES"
               " ('c3', 'p-1', 'dong-hoa', 902, 0, '', ?, ?, 149.607, 1, 'live', ?)",
               (t[1] * 1000 + 250, t[1] * 1000 + 149857, now))
    # the clusters existed before those sessions (a session counts the clusters of its time)
    db.execute("UPDATE clusters SET created_at = ?", (t[0] - 86400,))
    db.commit()
    db.close()


def main():
    with Server() as s:
        s.start()
        admin = s.admin()
        operator = s.make_user(admin, "oanh", "operator")
        for cid, name in COMMUNES.items():
            r = s.post("/api/v1/communes", {"id": cid, "name": name, "population": 1000}, admin)
            check(r.status == 201, r)
        for kid, commune, name, pop in CLUSTERS:
            r = s.post("/api/v1/clusters", {"id": kid, "commune": commune, "name": name,
                                            "population": pop}, admin)
            check(r.status == 201, r)
        s.stop()
        day0 = datetime.datetime.now(ZONE).replace(hour=0, minute=0, second=0, microsecond=0) \
            - datetime.timedelta(days=1)
        date = day0.strftime("%Y-%m-%d")
        fill(s, day0)
        s.start()

        reports = {  # name: (path, list key)
            "coverage": ("/api/v1/coverage?from=%s&to=%s" % (date, date), "sessions"),
            "deliveries": ("/api/v1/deliveries?date=%s" % date, "deliveries"),
            "summary": ("/api/v1/coverage/summary?from=%s&to=%s" % (date, date), "communes"),
            "plays": ("/api/v1/plays?from=%s&to=%s" % (date, date), "plays"),
            "selftest": ("/api/v1/selftest/report", "clusters"),
        }
        js = {}
        for name, (path, key) in reports.items():
            r = s.get(path, operator)
            check(r.status == 200 and r.headers["content-type"].startswith("application/json"), r)
            js[name] = r.json()[key]
        check(len(js["coverage"]) == 2 and len(js["deliveries"]) == 3 and len(js["plays"]) == 1, js)
        check([c["commune_name"] for c in js["coverage"]] == ["Tân Phú", "Đông Hòa"], js["coverage"])
        check([c["percent_clusters"] for c in js["coverage"]] == [50.0, 100.0], js["coverage"])

        # bad ?format= and ?lang=: 400, nothing changed
        before = s.get(reports["coverage"][0], operator).body
        for bad in ("format=pdf", "format=", "lang=fr", "format=xlsx&lang=zz"):
            r = s.get(reports["coverage"][0] + "&" + bad, operator)
            check(r.status == 400 and r.json()["error"] == "bad_query", (bad, r))
        check(s.get(reports["coverage"][0], operator).body == before, "a bad query changed the report")

        tmp = tempfile.mkdtemp(prefix="reports-")
        try:
            xlsx_files, vi_files = {}, {}
            for name, (path, key) in reports.items():
                sep = "&" if "?" in path else "?"
                # machine CSV: JSON keys as headers, '.' decimals, commune names where asked
                r = s.get(path + sep + "format=csv", operator)
                check(r.status == 200 and r.headers["content-type"].startswith("text/csv"), r)
                text = r.body.decode("utf-8")
                check(text.startswith("\ufeff"), "%s: CSV without a BOM" % name)
                rows = list(csv.DictReader(io.StringIO(text[1:])))
                check(len(rows) == len(js[name]), (name, rows))
                if name in ("coverage", "deliveries", "plays"):
                    check("commune_name" in rows[0] and "commune" in rows[0], rows[0].keys())
                    check([x["commune_name"] for x in rows] == [COMMUNES[x["commune"]] for x in rows], rows)
                if name == "deliveries":
                    check(rows[0]["audio_s"] == "149.607", rows[0])
                # the office CSV: Vietnamese headers, ';', ',' decimals
                r = s.get(path + sep + "format=csv&lang=vi", operator)
                check(r.status == 200, r)
                check("filename*=UTF-8''" in r.headers["content-disposition"], r.headers)
                vi_files[name] = os.path.join(tmp, name + "-vi.csv")
                with open(vi_files[name], "wb") as f:
                    f.write(r.body)
                # XLSX by ?format= and by Accept: the same workbook kind
                r = s.get(path + sep + "format=xlsx", operator)
                check(r.status == 200 and r.headers["content-type"] == XLSX, r)
                check(r.body[:2] == b"PK", "%s: not a zip" % name)
                cd = r.headers["content-disposition"]
                check(cd.startswith("attachment; filename=\"") and ".xlsx\"" in cd and
                      "filename*=UTF-8''" in cd, cd)
                r2 = s.get(path, operator, headers={"Accept": XLSX})
                check(r2.status == 200 and r2.headers["content-type"] == XLSX, r2)
                xlsx_files[name] = os.path.join(tmp, name + ".xlsx")
                with open(xlsx_files[name], "wb") as f:
                    f.write(r.body)
            vi_name = urllib.parse.unquote(cd.split("filename*=UTF-8''")[1])
            check(vi_name.endswith(".xlsx") and "ự" in vi_name, vi_name)  # selftest: "tự kiểm tra"
            cd = s.get(reports["coverage"][0] + "&format=xlsx", operator).headers["content-disposition"]
            check(urllib.parse.unquote(cd.split("filename*=UTF-8''")[1]) ==
                  "Độ phủ %s đến %s.xlsx" % (date, date), cd)

            # LibreOffice, Vietnamese locale: the XLSX files, then the office CSVs
            out_x, out_c = os.path.join(tmp, "x"), os.path.join(tmp, "c")
            lo_x = soffice(list(xlsx_files.values()), out_x)
            # ';' separated, '"' quoted, UTF-8 (76), from line 1, the locale's own reading
            lo_c = soffice(list(vi_files.values()), out_c, "CSV:59,34,76,1,,,false,true")
            print("LibreOffice: %.1f s for %d XLSX, %.1f s for %d CSV" %
                  (lo_x, len(xlsx_files), lo_c, len(vi_files)))

            for kind, outdir, suffix in (("xlsx", out_x, ""), ("csv", out_c, "-vi")):
                cov = read_fods(os.path.join(outdir, "coverage%s.fods" % suffix))
                head = [c["text"] for c in cov[0]]
                check(head[:3] == ["Mã xã", "Tên xã", "Mã phiên"], (kind, head))
                check("Phiên bắt đầu" in head and "Tỷ lệ cụm loa (%)" in head, (kind, head))
                if kind == "xlsx":
                    check(all(c["bold"] for c in cov[0]), "the header row is not bold")
                    sheet_view(xlsx_files["coverage"], head)
                check(len(cov) == 3, (kind, cov))
                for row, jr in zip(cov[1:], js["coverage"]):
                    cells = dict(zip(head, row))
                    check(cells["Tên xã"]["text"] == jr["commune_name"], (kind, cells["Tên xã"]))
                    start = cells["Phiên bắt đầu"]
                    check(start["type"] == "date", (kind, "a start that is not a date", start))
                    check(close_time(serial_to_local(start["value"]), wall(jr["session_start"])),
                          (kind, start, jr["session_start"]))
                    pc = cells["Tỷ lệ cụm loa (%)"]
                    want = jr["percent_clusters"] / (100 if kind == "xlsx" else 1)
                    check(pc["type"] in ("float", "percentage") and
                          abs(float(pc["value"]) - want) < 1e-9, (kind, pc, jr["percent_clusters"]))

                dl = read_fods(os.path.join(outdir, "deliveries%s.fods" % suffix))
                head = [c["text"] for c in dl[0]]
                check("Âm thanh đã gửi (giây)" in head and "Tên cụm loa" in head, (kind, head))
                check(len(dl) == 4, (kind, dl))
                for row, jr in zip(dl[1:], js["deliveries"]):
                    cells = dict(zip(head, row))
                    sec = cells["Âm thanh đã gửi (giây)"]
                    check(sec["type"] == "float" and abs(float(sec["value"]) - jr["audio_s"]) < 1e-9,
                          (kind, "seconds", sec, jr["audio_s"]))
                    b = cells["Dung lượng (byte)"]
                    check(b["type"] == "float" and int(float(b["value"])) == jr["bytes"], (kind, b))
                    check(cells["Tên cụm loa"]["text"] == jr["cluster_name"], (kind, cells["Tên cụm loa"]))
                    check(cells["Tên xã"]["text"] == COMMUNES[jr["commune"]], (kind, cells["Tên xã"]))
                    con = cells["Kết nối lúc"]
                    check(con["type"] == "date" and
                          close_time(serial_to_local(con["value"]), wall(jr["connected_at"])),
                          (kind, con, jr["connected_at"]))

                pl = read_fods(os.path.join(outdir, "plays%s.fods" % suffix))
                head = [c["text"] for c in pl[0]]
                cells = dict(zip(head, pl[1]))
                jr = js["plays"][0]
                check(cells["Bắt đầu phát"]["type"] == "date", (kind, cells["Bắt đầu phát"]))
                # the XLSX keeps the millisecond; the office CSV writes whole seconds
                check(close_time(serial_to_local(cells["Bắt đầu phát"]["value"]), wall(jr["start"]),
                                 0.002 if kind == "xlsx" else 1), (kind, cells["Bắt đầu phát"], jr))
                check(abs(float(cells["Đã phát (giây)"]["value"]) - jr["played_s"]) < 1e-9, cells)
                check(cells["Tên xã"]["text"] == "Đông Hòa", cells)

                sm = read_fods(os.path.join(outdir, "summary%s.fods" % suffix))
                check([c["text"] for c in sm[0]][:3] == ["Mã xã", "Tên xã", "Số phiên"], (kind, sm[0]))
                check(sorted(r[1]["text"] for r in sm[1:]) == sorted(COMMUNES.values()), (kind, sm))
                st = read_fods(os.path.join(outdir, "selftest%s.fods" % suffix))
                check([c["text"] for c in st[0]][:2] == ["Mã xã", "Tên xã"] and len(st) == 1,
                      (kind, st))
        finally:
            if os.environ.get("REPORTS_KEEP"):  # to look at the files after a failure
                print("files kept in", tmp)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
