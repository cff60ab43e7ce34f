// End-to-end tests of the web client in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core),
// against a running `sol serve`. Usage: node test/e2e.mjs HTTP_BASE [SCREENSHOT_DIR]
// Each test gets a fresh browser context (its own storage, so its own guest). Waits are conditions with deadlines,
// never fixed sleeps. Prints one line per test and, last, "N passed, N failed"; exits 1 when any failed.
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, shotsArg] = process.argv.slice(2);
if (!base) {
  console.error('usage: node test/e2e.mjs HTTP_BASE [SCREENSHOT_DIR]');
  process.exit(2);
}
const shots = shotsArg ?? join(process.env.TMPDIR ?? '/tmp', `sol-web-client-${process.pid}`);
await mkdir(shots, { recursive: true });
console.log(`screenshots: ${shots}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

let passed = 0;
let failed = 0;
const tests = [];
const test = (name, body) => tests.push({ name, body });

class Failure extends Error {}
function expect(ok, message) {
  if (!ok) throw new Failure(message);
}

/** Polls fn (in Node) until it returns a truthy value or the deadline passes; returns the value. */
async function until(what, fn, ms = 10_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Failure(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** Reads window.__sol (a plain copy of its getters). */
const sol = (page) => page.evaluate(() => {
  const h = window.__sol;
  if (!h) return null;
  const out = {};
  for (const k of Object.keys(h)) out[k] = h[k];
  return out;
});

async function me(page) {
  const token = await page.evaluate(() => sessionStorage.getItem('sol.token'));
  const r = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  return r.ok ? r.json() : null;
}

async function playAsGuest(page) {
  await page.goto(base);
  await page.click('#guest');
  return until('the game to start (Welcome, ZoneEnter, snapshots)', async () => {
    const s = await sol(page);
    return s?.connection === 'open' && s.zoneName && s.snapshots > 5 && s.lastAck.tick > 0 ? s : null;
  }, 15_000);
}

async function shoot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

const hud = (page, id) => page.textContent(`#hud-${id}`);

/** A local port nothing listens on (a game port that is down refuses connections there). */
const deadPort = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});

test('a guest sees the zone drawn', async (page) => {
  const s = await playAsGuest(page);
  expect(s.zoneKind === 'system', `starts in a system, got ${s.zoneKind}`);
  await until('the HUD to name the zone', async () => (await hud(page, 'zone')) === s.zoneName);
  await until('the HUD to show credits and a ship', async () => /\d/.test(await hud(page, 'credits')) && (await hud(page, 'ship')) !== '—');
  const pixels = await page.evaluate(() => {
    const c = document.getElementById('view');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    const colors = new Set();
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] + d[i + 1] + d[i + 2] > 90) {
        lit++;
        colors.add(((d[i] >> 5) << 6) | ((d[i + 1] >> 5) << 3) | (d[i + 2] >> 5));
      }
    }
    return { lit, colors: colors.size, total: d.length / 4 };
  });
  expect(pixels.lit > pixels.total * 0.001 && pixels.colors >= 4, `canvas nearly blank: ${JSON.stringify(pixels)}`);
  const frames = await page.evaluate(async () => {
    const start = performance.now();
    let n = 0;
    await new Promise((resolve) => {
      const f = () => (++n >= 30 ? resolve() : requestAnimationFrame(f));
      requestAnimationFrame(f);
    });
    return n / ((performance.now() - start) / 1000);
  });
  expect(frames > 20, `animation frames run (${frames.toFixed(0)} fps)`);
  await shoot(page, '1-zone');
  return `${s.zoneName}, ${pixels.lit} lit pixels in ${pixels.colors} colours, ${frames.toFixed(0)} fps`;
});

