// The "Cách đọc" screen (station lexicon, issue 20) in headless Chromium against a real server:
// an editor tries a word before saving it ("Nghe thử": the <audio> element gets a playable Ogg
// Opus, duration > 0, and the spoken text is shown), saves it, finds it in the list, hears the
// sentence again without the form (the saved reading is in use for every render: the server's
// normaliser says so), sees a reading with digits refused in words with nothing stored, and
// deletes the entry (the built-in reading is back). An operator sees the list without buttons.
// Screenshot: lexicon.

import { check, finish, launch, loadPlaywright, loginAs, newPage, run, screenshot, waitFor } from './lib.mjs';

await run(async (server) => {
  const pw = await loadPlaywright();
  const admin = await server.admin();
  await server.makeUser(admin, 'eva', 'editor');
  await server.makeUser(admin, 'olga', 'operator');
  const spokenNow = async (text) => (await server.api('POST', '/api/v1/normalize', {text}, admin)).json.spoken;
  const before = await spokenNow('Giống ĐT100 của HTXDV.');
  check(before.includes('đê tê một không không') && !before.includes('hợp tác xã'), before);

  const problems = [];
  const {ctx, close} = await launch(pw);
  try {
    const ed = await newPage(ctx, problems);
    await loginAs(ed, server, 'eva');
    await ed.click('a[data-screen="lexicon"]');
    await ed.waitForSelector('#lx-none');

    // try before saving: the audio plays from the POST's blob, the spoken text shows the entry
    await ed.fill('#lx-text', 'Giống lúa ĐT100 của HTXDV, liên hệ 0235.3.888.999.');
    await ed.fill('#lx-word', 'HTXDV');
    await ed.fill('#lx-reading', 'hợp tác xã dịch vụ');
    await ed.click('#lx-listen');
    await waitFor(async () => (await ed.textContent('#lx-spoken')).includes('hợp tác xã dịch vụ'), 15000, 'the spoken text');
    const spoken = await ed.textContent('#lx-spoken');
    check(spoken.includes('đê tê một không không') && spoken.includes('không hai ba năm, ba, tám tám tám'), spoken);
    const dur = await waitFor(() => ed.evaluate(() => {
      const a = document.getElementById('lx-audio');
      return a.readyState >= 1 && isFinite(a.duration) && a.duration > 0 ? a.duration : 0;
    }), 15000, 'the preview audio loaded');
    check(dur > 1, 'duration ' + dur);
    check((await server.api('GET', '/api/v1/lexicon', undefined, admin)).json.entries.length === 0, 'a try stored something');

    // a reading with digits: refused in words, nothing stored
    await ed.fill('#lx-reading', 'hợp tác xã số 2');
    await ed.click('#lx-save');
    await ed.waitForSelector('#lx-error:not([hidden])');
    check((await ed.textContent('#lx-error')).includes('Không dùng được'), await ed.textContent('#lx-error'));
    check((await server.api('GET', '/api/v1/lexicon', undefined, admin)).json.entries.length === 0, 'a bad entry stored');

    // save: listed with who, and in use for everything read afterwards
    await ed.fill('#lx-reading', 'hợp tác xã dịch vụ');
    await ed.click('#lx-save');
    await ed.waitForSelector('#lx-table tr[data-word="HTXDV"]');
    check((await ed.textContent('#lx-table tr[data-word="HTXDV"]')).includes('eva'), 'who');
    check((await spokenNow('Họp HTXDV.')) === 'Họp hợp tác xã dịch vụ.', await spokenNow('Họp HTXDV.'));
    await ed.fill('#lx-word', '');
    await ed.fill('#lx-reading', '');
    await ed.evaluate(() => { document.getElementById('lx-spoken').textContent = ''; });
    await ed.click('#lx-listen');
    await waitFor(async () => (await ed.textContent('#lx-spoken')).includes('hợp tác xã dịch vụ'), 15000, 'the saved reading heard');
    await ed.fill('#lx-search', 'dịch vụ');
    check(await ed.locator('#lx-table tr[data-word="HTXDV"]').count() === 1, 'search');
    await screenshot(ed, 'lexicon');

    // an operator reads the list, without the buttons that change it
    const op = await newPage(ctx, problems);
    await loginAs(op, server, 'olga');
    await op.click('a[data-screen="lexicon"]');
    await op.waitForSelector('#lx-table tr[data-word="HTXDV"]');
    check(await op.locator('#lx-save').count() === 0 && await op.locator('#lx-table button').count() === 0, 'operator buttons');
    await op.close();

    // delete: the built-in way again
    await ed.click('#lx-table tr[data-word="HTXDV"] button.danger');
    await ed.click('#dialog-ok');
    await ed.waitForSelector('#lx-none');
    check(!(await spokenNow('Họp HTXDV.')).includes('hợp tác xã'), 'deleted entry still in use');
  } finally {
    await close();
  }
  finish(problems);
});
