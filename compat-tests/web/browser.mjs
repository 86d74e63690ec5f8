// Real-browser checks of supervisord's web UI, one scenario per run:
//   node browser.mjs <scenario> <base url> <artifacts dir>
// Drives headless Chromium (Debian's /usr/bin/chromium) with playwright-core. Every wait has a
// deadline; any unmet expectation exits non-zero with a message saying what was expected.
// The daemon must have programs sleeper, echoer and the group grp (g1, g2), all running.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [scenario, base, artifacts] = process.argv.slice(2);
if (!scenario || !base || !artifacts) {
  console.error('usage: node browser.mjs <scenario> <base url> <artifacts dir>');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const TIMEOUT = 15000;
const url = (path) => new URL(path, base.endsWith('/') ? base : base + '/').href;

class Unmet extends Error {}
const check = (ok, what) => { if (!ok) throw new Unmet(`expected ${what}`); };

// XML-RPC from Node (string and int parameters): the "someone else" acting on the daemon.
async function rpc(method, ...params) {
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params
    .map((p) => `<param><value>${typeof p === 'number' ? `<int>${p}</int>` : `<string>${esc(p)}</string>`}</value></param>`).join('')}</params></methodCall>`;
  const r = await fetch(url('RPC2'), { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body });
  const text = await r.text();
  if (!r.ok || text.includes('<fault>')) throw new Unmet(`${method}(${params}) to succeed, got ${r.status}: ${text}`);
  return text;
}

// Waits until fn(arg) is truthy in the page; on timeout says what and shows the page's state.
async function until(page, what, fn, arg) {
  try {
    return await page.waitForFunction(fn, arg, { timeout: TIMEOUT, polling: 50 });
  } catch (e) {
    const rows = await page.evaluate(() => Array.from(document.querySelectorAll('tr.process')).map((r) =>
      `${r.dataset.namespec}=${r.dataset.state}${r.classList.contains('hidden') ? '(hidden)' : ''}`).join(' ')).catch(() => '?');
    const msg = await page.locator('#message').textContent({ timeout: 1000 }).catch(() => '?');
    throw new Unmet(`${what} within ${TIMEOUT} ms (${e.message.split('\n')[0]}); url=${page.url()} rows: ${rows}; message: ${msg}`);
  }
}

const row = (ns) => `tr.process[data-namespec="${ns}"]`;
const badge = (page, ns) => page.locator(`${row(ns)} td.status span`);
const stateIs = (page, ns, state) => until(page, `${ns} to show ${state}`, ([sel, st]) => {
  const s = document.querySelector(sel + ' td.status span');
  return s && s.textContent.trim() === st && s.closest('tr').dataset.state === st;
}, [row(ns), state]);
const messageIs = (page, text) => until(page, `#message to say "${text}"`, (t) => {
  const m = document.querySelector('#message');
  return m && !m.classList.contains('hidden') && getComputedStyle(m).display !== 'none' && m.textContent.includes(t);
}, text);
const pidOf = async (page, ns) => {
  const d = await page.locator(`${row(ns)} td.desc`).textContent({ timeout: TIMEOUT });
  const m = /pid (\d+)/.exec(d);
  check(m, `a pid in ${ns}'s description, got "${d}"`);
  return m[1];
};
const click = (page, selector) => page.locator(selector).click({ timeout: TIMEOUT });
const visibleRows = (page) => page.evaluate(() => Array.from(document.querySelectorAll('tr.process'))
  .filter((r) => r.getClientRects().length > 0).map((r) => r.dataset.namespec).sort().join(','));
const rowsAre = (page, what, expected) => until(page, `visible rows ${expected} (${what})`, (exp) =>
  Array.from(document.querySelectorAll('tr.process')).filter((r) => r.getClientRects().length > 0)
    .map((r) => r.dataset.namespec).sort().join(',') === exp, expected);

function watchErrors(page, errors) {
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
}