test('thrust moves the ship in the server\'s state', async (page) => {
  await playAsGuest(page);
  const before = await until('/api/me to answer the live player', () => me(page));
  // Thrust and turn together, so the prediction has a curve to get right.
  await page.keyboard.down('KeyW');
  await page.keyboard.down('KeyA');
  try {
    await until('the predicted ship to move 150 units', async () => {
      const s = await sol(page);
      return s.position && Math.hypot(s.position.x - before.x, s.position.y - before.y) > 150;
    });
  } finally {
    await page.keyboard.up('KeyA');
    await page.keyboard.up('KeyW');
  }
  const after = await until('the server to report the ship moved', async () => {
    const m = await me(page);
    return m && Math.hypot(m.x - before.x, m.y - before.y) > 100 ? m : null;
  });
  const s = await until('inputs to be acknowledged', async () => {
    const h = await sol(page);
    return h.lastAck.lastSeq > 0 && h.lastSeqSent - h.lastAck.lastSeq < 10 ? h : null;
  });
  const gap = Math.hypot(s.position.x - s.serverPosition.x, s.position.y - s.serverPosition.y);
  expect(gap < 200, `the prediction stays near the server's ship (${gap.toFixed(0)} units apart)`);
  const c = s.corrections;
  expect(c.count > 10 && c.mean < 25, `reconciliation corrections stay small (${JSON.stringify(c)})`);
  await shoot(page, '2-flying');
  return `moved ${Math.hypot(after.x - before.x, after.y - before.y).toFixed(0)} units on the server; ` +
    `prediction ${gap.toFixed(0)} units ahead of the last snapshot; corrections mean ${c.mean.toFixed(1)}, max ${c.max.toFixed(1)} units over ${c.count} acks`;
});

test('the autopilot lands on a planet, C founds a colony, T takes off', async (page) => {
  const s = await playAsGuest(page);
  await page.keyboard.press('KeyP');
  const landed = await until('landing on a planet', async () => {
    const h = await sol(page);
    return h.zoneKind === 'planet' ? h : null;
  }, 60_000);
  await until('the HUD to show the surface', async () => (await hud(page, 'zone')).includes(landed.zoneName));
  await until('/api/me to report the planet zone', async () => (await me(page))?.zone === `planet:${landed.zoneId}`);
  // A second player in the system (the stage starts every new player in one system) sees the colony appear where the
  // planet is drawn, told by a ColonyInfo, with no new ZoneEnter.
  const other = await page.context().browser().newContext({ viewport: { width: 1280, height: 800 } });
  const credits = landed.credits;
  let colonized;
  try {
    const watcher = await other.newPage();
    const watcherErrors = [];
    watcher.on('pageerror', (e) => watcherErrors.push(e.message));
    const seen = await playAsGuest(watcher);
    expect(seen.systemId === s.systemId, `the second player in the same system (${seen.systemId} vs ${s.systemId})`);
    expect(!seen.zoneColonies.includes(landed.zoneId), `no colony on ${landed.zoneName} yet: ${JSON.stringify(seen.zoneColonies)}`);
    await page.keyboard.press('KeyC');
    colonized = await until('a colony (credits spent, planet listed)', async () => {
      const h = await sol(page);
      return h.colonies.includes(landed.zoneId) && h.credits < credits ? h : null;
    }, 10_000);
    const told = await until('the second player told of the colony', async () => {
      const h = await sol(watcher);
      return h.zoneColonies.includes(landed.zoneId) ? h : null;
    }, 10_000);
    expect(told.zoneEnters === seen.zoneEnters, `no new ZoneEnter for it (${seen.zoneEnters} then ${told.zoneEnters})`);
    expect(watcherErrors.length === 0, `the second page's errors: ${watcherErrors.join('; ')}`);
    await shoot(watcher, '3b-colony-told');
  } finally {
    await other.close(); // also when the test fails: a page left open would go on drawing through the later tests
  }
  await until('the HUD to show the credits spent', async () => (await hud(page, 'credits')) === colonized.credits.toLocaleString('en'));
  await shoot(page, '3-landed');
  await page.keyboard.press('KeyT');
  const up = await until('taking off into the system', async () => {
    const h = await sol(page);
    return h.zoneKind === 'system' ? h : null;
  }, 10_000);
  expect(up.systemId === s.systemId, `back in the same system (${up.systemId} vs ${s.systemId})`);
  await until('the toast to tell of the take-off', async () => (await page.textContent('#toast')) === `took off from ${landed.zoneName} into ${up.zoneName}`);
  return `landed on ${landed.zoneName}, colonized it for ${credits - colonized.credits} credits, took off into ${up.zoneName}`;
});

