#!/usr/bin/env python3
"""Runs TSV example files (columns id, category, input, expected_normalised) through
`loacast normalize` and compares each line as READING.md's last paragraph says: NFC, lower case,
tone-mark placement unified (hòa = hoà, ủy = uỷ), punctuation dropped, hyphens = spaces,
whitespace collapsed.

Usage: examples_test.py [FILE.tsv ...]
With no argument: the shared sample ($LOACAST_SOURCE_ROOT/../shared/data/normalize-examples.tsv,
or the copy in tests/normalize/ when shared/ is absent). The binary is $LOACAST.
Deviations (deviations.tsv beside this file, same columns): where the project chose another
reading than the shared sample (docs/normalization.md, "Deviations from READING.md"), the row
with the same id and the same input is compared with the deviation's expected text instead.
Python 3 standard library only.
"""
import os
import re
import subprocess
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))

# old-style tone placement (hòa, ủy) -> new style (hoà, uỷ): the tone moves to the second vowel
TONES = '\u0300\u0301\u0303\u0309\u0323'


def unify_tones(word):
    d = unicodedata.normalize('NFD', word)
    base = ''.join(ch for ch in d if ch not in TONES)
    tones = [ch for ch in d if ch in TONES]
    if not tones:
        return unicodedata.normalize('NFC', d)
    # canonical key: the toneless word plus the tone, whatever vowel carried it
    return unicodedata.normalize('NFC', base) + '#' + tones[0]


def fold(text):
    s = unicodedata.normalize('NFC', text).lower()
    s = s.replace('-', ' ').replace('\u2013', ' ').replace('\u2014', ' ')
    s = re.sub(r'[^\w\s]', ' ', s)
    return ' '.join(unify_tones(w) for w in s.split())


def default_files():
    root = os.environ.get('LOACAST_SOURCE_ROOT', os.path.join(HERE, '..', '..'))
    shared = os.path.join(root, '..', 'shared', 'data', 'normalize-examples.tsv')
    if os.path.exists(shared):
        return [shared]
    return [os.path.join(HERE, 'normalize-examples.tsv')]


def load(path):
    rows = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n').rstrip('\r')
            if not line or line.startswith('#'):
                continue
            cols = line.split('\t')
            if cols[0] == 'id':
                continue
            if len(cols) != 4:
                sys.exit('%s:%d: expected 4 columns, got %d' % (path, n, len(cols)))
            rows.append(cols)
    return rows


def deviations():
    path = os.path.join(HERE, 'deviations.tsv')
    return {(r[0], r[2]): r[3] for r in load(path)} if os.path.exists(path) else {}


def main():
    dev = deviations()
    exe = os.environ.get('LOACAST')
    if not exe:
        sys.exit('LOACAST is not set')
    files = sys.argv[1:] or default_files()
    total = failed = 0
    for path in files:
        rows = load(path)
        # one process per file: every input on its own line, one output line each
        text = '\n'.join(r[2] for r in rows) + '\n'
        p = subprocess.run([exe, 'normalize', '-'], input=text.encode('utf-8'),
                           capture_output=True, timeout=60)
        if p.returncode != 0:
            print('%s: loacast normalize failed: %s' % (path, p.stderr.decode()), file=sys.stderr)
            return 1
        out = p.stdout.decode('utf-8').split('\n')
        for k, (rid, cat, inp, exp) in enumerate(rows):
            total += 1
            exp = dev.get((rid, inp), exp)
            got = out[k] if k < len(out) else ''
            if fold(got) != fold(exp):
                failed += 1
                print('FAIL %s [%s]\n  input:    %s\n  expected: %s\n  got:      %s'
                      % (rid, cat, inp, exp, got))
    print('%d lines, %d passed, %d failed' % (total, total - failed, failed))
    return 1 if failed else 0


sys.exit(main())
