// The organisation tree in headless Chromium (issue 19, point 1). The province admin (the root's
// "admin") renames the root (the header follows) and adds, through the console, a producer unit
// and a commune unit under it, a commune in that unit and a commune officer (an admin of that
// unit). The officer sees their unit in the
// header, only their commune, only their unit in "Tổ chức", and the rule defaults read-only (no
// save). Back as the province admin: deleting a unit with a commune is refused in words (409),
// and moving a unit from a page made stale by another admin (the parent picked is now its own
// child) shows the server's 409 in words and changes nothing.
// Screenshot: nodes.

import { check, finish, launch, loadPlaywright, loginAs, newPage, run, screenshot } from './lib.mjs';

await run(async (server) => {
  const pw = await loadPlaywright();
  const admin = await server.admin();
  // a commune at the root: the officer must not see it
  check((await server.api('POST', '/api/v1/communes', {id: 'quang-an', name: 'Xã Quảng An', population: 9000}, admin))
    .status === 201, 'quang-an');
  const nodeId = async (name) => {
    const r = await server.api('GET', '/api/v1/nodes', undefined, admin);
    const n = r.json.nodes.find((x) => x.name === name);
    check(n, `no node ${name}: ${r.text}`);
    return n;
  };
  const root = (await server.api('GET', '/api/v1/nodes', undefined, admin)).json.nodes[0];
  check(root.parent === null, root);

  const problems = [];
  const {ctx, close} = await launch(pw);
  try {
    // ---- the province admin builds the tree ----
    const ad = await newPage(ctx, problems);
    await loginAs(ad, server, 'admin', 'admin-pass-123');
    check((await ad.textContent('#who-node')) === root.name, 'the header names the root');
    await ad.click('a[data-screen="nodes"]');
    await ad.waitForSelector(`#nodes-table tr[data-id="${root.id}"]`);
    // one's own unit is renamed, not moved; the header follows
    await ad.click(`#nodes-table tr[data-id="${root.id}"] button.link`);
    check(await ad.locator('#node-edit-parent').count() === 0, 'one\'s own unit offered a move');
    await ad.fill('#node-edit-name', 'Tỉnh Quảng Trị');
    await ad.click('#node-edit-save');
    await ad.waitForFunction(() => document.getElementById('who-node').textContent === 'Tỉnh Quảng Trị');
    root.name = 'Tỉnh Quảng Trị';
    await ad.waitForSelector(`#nodes-table tr[data-id="${root.id}"]`);
    check(await ad.inputValue('#node-parent') === String(root.id), 'a new unit goes under one\'s own by default');
    await ad.fill('#node-name', 'Đài khu vực Quảng Trạch');
    await ad.click('#node-save');
    await ad.waitForSelector('#nodes-table tr[data-depth="1"]');
    const producer = await nodeId('Đài khu vực Quảng Trạch');
    check(producer.parent === root.id, producer);
    await ad.fill('#node-name', 'UBND xã Quảng Phú');
    await ad.selectOption('#node-parent', String(producer.id));
    await ad.click('#node-save');
    await ad.waitForSelector('#nodes-table tr[data-depth="2"]');
    const unit = await nodeId('UBND xã Quảng Phú');
    check(unit.parent === producer.id, unit);
    // an empty name is refused before it is sent
    await ad.click('#node-save');
    await ad.waitForSelector('#node-add-error:not([hidden])');

    // a commune in the commune unit (the select defaults to one's own unit)
    await ad.click('a[data-screen="communes"]');
    await ad.waitForSelector('#communes-table tr[data-id="quang-an"]');
    await ad.click('#add-commune');
    check(await ad.inputValue('#co-node') === String(root.id), 'the commune form defaults to one\'s unit');
    await ad.fill('#co-name', 'Xã Quảng Phú');
    await ad.fill('#co-population', '12000');
    await ad.selectOption('#co-node', String(unit.id));
    await ad.click('#co-save');
    await ad.waitForSelector('#communes-table tr[data-id="quang-phu"]');
    check((await ad.textContent('#communes-table tr[data-id="quang-phu"] td.node')) === 'UBND xã Quảng Phú', 'node column');
    check((await ad.textContent('#communes-table tr[data-id="quang-an"] td.node')) === root.name, 'root commune');
    const co = (await server.api('GET', '/api/v1/communes/quang-phu', undefined, admin)).json;
    check(co.node === unit.id, co);

    // the commune officer: an admin of the commune unit
    await ad.click('a[data-screen="users"]');
    await ad.waitForSelector('#users-table tr[data-name="admin"]');
    await ad.fill('#u-name', 'phu-admin');
    await ad.fill('#u-password', 'phu-admin-password');
    await ad.selectOption('#u-role', 'admin');
    await ad.selectOption('#u-node', String(unit.id));
    await ad.click('#u-save');
    await ad.waitForSelector('#users-table tr[data-name="phu-admin"]');
    check(await ad.inputValue('#users-table tr[data-name="phu-admin"] select.u-node') === String(unit.id), 'user node shown');
    const us = (await server.api('GET', '/api/v1/users', undefined, admin)).json.users;
    check(us.some((u) => u.username === 'phu-admin' && u.role === 'admin' && u.node === unit.id), us);

    // ---- the officer sees only their unit ----
    const of = await newPage(ctx, problems);
    await loginAs(of, server, 'phu-admin');
    check((await of.textContent('#who-node')) === 'UBND xã Quảng Phú', 'the officer\'s header');
    await of.click('a[data-screen="communes"]');
    await of.waitForSelector('#communes-table tr[data-id="quang-phu"]');
    const rows = await of.$$eval('#communes-table tbody tr', (trs) => trs.map((tr) => tr.dataset.id));
    check(rows.length === 1 && rows[0] === 'quang-phu', rows);
    await of.click('a[data-screen="nodes"]');
    await of.waitForSelector(`#nodes-table tr[data-id="${unit.id}"]`);
    const nodes = await of.$$eval('#nodes-table tbody tr', (trs) => trs.map((tr) => tr.dataset.id));
    check(nodes.length === 1, nodes);
    const counts = await of.$$eval(`#nodes-table tr[data-id="${unit.id}"] td.num`, (tds) => tds.map((x) => x.textContent));
    check(counts.join() === '1,1', 'one commune, one account: ' + counts);
    check(await of.locator('button:has-text("Xoá")').count() === 0, 'one\'s own unit offers delete');
    await of.click('a[data-screen="rules"]');
    await of.waitForSelector('#rules-locked');
    check(await of.locator('#rules-save').count() === 0, 'the officer may save the rule defaults');
    check(await of.$eval('#rules-editor', (f) => f.disabled), 'the defaults are editable');
    check((await of.textContent('#rules-locked')).includes('cấp tỉnh'), 'no explanation');

    // ---- back to the province admin ----
    await ad.bringToFront();
    await ad.click('a[data-screen="nodes"]');
    await ad.waitForSelector(`#nodes-table tr[data-id="${unit.id}"]`);
    const cnt = await ad.$$eval(`#nodes-table tr[data-id="${producer.id}"] td.num`, (tds) => tds.map((x) => x.textContent));
    check(cnt.join() === '1,1', 'the producer counts what is below it: ' + cnt);
    // a unit with a commune is not deleted: the reason in words
    await ad.click(`#nodes-table tr[data-id="${unit.id}"] button.danger`);
    await ad.click('#dialog-ok');
    await ad.waitForFunction(() => /còn 1 xã/.test(document.getElementById('toast').textContent));
    check((await nodeId('UBND xã Quảng Phú')).id === unit.id, 'the unit is gone');

    // a unit made by another admin; its form offers every unit but itself
    const spare = (await server.api('POST', '/api/v1/nodes', {name: 'Đài khu vực Ba Đồn'}, admin)).json;
    await ad.click('a[data-screen="communes"]');
    await ad.click('a[data-screen="nodes"]');
    await ad.click(`#nodes-table tr[data-id="${spare.id}"] button.link:not(.danger)`);
    const offered = await ad.$$eval('#node-edit-parent option', (os) => os.map((o) => Number(o.value)));
    check(!offered.includes(spare.id) && offered.includes(producer.id), offered);
    // meanwhile the producer moves under it: the page is stale, the producer is now its child
    check((await server.api('PATCH', `/api/v1/nodes/${producer.id}`, {parent: spare.id}, admin)).status === 200, 'move');
    await ad.selectOption('#node-edit-parent', String(producer.id));
    await ad.click('#node-edit-save');
    await ad.waitForSelector('#node-edit-error:not([hidden])');
    const err = await ad.textContent('#node-edit-error');
    check(err.includes('dưới chính nó'), err);
    check((await nodeId('Đài khu vực Ba Đồn')).parent === root.id, 'the refused move changed the tree');
    await screenshot(ad, 'nodes');
    await ad.click('#node-edit-form button[type="button"]');
    await ad.click('a[data-screen="communes"]');
    await ad.click('a[data-screen="nodes"]');
    await ad.waitForSelector(`#nodes-table tr[data-id="${unit.id}"][data-depth="3"]`);   // redrawn: under Ba Đồn
  } finally {
    await close();
  }
  finish(problems);
});