test('a planned route and the autopilot jump through a gate', async (page) => {
  const s = await playAsGuest(page);
  // The nearest gate keeps the flight short (gates stand beyond the outermost orbit, thousands of units out).
  const gate = [...s.gates].sort((a, b) =>
    Math.hypot(a.x - s.position.x, a.y - s.position.y) - Math.hypot(b.x - s.position.x, b.y - s.position.y))[0];
  expect(gate, 'the start system has a gate');
  await page.keyboard.press('KeyM');
  await until('the galaxy map to open', async () => (await sol(page)).mapOpen);
  // Click the destination on the map, as a player would.
  const point = await until('the map to be drawn', () => page.evaluate((id) => window.__sol.mapPoint(id), gate.to));
  await page.mouse.click(point.x, point.y);
  await until('the server to set the route', async () => (await sol(page)).route.includes(gate.to));
  await shoot(page, '4-map');
  await page.keyboard.press('KeyM');
  await page.keyboard.press('KeyG');
  await page.keyboard.press('Minus');
  // On the way: the route arrow points at the gate (the README's screenshot is this one).
  await until('the autopilot to be on its way', async () => {
    const h = await sol(page);
    return h.autopilot.mode === 'gate' && Math.hypot(h.position.x - s.position.x, h.position.y - s.position.y) > 1500;
  }, 30_000);
  await shoot(page, '4b-on-route');
  const there = await until('the jump to the next system', async () => {
    const h = await sol(page);
    return h.systemId === gate.to && h.zoneKind === 'system' ? h : null;
  }, 90_000);
  await until('the HUD to name the new system', async () => (await hud(page, 'zone')) === there.zoneName);
  expect(there.zoneName !== s.zoneName, 'the zone name changed');
  expect(there.explored.includes(gate.to), 'the new system counts as explored');
  await shoot(page, '5-jumped');
  return `${s.zoneName} -> ${there.zoneName}`;
});

test('a reload resumes the same session and ship', async (page) => {
  const s = await playAsGuest(page);
  const before = await until('/api/me', () => me(page));
  await page.reload();
  const after = await until('the resumed game', async () => {
    const h = await sol(page);
    return h?.connection === 'open' && h.snapshots > 3 ? h : null;
  }, 15_000);
  expect(after.clientId === s.clientId, `same client id (${after.clientId} vs ${s.clientId})`);
  expect(after.resumed === 1, `the Welcome resumed the session (resumed=${after.resumed})`);
  expect(after.entity === s.entity && after.zoneId === s.zoneId, `same ship (entity ${after.entity} vs ${s.entity})`);
  const m = await until('/api/me', () => me(page));
  expect(m.playerId === before.playerId && m.clientId === s.clientId, 'the server has the same player and client id');
  expect(after.assets.fromCache > 0 && after.assets.downloaded === 0, `assets came from the cache (${JSON.stringify(after.assets)})`);
  // A reload within 5 s of the token's expiry: the token is refreshed, not the login screen shown.
  await page.evaluate(() => sessionStorage.setItem('sol.expiresAt', new Date(Date.now() + 3000).toISOString()));
  await page.reload();
  const again = await until('the game after a reload near the token\'s expiry', async () => {
    const h = await sol(page);
    return h?.connection === 'open' && h.snapshots > 3 ? h : null;
  }, 15_000);
  const expires = await page.evaluate(() => Date.parse(sessionStorage.getItem('sol.expiresAt')));
  expect(again.clientId === s.clientId && expires > Date.now() + 60_000, `resumed with a refreshed token (expires in ${expires - Date.now()} ms)`);
  return `client ${s.clientId.slice(0, 8)}…, entity ${s.entity}`;
});

