// The live page in a real browser: Debian's Chromium, headless, driven over the DevTools protocol
// (puppeteer-core, no browser download). The diagram renders every host, a host turns from
// booting to failed with its reason and log lines as reports arrive over Server-Sent Events,
// text a host sent stays text, and the console shows no error (a CSP violation would be one).
// The screenshot is kept under test-artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Page } from 'puppeteer-core';
import { call, HOSTS, makeCluster, report, serve } from '../helpers/serve.js';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools } from '../helpers/tools.js';

const skip = missingTools('chromium');
const key = (name: string): string => HOSTS.find((h) => h.name === name)!.key;
const phaseOf = (page: Page, host: string): Promise<string | null> =>
  page.$eval(`#diagram g[data-host="${host}"]`, (g) => g.getAttribute('data-phase')).catch(() => null);

test('live page: diagram, booting → failed with the reason over SSE, host text stays text, no console errors', { skip, timeout: 120_000 }, async (t) => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const server = await serve(dir);
    const browser = await puppeteer.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      // Root in a container: Chromium's own sandbox needs user namespaces it may not get.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 800 });
      const problems: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' || m.type() === 'warn' ? problems.push(`console ${m.type()}: ${m.text()}`) : undefined));
      page.on('pageerror', (e) => void problems.push(`page error: ${(e as Error).message}`));
      page.on('requestfailed', (r) => void (r.url().endsWith('/events') ? undefined : problems.push(`request failed: ${r.url()}`)));
      page.on('dialog', (d) => void problems.push(`dialog: ${d.message()}`));
      await page.goto(server.url, { waitUntil: 'domcontentloaded' });
      await page.waitForFunction(() => document.querySelectorAll('#diagram g[data-host]').length === 3, { timeout: 10_000 });

      // The diagram: every host in its row (load balancers above control planes above workers), linked.
      const boxes = await page.$$eval('#diagram g[data-host]', (gs) => gs.map((g) => ({ host: g.getAttribute('data-host'), y: Number(g.querySelector('rect')!.getAttribute('y')) })));
      const y = Object.fromEntries(boxes.map((b) => [b.host, b.y]));
      assert.ok(y.lb1! < y.cp1! && y.cp1! < y.worker1!, JSON.stringify(y));
      assert.equal(await page.$$eval('#diagram line', (ls) => ls.length), 2, 'lb1 → cp1 → worker1');
      assert.equal(await phaseOf(page, 'worker1'), 'waiting');
      const install = (): Promise<string> => page.$eval('tr[data-host="worker1"] td.install .install-state', (e) => e.textContent ?? '');
      assert.equal(await install(), 'armed to install', 'a host the server has not seen install is armed');
      assert.match(await page.$eval('#verdict', (e) => e.textContent ?? ''), /^waiting/);

      const post = async (body: string): Promise<void> => assert.equal((await report(server.port, '/report/worker1', key('worker1'), body)).status, 204);
      await call(server.port, 'GET', '/nocloud/worker1/user-data', { from: HOSTS.find((h) => h.name === 'worker1')!.ip });
      await page.waitForFunction(() => document.querySelector('#diagram g[data-host="worker1"]')?.getAttribute('data-phase') === 'seed-fetched', { timeout: 10_000 });
      assert.equal(await install(), 'installing', 'its seed was fetched: its next network boot goes to the disk');
      await post('event=boot\n');
      await page.waitForFunction(() => document.querySelector('#diagram g[data-host="worker1"]')?.getAttribute('data-phase') === 'booting', { timeout: 10_000 });
      await post('event=start\nstep=resolver\n');
      await post('event=end\nstep=resolver\n');
      await post('event=start\nstep=base\n');
      await page.waitForFunction(() => document.querySelector('tr[data-host="worker1"] .state')?.textContent?.startsWith('step 2/4: base'), { timeout: 10_000 });
      await post('event=fail\nstep=base\nrc=100\nlog:\n<img src=x onerror=alert(1)>\nE: Unable to locate package cri-o\n');
      await page.waitForFunction(() => document.querySelector('#diagram g[data-host="worker1"]')?.getAttribute('data-phase') === 'failed', { timeout: 10_000 });

      const row = await page.$eval('tr[data-host="worker1"]', (tr) => ({
        reason: tr.querySelector('.reason')?.textContent,
        log: tr.querySelector('pre.log')?.textContent,
        timings: tr.querySelectorAll('td')[6]?.textContent,
        install: tr.querySelector('td.install .install-state')?.textContent,
        seed: tr.querySelector('td.install .seed-open')?.textContent,
        images: tr.querySelectorAll('img').length,
      }));
      assert.equal(row.reason, 'failed: base: E: Unable to locate package cri-o');
      assert.equal(row.log, '<img src=x onerror=alert(1)>\nE: Unable to locate package cri-o');
      assert.equal(row.images, 0, 'a host\'s log line is not markup');
      assert.equal(row.install, 'installed', 'its system reported');
      assert.equal(row.seed, `seed: to ${HOSTS.find((h) => h.name === 'worker1')!.ip} only`);
      assert.match(row.timings ?? '', /resolver \d+ s.*base \d+ s \(failed, exit 100\)/);
      assert.match(await page.$eval('#verdict', (e) => e.textContent ?? ''), /^failed — 0\/3 done, 1 failed/);
      assert.match(await page.$eval('#diagram g[data-host="worker1"] title', (e) => e.textContent ?? ''), /worker1: failed: base: E: Unable to locate package cri-o/);

      // It joins: its seed is sealed, and the page says how to re-arm it.
      for (const step of ['base', 'crio', 'bootstrap']) for (const ev of ['start', 'end']) await post(`event=${ev}\nstep=${step}\n`);
      await page.waitForFunction(() => document.querySelector('tr[data-host="worker1"] .seed-sealed') !== null, { timeout: 10_000 });
      assert.equal(await page.$eval('tr[data-host="worker1"] .seed-sealed', (e) => e.textContent), 'seed sealed (joined); re-arm: kubebake serve --reinstall worker1');

      const artefacts = repoPath('test-artifacts');
      mkdirSync(artefacts, { recursive: true });
      const shot = join(artefacts, 'serve-live-page.png');
      await page.screenshot({ path: shot, fullPage: true });
      t.diagnostic(`screenshot: ${shot}`);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
