#!/usr/bin/env python3
"""The station lexicon through a real `loacast serve` (server/lexicon/, issue 20 point 7): one
server, and in turn
- the issue's readings through POST /api/v1/normalize (phone in dotted groups, ĐT100, PTNT,
  125/QĐ-UBND), and the `[audio] lexicon` TSV file in use;
- PUT an entry: 201, listed with who/when, audited; the lexicon in use reads it at once (the
  answer comes after the swap); PUT again: 200, the new reading; the entry survives a restart;
- bad input (empty word, digits in the reading, too long, a space in the word, no reading): 4xx,
  and neither the list nor the reading changed;
- a trial entry (word/reading in the body) changes that answer only;
- POST /api/v1/lexicon/preview: an Ogg Opus file that ffprobe decodes (duration > 0) and the
  spoken text in X-Loacast-Spoken;
- DELETE: 204, the built-in reading is back; again: 404; an operator may read, not write."""
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from lcserver import Server, check  # noqa: E402


def spoken(s, tok, text, **trial):
    r = s.post("/api/v1/normalize", dict(text=text, **trial), tok)
    check(r.status == 200, r)
    return r.json()["spoken"]


def put(s, tok, word, reading):
    return s.request("PUT", "/api/v1/lexicon/" + urllib.parse.quote(word, safe=""),
                     {"reading": reading}, tok)


def main():
    tmp = tempfile.mkdtemp(prefix="loacast-lex-")
    tsv = os.path.join(tmp, "station.tsv")
    with open(tsv, "w", encoding="utf-8") as f:
        f.write("# the station's file\nBQLCX\tBan quản lý chợ xã\n")
    with Server(config="[audio]\nlexicon = %s\n" % tsv, tmp=tmp) as s:
        s.start()
        admin = s.admin()
        editor = s.make_user(admin, "bien-tap", "editor")
        operator = s.make_user(admin, "van-hanh", "operator")

        # the readings, and the TSV file in use
        out = spoken(s, editor, "Gọi 0235.3.888.999 về giống ĐT100 của PTNT theo 125/QĐ-UBND, BQLCX.")
        want = ("Gọi không hai ba năm, ba, tám tám tám, chín chín chín về giống đê tê một không "
                "không của phát triển nông thôn theo một trăm hai mươi lăm quyết định Ủy ban nhân "
                "dân, Ban quản lý chợ xã.")
        check(out == want, out)

        # a new entry: at once, listed, audited
        r = put(s, editor, "HTXDV", "hợp tác xã dịch vụ")
        check(r.status == 201 and r.json()["updated_by"] == "bien-tap", r)
        check("hợp tác xã dịch vụ" in spoken(s, editor, "Họp HTXDV."), "not in use")
        r = put(s, editor, "PTNT", "phát triển nông thôn mới")   # a built-in one, corrected
        check(r.status == 201, r)
        check(spoken(s, operator, "PTNT") == "phát triển nông thôn mới.", "override")
        r = put(s, admin, "HTXDV", "hợp tác xã dịch vụ nông nghiệp")
        check(r.status == 200 and r.json()["reading"] == "hợp tác xã dịch vụ nông nghiệp", r)
        a = s.get("/api/v1/audit?action=lexicon_put", admin).json()["audit"]
        check(len(a) == 3 and a[0]["actor"] == "admin" and a[0]["target"] == "HTXDV", a)
        # a word with "/" and "&" travels percent-encoded in the path
        check(put(s, editor, "đ/c&tv", "đồng chí và thành viên").status == 201, "slash")
        check("đồng chí và thành viên" in spoken(s, editor, "Mời đ/c&tv dự họp."), "slash use")

        # bad input: 4xx, nothing changed
        before = s.get("/api/v1/lexicon", editor).json()["entries"]
        for word, body, status in [
                ("HTXDV", {"reading": "một 2 ba"}, 422),            # digits in the reading
                ("HTXDV", {"reading": "   "}, 422),                 # empty reading
                ("HTXDV", {"reading": "x" * 400}, 422),             # too long
                ("HTXDV", {"reading": "a <b>"}, 422),               # symbols
                ("HTXDV", {}, 400),                                 # no reading
                ("HTXDV", {"reading": "a", "extra": 1}, 400),       # unknown field
                ("A%20B", {"reading": "a bê"}, 422),                # a space in the word
                ("%20", {"reading": "a"}, 422),                     # an empty word
                ("X" * 80, {"reading": "a"}, 422)]:                 # too long a word
            r = s.request("PUT", "/api/v1/lexicon/" + word, body, editor)
            check(r.status == status, (word, body, r))
        check(s.request("PUT", "/api/v1/lexicon/PTNT", {"reading": "a"}, operator).status == 403,
              "operator writes")
        check(s.get("/api/v1/lexicon", editor).json()["entries"] == before, "changed by bad input")
        check("hợp tác xã dịch vụ nông nghiệp" in spoken(s, editor, "HTXDV"), "reading changed")

        # a trial entry changes that answer only
        check(spoken(s, editor, "HTXDV", word="HTXDV", reading="hát tê ích") == "hát tê ích.", "trial")
        check("nông nghiệp" in spoken(s, editor, "HTXDV"), "the trial leaked")
        check(s.post("/api/v1/normalize", {"text": "a", "word": "X"}, editor).status == 422, "half")
        check(s.post("/api/v1/normalize", {"text": "...."}, editor).status == 422, "nothing to say")

        # the audio of a sentence, and its spoken text
        r = s.post("/api/v1/lexicon/preview", {"text": "HTXDV họp lúc 8h.", "word": "HTXDV",
                                               "reading": "hợp tác xã"}, editor)
        check(r.status == 200 and r.headers["content-type"] == "audio/ogg", r)
        check(urllib.parse.unquote(r.headers["x-loacast-spoken"]) == "hợp tác xã họp lúc tám giờ.",
              r.headers)
        ogg = os.path.join(tmp, "preview.ogg")
        with open(ogg, "wb") as f:
            f.write(r.body)
        p = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name",
                            "-of", "json", ogg], capture_output=True, text=True)
        info = json.loads(p.stdout)
        dur = float(info["format"]["duration"])
        check(info["streams"][0]["codec_name"] == "opus" and dur > 0.5, info)

        # the entries survive a restart
        s.stop()
        s.start()
        editor = s.login("bien-tap", "bien-tap-password")
        check(spoken(s, editor, "PTNT") == "phát triển nông thôn mới.", "after restart")

        # delete: the built-in reading is back
        r = s.request("DELETE", "/api/v1/lexicon/PTNT", None, editor)
        check(r.status == 204, r)
        check(spoken(s, editor, "PTNT") == "phát triển nông thôn.", "built-in back")
        check(s.request("DELETE", "/api/v1/lexicon/PTNT", None, editor).status == 404, "twice")
        words = [e["word"] for e in s.get("/api/v1/lexicon", editor).json()["entries"]]
        check(words == sorted(["HTXDV", "đ/c&tv"]), words)
    print("ok: station lexicon (put, override, trial, preview %.1f s of Ogg Opus, restart, delete, "
          "bad input refused)" % dur)


main()