test('an account registers, and logs in again from the login screen', async (page) => {
  const name = `pilot${Date.now() % 1_000_000}`;
  await page.goto(base);
  await page.fill('#username', name);
  await page.fill('#password', 'correct horse battery');
  await page.click('#register');
  await until('the game to start', async () => (await sol(page))?.connection === 'open');
  const first = await until('/api/me', () => me(page));
  // A fresh tab: a wrong password is refused on the login screen, the right one plays the same player.
  const other = await page.context().newPage();
  await other.goto(base);
  await other.fill('#username', name);
  await other.fill('#password', 'wrong password!');
  await other.click('#login-button');
  await until('the login error', async () => (await other.textContent('#login-error')).length > 0);
  await other.fill('#password', 'correct horse battery');
  await other.click('#login-button');
  await until('the game to start again', async () => (await sol(other))?.connection === 'open');
  const second = await until('/api/me', () => me(other));
  expect(second.playerId === first.playerId, 'the same player');
  await until('the first tab to be told it was replaced', async () => (await page.textContent('#login-error')).includes('elsewhere'));
  return `${name}: one player, the older tab sent to the login screen`;
});

test('log out ends the game session and shows the login screen', async (page) => {
  await playAsGuest(page);
  const token = await page.evaluate(() => sessionStorage.getItem('sol.token'));
  expect((await me(page)) !== null, 'a live session before');
  // Pressed and released off the button (no click): it must not keep the focus, or Enter would log out.
  const box = await page.locator('#logout').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(640, 500);
  await page.mouse.up();
  const focused = await page.evaluate(() => document.activeElement?.id);
  expect(focused !== 'logout', 'the log out button took the focus');
  await page.click('#logout');
  await until('the login screen', async () => (await page.isVisible('#login')) && (await page.textContent('#login-error')).includes('logged out'));
  expect((await page.evaluate(() => sessionStorage.getItem('sol.token'))) === null, 'the token forgotten');
  // Logged out on the server (the server's tests check that the game session ended at once): a refresh of the old
  // token is refused for that reason.
  const gone = await until('the token to be refused', async () => {
    const r = await fetch(`${base}/api/auth/refresh`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    return r.status === 401 && (await r.json()).error === 'the session was logged out; log in again';
  });
  return gone ? 'logged out, its token refused, login screen shown' : '';
});

test('on a 420 x 760 window the galaxy map title stays inside it and clear of the HUD', async (page) => {
  await page.setViewportSize({ width: 420, height: 760 });
  await playAsGuest(page);
  await page.keyboard.press('KeyM');
  const title = await until('the map title to be drawn clear of the HUD', async () => {
    const s = await sol(page);
    return s.mapOpen && s.mapTitle.length > 0 && s.hudBox && s.mapTitle[0].y > s.hudBox.bottom ? s : null;
  });
  for (const line of title.mapTitle) {
    expect(line.x - line.width / 2 >= 0 && line.x + line.width / 2 <= 420, `"${line.text}" inside the window`);
    expect(line.y - 14 > title.hudBox.bottom, `"${line.text}" below the HUD`);
  }
  await shoot(page, '6-map-small-window');
  return `${title.mapTitle.length} lines below the HUD`;
});

test('on a 600 x 400 window the map ends above the wrapped help line; zoomed and dragged to a corner it shows systems', async (page) => {
  await page.setViewportSize({ width: 600, height: 400 });
  await playAsGuest(page);
  const galaxy = await (await fetch(`${base}/api/galaxy`)).json();
  const help = await page.evaluate(() => {
    const box = document.getElementById('help').getBoundingClientRect();
    return { top: box.top, height: box.height };
  });
  await page.keyboard.press('KeyM');
  await until('the map to be drawn', async () => (await sol(page)).mapOpen && (await page.evaluate(() => window.__sol.mapRect)));
  /** The systems drawn inside the map's rectangle now. */
  const inView = () => page.evaluate((ids) => {
    const r = window.__sol.mapRect;
    return ids.map((id) => window.__sol.mapPoint(id))
      .filter((p) => p && p.x >= r.left && p.x <= r.left + r.width && p.y >= r.top && p.y <= r.top + r.height).length;
  }, galaxy.systems.map((s) => s.id));
  const rect = await page.evaluate(() => window.__sol.mapRect);
  expect(rect.top + rect.height <= help.top, `the map's rectangle ends at ${rect.top + rect.height}, the help line starts at ${help.top}`);
  const points = await page.evaluate((ids) => ids.map((id) => window.__sol.mapPoint(id)), galaxy.systems.map((s) => s.id));
  const low = points.filter((p) => p.y >= help.top);
  expect(low.length === 0, `${low.length} systems drawn under the help line (top ${help.top})`);
  await shoot(page, '7-map-600x400');
  // Zoomed in all the way around the map's centre, then dragged toward its bottom-right corner again and again (the
  // galaxy toward the top left): it stops with systems still in view.
  const cx = rect.left + rect.width / 2, cy = rect.top + rect.height / 2;
  await page.mouse.move(cx, cy);
  for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -200);
  await until('the map to zoom in', async () => ((await sol(page)).mapCamera?.zoom ?? 1) > 4);
  for (let i = 0; i < 15; i++) {
    await page.mouse.move(rect.left + 10, rect.top + 10);
    await page.mouse.down();
    await page.mouse.move(rect.left + rect.width - 10, rect.top + rect.height - 10, { steps: 4 });
    await page.mouse.up();
  }
  const camera = (await sol(page)).mapCamera;
  const seen = await inView();
  expect(seen > 0, `dragged to a corner at zoom ${camera?.zoom}: no system in view (${JSON.stringify(camera)})`);
  await shoot(page, '8-map-dragged-to-a-corner');
  return `help ${help.height} px tall from y ${help.top}, map down to ${rect.top + rect.height}; ${seen} systems in view at the corner, zoom ${camera.zoom.toFixed(1)}`;
});

