// Headless Chromium (Debian's /usr/bin/chromium driven by playwright-core; no browser download) against the
// transport's echo host. Usage: node browser-check.mjs ws://127.0.0.1:PORT/ws [LABEL]
// This script serves page.html and payloads.mjs over http on 127.0.0.1 (so the page has a real http Origin), opens the
// page, and the page uses the browser's own WebSocket: subprotocol echo.v1; text and binary messages of 0 B, 125 B,
// 126 B, 64 KiB and 1 MiB echoed byte for byte and as the same kind; 3 s of silence through the server's idle pings
// (the browser answers them itself); a clean close with 1000. (A page cannot send pings or fragments; ws-check.mjs
// covers those.) The page reports each case back; this script prints one line per
// case and ends with "N passed, N failed"; exits 1 when any check failed.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const [url, label = 'chromium'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node browser-check.mjs ws://127.0.0.1:PORT/ws [LABEL]');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TIMEOUT_MS = 60000;

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}: ${name}${detail ? ` (${detail})` : ''}`);
}

const files = { '/': ['page.html', 'text/html; charset=utf-8'], '/payloads.mjs': ['payloads.mjs', 'text/javascript; charset=utf-8'] };
const http = createServer(async (request, response) => {
  const file = files[new URL(request.url, 'http://127.0.0.1').pathname];
  if (!file) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' });
  response.end(await readFile(join(here, file[0])));
});
await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
const page = `http://127.0.0.1:${http.address().port}/`;

let browser;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: TIMEOUT_MS });
  const tab = await browser.newPage();
  tab.on('pageerror', (e) => check('page runs without errors', false, e.message));
  await tab.goto(page, { timeout: TIMEOUT_MS });
  await tab.waitForFunction(() => window.ready === true, null, { timeout: TIMEOUT_MS });
  const results = await tab.evaluate((ws) => window.runChecks(ws), url);
  for (const r of results) check(r.name, r.ok, r.detail);
  if (results.length === 0) check('the page ran its cases', false, 'no results');
} catch (e) {
  check('the browser ran the page', false, e.message.split('\n')[0]);
} finally {
  await browser?.close().catch(() => {});
  http.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
