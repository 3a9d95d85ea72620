#!/usr/bin/env python3
"""A station's own lexicon file changes `loacast normalize` output without a rebuild:
a new entry is expanded, a built-in entry is overridden, and a malformed file is a clear error
(non-zero exit, message naming file and line). Python 3 standard library only; $LOACAST is the
binary."""
import os
import subprocess
import sys
import tempfile

exe = os.environ.get('LOACAST') or sys.exit('LOACAST is not set')
TEXT = 'Họp BQLCX tại trụ sở UBND xã.\n'


def run(*args, text=TEXT):
    p = subprocess.run([exe, 'normalize', *args, '-'], input=text.encode('utf-8'),
                       capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode('utf-8'), p.stderr.decode('utf-8')


failures = 0


def check(cond, msg):
    global failures
    if not cond:
        failures += 1
        print('FAIL:', msg)


rc, before, _ = run()
check(rc == 0, 'plain run failed')
check('bê quy lờ xê ích' in before, 'unknown BQLCX should be spelled: ' + before)
check('Ủy ban nhân dân' in before, 'built-in UBND: ' + before)

with tempfile.TemporaryDirectory() as d:
    lex = os.path.join(d, 'station.tsv')
    with open(lex, 'w', encoding='utf-8') as f:
        f.write('# our station\nBQLCX\tBan quản lý chợ xã\nUBND\tỦy ban\n')
    rc, after, err = run('--lexicon', lex)
    check(rc == 0, 'run with --lexicon failed: ' + err)
    check('Ban quản lý chợ xã' in after, 'station entry not used: ' + after)
    check('Ủy ban xã' in after and 'nhân dân' not in after, 'override not used: ' + after)

    # edit the file: the next run sees the change (no rebuild, no cache)
    with open(lex, 'a', encoding='utf-8') as f:
        f.write('HTXDVNN\thợp tác xã dịch vụ nông nghiệp\n')
    rc, after2, _ = run('--lexicon', lex, text='Các HTXDVNN\n')
    check(rc == 0 and 'hợp tác xã dịch vụ nông nghiệp' in after2,
          'edited file not re-read: ' + after2)

    bad = os.path.join(d, 'bad.tsv')
    with open(bad, 'w', encoding='utf-8') as f:
        f.write('OK\tfine\nno tab here\n')
    rc, _, err = run('--lexicon', bad)
    check(rc != 0 and 'bad.tsv:2' in err, 'malformed file: rc=%d err=%s' % (rc, err))

    rc, _, err = run('--lexicon', os.path.join(d, 'missing.tsv'))
    check(rc != 0 and 'missing.tsv' in err, 'missing file: rc=%d err=%s' % (rc, err))

print('station lexicon: %d failures' % failures)
sys.exit(1 if failures else 0)