test('a dropped connection resumes by itself', async (page) => {
  const s = await playAsGuest(page);
  // Drop the socket the way a network failure would: the page's own WebSocket, closed from inside.
  const dropped = await page.evaluate(() => {
    const ws = [...(window.__solSockets ?? [])].at(-1);
    return ws ? (ws.close(4100, 'test drop'), true) : false;
  });
  expect(dropped, 'found the game socket');
  const after = await until('the client to reconnect', async () => {
    const h = await sol(page);
    return h.connects >= 2 && h.connection === 'open' ? h : null;
  }, 15_000);
  expect(after.clientId === s.clientId && after.resumed === 1, `resumed with the same client id (resumed=${after.resumed})`);
  return `reconnected after ${after.connects - 1} drop`;
});

test('a server outage is waited out: no logout, no reload, the session resumes', async (page) => {
  const s = await playAsGuest(page);
  await page.evaluate(() => (window.__samePage = true));
  // The server goes away: its HTTP API refuses connections, and so does the game port (sockets go to a dead port).
  let refused = 0;
  await page.route('**/api/**', (r) => (refused++, r.abort('connectionrefused')));
  await page.evaluate((port) => {
    window.__solDeadPort = port;
    [...window.__solSockets].at(-1).close(4100, 'test outage');
  }, deadPort);
  const during = await until('reconnect attempts and a refresh with no answer', async () => {
    const h = await sol(page);
    return h?.connection === 'reconnecting' && h.connects >= 4 && refused > 0 ? h : null;
  }, 15_000);
  const shown = await hud(page, 'conn');
  expect(/reconnecting/.test(shown), `the HUD says it is reconnecting ("${shown}")`);
  // The server is back.
  await page.unroute('**/api/**');
  await page.evaluate(() => (window.__solDeadPort = 0));
  const after = await until('the client to reconnect', async () => {
    const h = await sol(page);
    return h?.connection === 'open' && h.snapshots > s.snapshots ? h : null;
  }, 15_000);
  expect(await page.evaluate(() => window.__samePage === true), 'the page was not reloaded');
  expect(after.clientId === s.clientId && after.resumed === 1, `resumed with the same client id (resumed=${after.resumed})`);
  return `${during.connects - 1} attempts and ${refused} refused refreshes during the outage ("${shown}"), then resumed`;
});

