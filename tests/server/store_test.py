"""The database: WAL and foreign keys are on; an older schema is migrated at start (here a
version-1 database gains the columns of migrations 2 to 36 and keeps its rows; its stored audio
gets its media hash at start); a database newer than the program is refused with a message
instead of being touched; a damaged page (PRAGMA quick_check) and a zero-length database file
stop the start with a message; audio files are named by content."""
import hashlib
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import LOACAST, Server, check, wait_for  # noqa: E402


def main():
    with Server() as s:
        s.start()
        admin = s.admin()
        check(s.post("/api/v1/communes", {"id": "quang-phu", "name": "Quảng Phú"}, admin).status == 201, "")
        r = s.post("/api/v1/clusters", {"id": "c1", "commune": "quang-phu", "name": "Thôn 1"}, admin)
        check(r.status == 201, r)
        r = s.post("/api/v1/bulletins", {"title": "T", "text": "Xin chào bà con.", "communes": ["*"]}, admin)
        b = s.wait_status(admin, r.json()["id"], ("pending",))
        s.stop()
        path = os.path.join(s.data, "loacast.db")
        db = sqlite3.connect(path)
        check(db.execute("PRAGMA journal_mode").fetchone()[0] == "wal", "not WAL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        check(version >= 2, version)
        # the audio file is named by the SHA-256 of its bytes
        h = db.execute("SELECT audio_hash FROM bulletins WHERE id = ?", (b["id"],)).fetchone()[0]
        with open(os.path.join(s.data, "audio", h + ".opus"), "rb") as f:
            check(hashlib.sha256(f.read()).hexdigest() == h, "audio not named by its hash")
        # back to schema 1: the columns that later migrations add (2, 31, 32, 34..41) go, the
        # rows stay
        db.execute("ALTER TABLE clusters DROP COLUMN status")
        db.execute("ALTER TABLE clusters DROP COLUMN status_at")
        db.execute("DROP VIEW deliveries_current")
        db.execute("ALTER TABLE deliveries DROP COLUMN anchor_g")
        db.execute("ALTER TABLE deliveries DROP COLUMN anchor_bytes")
        db.execute("ALTER TABLE bulletins DROP COLUMN audio_by")
        db.execute("DROP INDEX broadcasts_uncounted")
        db.execute("ALTER TABLE broadcasts DROP COLUMN airings_counted")
        db.execute("ALTER TABLE communes DROP COLUMN retired_at")
        db.execute("ALTER TABLE clusters DROP COLUMN retired_at")
        db.execute("DROP INDEX bulletins_media_hash")
        db.execute("ALTER TABLE bulletins DROP COLUMN media_hash")
        db.execute("ALTER TABLE clusters DROP COLUMN volume")
        db.execute("ALTER TABLE clusters DROP COLUMN muted")
        db.execute("DROP TABLE receiver_schedules")
        db.execute("DROP TABLE plays")
        db.execute("ALTER TABLE clusters DROP COLUMN clone_suspected_at")
        db.execute("ALTER TABLE clusters DROP COLUMN clone_addresses")
        db.execute("DROP TRIGGER rules_commune_gone")
        db.execute("DROP TABLE rules")
        db.execute("ALTER TABLE broadcasts DROP COLUMN rule_broken")
        db.execute("ALTER TABLE slots DROP COLUMN relay")
        db.execute("ALTER TABLE broadcasts DROP COLUMN relay")
        db.execute("ALTER TABLE deliveries DROP COLUMN via")  # 46: Icecast listeners' rows
        for t in ("communes", "users", "bulletins", "audit"):  # 45: the organisation tree
            if t != "audit":
                db.execute("DROP INDEX %s_node" % t)
            db.execute("ALTER TABLE %s DROP COLUMN node" % t)
        db.execute("DROP TABLE nodes")
        db.execute("DROP TABLE lexicon_entries")              # 44: the station lexicon
        db.execute("DROP TABLE alerts")                       # 43: CAP alerts, communes.code
        db.execute("DROP INDEX communes_code")
        db.execute("ALTER TABLE communes DROP COLUMN code")
        for t in ("selftest_results", "selftests", "selftest_runs", "selftest_texts",
                  "selftest_schedule"):                       # 42: self-tests
            db.execute("DROP TABLE %s" % t)
        db.execute("PRAGMA user_version = 1")
        db.commit()
        db.close()
        s.start()
        admin = s.admin()
        c = s.get("/api/v1/clusters/c1", admin).json()
        check(c["name"] == "Thôn 1" and c["status"] is None, c)
        # audio stored before media hashes (migration 36) is hashed at start, off the loop:
        # the bulletin gains the BLAKE2b-256 of its file
        with open(os.path.join(s.data, "audio", h + ".opus"), "rb") as f:
            media = hashlib.blake2b(f.read(), digest_size=32).hexdigest()
        wait_for(lambda: s.get("/api/v1/bulletins/%d" % b["id"], admin).json()["media_hash"] == media,
                 30, "the old bulletin's media hash")
        s.stop()
        db = sqlite3.connect(path)
        check(db.execute("PRAGMA user_version").fetchone()[0] == version, "not migrated")
        # foreign keys are enforced by the server's connection: a cluster of an unknown commune
        # is refused by the API, and the schema declares the reference
        fks = db.execute("PRAGMA foreign_key_list(clusters)").fetchall()
        check(any(f[2] == "communes" for f in fks), fks)
        # a database from a newer loacast is refused, untouched
        db.execute("PRAGMA user_version = 999")
        db.commit()
        db.close()
        p = subprocess.run([LOACAST, "serve", "--config", s.config_path], capture_output=True, timeout=60)
        check(p.returncode != 0 and b"newer" in p.stderr, p.stderr)
        db = sqlite3.connect(path)
        check(db.execute("PRAGMA user_version").fetchone()[0] == 999, "touched")
        db.execute("PRAGMA user_version = %d" % version)
        db.commit()
        db.close()

        # a damaged page stops the start with a clear message (before: 200 with an empty list)
        with open(path, "rb") as f:
            good = f.read()
        db = sqlite3.connect(path)
        page = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'clusters'").fetchone()[0]
        db.close()
        bad = bytearray(good)
        off = (root - 1) * page
        bad[off:off + page] = bytes([0x5a]) * page   # the clusters table's root page
        with open(path, "wb") as f:
            f.write(bad)
        p = subprocess.run([LOACAST, "serve", "--config", s.config_path], capture_output=True, timeout=60)
        check(p.returncode != 0 and b"restore it from a backup" in p.stderr, p.stderr)
        with open(path, "wb") as f:
            f.write(good)

        # a zero-length database file is refused, not made a fresh install
        os.truncate(path, 0)
        p = subprocess.run([LOACAST, "serve", "--config", s.config_path], capture_output=True, timeout=60)
        check(p.returncode != 0 and b"database file is empty" in p.stderr, p.stderr)
        check(os.path.getsize(path) == 0, "the empty file was touched")
        # removing it is asking for a fresh install
        os.remove(path)
        for extra in ("-wal", "-shm"):
            if os.path.exists(path + extra):
                os.remove(path + extra)
        s.start()
        check(s.get("/healthz").status == 200, "no fresh start")
    print("ok")


if __name__ == "__main__":
    main()