const scenarios = {
  // Row actions through the API, without reloading the page.
  async live(page) {
    await page.goto(url(''));
    await page.evaluate(() => { window.__marker = 1; });
    await stateIs(page, 'sleeper', 'running');
    await click(page, `${row('sleeper')} a[data-action=stop]`);
    await stateIs(page, 'sleeper', 'stopped');
    await messageIs(page, 'Process sleeper stopped');
    check(page.url() === url(''), `no navigation, url is ${page.url()}`);
    await click(page, `${row('sleeper')} a[data-action=start]`);
    await stateIs(page, 'sleeper', 'running');
    await messageIs(page, 'Process sleeper started');
    const before = await pidOf(page, 'sleeper');
    await click(page, `${row('sleeper')} a[data-action=restart]`);
    await messageIs(page, 'Process sleeper restarted');
    await stateIs(page, 'sleeper', 'running');
    await until(page, `a new pid for sleeper (was ${before})`, ([sel, pid]) => {
      const m = /pid (\d+)/.exec(document.querySelector(sel + ' td.desc').textContent);
      return m && m[1] !== pid;
    }, [row('sleeper'), before]);
    check(await page.evaluate(() => window.__marker) === 1, 'window.__marker to survive (no reload)');
    await page.screenshot({ path: join(artifacts, 'status.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(artifacts, 'status-dark.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 800 });
    await page.screenshot({ path: join(artifacts, 'status-narrow.png'), fullPage: true });
  },

  // A group's header actions act on all its members.
  async group(page) {
    await page.goto(url(''));
    await page.evaluate(() => { window.__marker = 1; });
    const g = 'tbody.group[data-group="grp"] tr.group-row';
    await until(page, 'grp counts "2 of 2 running"', (s) => document.querySelector(s + ' .counts')?.textContent === '2 of 2 running', g);
    await click(page, `${g} a[data-action=stopgroup]`);
    await stateIs(page, 'grp:g1', 'stopped');
    await stateIs(page, 'grp:g2', 'stopped');
    await messageIs(page, 'Group grp stopped');
    await until(page, 'grp counts "0 of 2 running"', (s) => document.querySelector(s + ' .counts')?.textContent === '0 of 2 running', g);
    await click(page, `${g} a[data-action=startgroup]`);
    await stateIs(page, 'grp:g1', 'running');
    await stateIs(page, 'grp:g2', 'running');
    await messageIs(page, 'Group grp started');
    check(await page.evaluate(() => window.__marker) === 1, 'window.__marker to survive (no reload)');
  },

  // Live filtering by name and state, the URL kept in sync, nothing reloaded.
  async filter(page) {
    await page.goto(url(''));
    await page.evaluate(() => { window.__marker = 1; });
    const all = 'echoer,grp:g1,grp:g2,sleeper';
    await rowsAre(page, 'at first', all);
    await page.locator('input[name=q]').fill('GRP', { timeout: TIMEOUT });
    await rowsAre(page, 'q=GRP', 'grp:g1,grp:g2');
    check(new URL(page.url()).searchParams.get('q') === 'GRP', `q=GRP in the url, got ${page.url()}`);
    await page.locator('input[name=q]').press('Enter');
    await rowsAre(page, 'after Enter', 'grp:g1,grp:g2');
    await page.locator('input[name=q]').fill('');
    await rpc('supervisor.stopProcess', 'sleeper');
    await page.locator('select[name=state]').selectOption('stopped', { timeout: TIMEOUT });
    await rowsAre(page, 'state=stopped', 'sleeper');
    check(new URL(page.url()).searchParams.get('state') === 'stopped', `state=stopped in the url, got ${page.url()}`);
    await rpc('supervisor.startProcess', 'sleeper');
    await until(page, '"No processes match the filter" once nothing is stopped',
      () => document.querySelector('#nomatch')?.getClientRects().length > 0);
    await page.locator('select[name=state]').selectOption('', { timeout: TIMEOUT });
    await rowsAre(page, 'filters cleared', all);
    check(!new URL(page.url()).search, `a clean url, got ${page.url()}`);
    check(await page.evaluate(() => window.__marker) === 1, 'window.__marker to survive (no reload)');
  },

  // A change made elsewhere (XML-RPC) shows up by polling.
  async external(page) {
    await page.goto(url(''));
    await page.evaluate(() => { window.__marker = 1; });
    await stateIs(page, 'sleeper', 'running');
    await rpc('supervisor.stopProcess', 'sleeper');
    await stateIs(page, 'sleeper', 'stopped');
    await rpc('supervisor.startProcess', 'sleeper');
    await stateIs(page, 'sleeper', 'running');
    check(await page.evaluate(() => window.__marker) === 1, 'window.__marker to survive (no reload)');
  },

  // The tail page follows stdout and stderr as they grow.
  async tail(page) {
    await page.goto(url('tail.html?processname=echoer'));
    await page.evaluate(() => { window.__marker = 1; });
    await page.locator('#stderr-log').waitFor({ state: 'visible', timeout: TIMEOUT });
    await page.locator('#refresh').waitFor({ state: 'hidden', timeout: TIMEOUT });
    const token = `hello-${Math.random().toString(36).slice(2, 10)}`;
    for (let i = 1; i <= 3; i++) await rpc('supervisor.sendProcessStdin', 'echoer', `line ${i} before ${token}\n`);
    await rpc('supervisor.sendProcessStdin', 'echoer', `${token}\n`);
    await until(page, `#stdout to show out:${token}`, (t) => document.querySelector('#stdout').textContent.includes(`out:${t}`), token);
    await until(page, `#stderr to show err:${token}`, (t) => document.querySelector('#stderr').textContent.includes(`err:${t}`), token);
    const out = await page.locator('#stdout').textContent();
    check(out.split(`out:${token}\n`).length === 2, `out:${token} once in #stdout, got ${JSON.stringify(out.slice(-300))}`);
    check(await page.evaluate(() => window.__marker) === 1, 'window.__marker to survive (no reload)');
    await page.screenshot({ path: join(artifacts, 'tail.png'), fullPage: true });
  },

  // Without JavaScript: plain links, the server's redirects and messages.
  async nojs(page) {
    await page.goto(url(''));
    await click(page, `${row('sleeper')} a[data-action=stop]`);
    await page.waitForURL(/\?message=Process%20sleeper%20stopped/, { timeout: TIMEOUT });
    check((await page.locator('#message').textContent()).includes('Process sleeper stopped'), '#message to say Process sleeper stopped');
    check((await badge(page, 'sleeper').textContent()) === 'stopped', 'sleeper to show stopped');
    await click(page, `${row('sleeper')} a[data-action=start]`);
    await page.waitForURL(/\?message=Process%20sleeper%20started/, { timeout: TIMEOUT });
    check((await badge(page, 'sleeper').textContent()) === 'running', 'sleeper to show running');
    await page.screenshot({ path: join(artifacts, 'nojs.png'), fullPage: true });
    const token = `nojs-${Math.random().toString(36).slice(2, 10)}`;
    await rpc('supervisor.sendProcessStdin', 'echoer', `${token}\n`);
    const deadline = Date.now() + TIMEOUT;
    while (!(await rpc('supervisor.tailProcessStdoutLog', 'echoer', 0, 4096)).includes(token)) {
      check(Date.now() < deadline, `echoer's stdout log to contain out:${token}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    await page.goto(url('tail.html?processname=echoer'));
    check((await page.locator('#stdout').textContent()).includes(`out:${token}`), `#stdout to show out:${token}`);
    check(await page.locator('#refresh').isVisible(), 'the Refresh link to be visible');
    check(await page.locator('#stderr-log').isHidden(), '#stderr-log to stay hidden');
    await page.screenshot({ path: join(artifacts, 'nojs-tail.png'), fullPage: true });
  },
};

const run = scenarios[scenario];
if (!run) {
  console.error(`unknown scenario ${scenario}; known: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: 60000,
});
let failed = false;
try {
  const context = await browser.newContext({ javaScriptEnabled: scenario !== 'nojs', viewport: { width: 1200, height: 700 } });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const errors = [];
  watchErrors(page, errors);
  await run(page);
  check(errors.length === 0, `no JavaScript errors, got:\n${errors.join('\n')}`);
  console.log(`ok ${scenario}`);
} catch (e) {
  failed = true;
  console.error(`FAIL ${scenario}: ${e instanceof Unmet ? e.message : e.stack}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