test('a reload during an outage waits with the token kept; a logout then shows the login screen without a reload', async (page) => {
  const s = await playAsGuest(page);
  await page.route('**/api/**', (r) => r.abort('connectionrefused'));
  await page.reload();
  await until('the start error', () => page.isVisible('#start-error'));
  const text = await page.textContent('#start-error-text');
  expect(/cannot reach the server/.test(text) && !(await page.isVisible('#login')), `"${text}", the login screen not shown`);
  expect((await page.evaluate(() => sessionStorage.getItem('sol.token'))) !== null, 'the token kept');
  await page.unroute('**/api/**');
  await page.click('#retry');
  const after = await until('the game after the outage', async () => {
    const h = await sol(page);
    return h?.connection === 'open' && h.zoneName ? h : null;
  }, 15_000);
  expect(after.clientId === s.clientId && !(await page.isVisible('#start-error')), `the same session (client id ${after.clientId})`);
  // The server goes away again, and the player logs out.
  await page.evaluate(() => (window.__samePage = true));
  await page.route('**/api/**', (r) => r.abort('connectionrefused'));
  await page.click('#logout');
  await until('the login screen', async () => (await page.isVisible('#login')) && (await page.textContent('#login-error')).includes('logged out'));
  expect(await page.evaluate(() => window.__samePage === true), 'the page was not reloaded (the browser\'s error page)');
  expect((await page.evaluate(() => sessionStorage.getItem('sol.token'))) === null, 'the token forgotten');
  await page.unroute('**/api/**');
  return `"${text}"`;
});

test('a game connection that cannot be made shows an error, and Retry starts the game', async (page) => {
  await page.goto(base);
  await page.evaluate(() => sessionStorage.setItem('test.throwSocket', '1'));
  await page.click('#guest');
  await until('the start error', () => page.isVisible('#start-error'));
  const text = await page.textContent('#start-error-text');
  expect(!(await page.textContent('#status')).includes('loading'), 'not stuck on "loading…"');
  expect(!text.includes('eyJ'), `the error does not show the token: ${text}`);
  await page.click('#retry');
  await until('the game after Retry', async () => (await sol(page))?.connection === 'open', 15_000);
  return `"${text}"`;
});

// E2E_ONLY=text runs only the tests whose name contains it.
for (const { name, body } of tests.filter((t) => !process.env.E2E_ONLY || t.name.includes(process.env.E2E_ONLY))) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // Record the game sockets so a test can drop one (read-only otherwise); a test can also send new sockets to a dead
  // port (__solDeadPort) or make the next one throw as a malformed address does (sessionStorage test.throwSocket).
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    window.__solSockets = [];
    window.WebSocket = class extends Native {
      constructor(url, ...rest) {
        if (sessionStorage.getItem('test.throwSocket')) {
          sessionStorage.removeItem('test.throwSocket');
          throw new DOMException(`The URL '${url}' is invalid.`, 'SyntaxError');
        }
        super(window.__solDeadPort ? String(url).replace(/:\d+\//, `:${window.__solDeadPort}/`) : url, ...rest);
        window.__solSockets.push(this);
      }
    };
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Every request the page makes is answered (no 404 for a favicon or anything else).
  page.on('response', (r) => r.status() === 404 && errors.push(`404 for ${r.url()}`));
  const started = Date.now();
  try {
    const detail = await body(page);
    expect(errors.length === 0, `page errors: ${errors.join('; ')}`);
    passed++;
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s${detail ? `; ${detail}` : ''})`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name} (${((Date.now() - started) / 1000).toFixed(1)} s): ${e instanceof Failure ? e.message : e.stack ?? e}`);
    await page.screenshot({ path: join(shots, `failed-${name.replace(/\W+/g, '-')}.png`) }).catch(() => {});
  } finally {
    await context.close();
  }
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
