// Unit tests of the client's pure parts (prediction, interpolation, autopilot, the codec, key mapping, colony labels)
// and of the connection's reconnect logic against a fake browser (test/fakes.ts), bundled by esbuild for Node:
// node test/unit.mjs. Prints one line per test and, last, "N passed, N failed".
import * as flatbuffers from 'flatbuffers';
import { gameUrl, type ServerConfig } from '../src/api';
import type { ShipInfo } from '../src/assets';
import { Autopilot, steer } from '../src/autopilot';
import { decode, encode, type ColonyView, type GateView, type PlanetView } from '../src/codec';
import { Controls } from '../src/controls';
import { codeWords, firstInputSeq, GameState, ZoneKind, zoneEnterText } from '../src/game';
import { GameConnection, keepTrying, REFUSED_AFTER_MS, STABLE_AFTER_MS } from '../src/net';
import { api } from '../src/api';
import { stepShip } from '../src/physics';
import {
  declutter, galaxyX, galaxyY, isDrag, LabelIndex, MAP_MARGIN, MapDrag, mapGalaxy, mapProjection, maxMapZoom, panBy, screenX, screenY,
  wheelZoomFactor, zoomAt, type MapCamera,
} from '../src/mapview';
import {
  drawMap, drawZone, landingLabelOffset, layoutMapTitle, mapArea, mapTransform, SURFACE_ZOOM, zoneScale, zoomZone, type View,
} from '../src/render';
import { fakeBrowser, FakeSocket, settle, type Browser } from './fakes';
import { ClientMessage } from '../src/protocol/sol/protocol/client-message';
import { ClientPayload, ColonyInfo, ErrorCode, Input, ServerPayload, SetRoute } from '../src/protocol/sol_generated';
import { ServerMessage } from '../src/protocol/sol/protocol/server-message';

const scout: ShipInfo = { id: 'scout', name: 'Scout', maxSpeed: 420, thrust: 300, turnRate: 3.4, hull: 100, radius: 18 };
let passed = 0;
let failed = 0;
const tests: { name: string; body: () => void | Promise<void> }[] = [];
function test(name: string, body: () => void | Promise<void>): void {
  tests.push({ name, body });
}
function expect(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

function zoneEnter(entity: number) {
  return {
    type: 'zoneEnter' as const, zoneKind: ZoneKind.System, zoneId: 7, systemId: 7, name: 'Test', time: 100, entity,
    stars: [], planets: [], gates: [], colonies: [], planet: null,
  };
}
function snapshot(tick: number, time: number, entities: { id: number; x: number; y: number; vx: number; vy: number; rotation?: number }[]) {
  return {
    type: 'snapshot' as const, tick, time, zoneKind: ZoneKind.System, zoneId: 7, events: [],
    entities: entities.map((e) => ({ rotation: 0, hull: 100, kind: 1, flags: 0, shipClass: 0, ...e })),
  };
}

test('the ship speeds up along its heading and is capped at its top speed', () => {
  const s = { x: 0, y: 0, vx: 0, vy: 0, rotation: Math.PI / 2 };
  stepShip(s, 1, 0, scout, 0.05);
  expect(Math.abs(s.vx) < 1e-9 && Math.abs(s.vy - 15) < 1e-9, `one tick of full thrust north: v=(${s.vx}, ${s.vy})`);
  for (let i = 0; i < 200; i++) stepShip(s, 1, 0, scout, 0.05);
  expect(Math.abs(Math.hypot(s.vx, s.vy) - 420) < 1e-6, `capped at 420, got ${Math.hypot(s.vx, s.vy)}`);
});

test('S thrusts backward, as the server does: it slows a ship moving forward and then drives it backward', () => {
  // The server's ControlSystem adds thrust (−1 to 1) × the class's thrust along the heading: no brake toward rest.
  const s = { x: 0, y: 0, vx: 45, vy: 0, rotation: 0 };
  stepShip(s, -1, 0, scout, 0.05);
  near(s.vx, 30, 'one tick of reverse thrust');
  for (let i = 0; i < 10; i++) stepShip(s, -1, 0, scout, 0.05);
  expect(s.vx < -100 && s.rotation === 0, `going backward, still facing forward: vx ${s.vx}`);
});

test('an Ack rebuilds the prediction from its snapshot and the inputs after it', () => {
  const game = new GameState();
  game.ships = [scout];
  game.enterZone(zoneEnter(5), 0);
  game.onSnapshot(snapshot(1, 100, [{ id: 5, x: 0, y: 0, vx: 0, vy: 0 }]), 0);
  game.onAck({ tick: 1, entity: 5, lastSeq: 10 });
  for (let seq = 11; seq <= 13; seq++) game.onInputSent({ seq, thrust: 1, turn: 0 }, 0);
  // The server applied 11 only: the prediction is its state plus 12 and 13.
  const server = { x: 0, y: 0, vx: 0, vy: 0, rotation: 0 };
  stepShip(server, 1, 0, scout, 0.05);
  game.onSnapshot(snapshot(2, 100.05, [{ id: 5, ...server }]), 0.05);
  game.onAck({ tick: 2, entity: 5, lastSeq: 11 });
  const expected = { ...server };
  stepShip(expected, 1, 0, scout, 0.05);
  stepShip(expected, 1, 0, scout, 0.05);
  const p = game.predicted!;
  expect(Math.abs(p.x - expected.x) < 1e-9 && Math.abs(p.vx - expected.vx) < 1e-9, `predicted x=${p.x} vx=${p.vx}, expected x=${expected.x} vx=${expected.vx}`);
});

test('a reloaded page starts its inputs after the last page\'s, whatever the tick rate', () => {
  for (const tickRate of [1, 20, 30, 60, 120]) {
    const loaded = Date.UTC(2026, 10, 30, 12);
    const last = firstInputSeq(loaded, tickRate) + 100 * tickRate; // 100 s of one input per tick
    const reloaded = firstInputSeq(loaded + 100_000, tickRate);
    const ahead = (reloaded - (last >>> 0)) >>> 0; // serial arithmetic, as the server compares them
    expect(ahead > 0 && ahead < 0x8000_0000, `${tickRate} Hz: a reload starts at ${reloaded}, not after ${last}`);
  }
});

test('the first sequence number wraps at 2^32, not before', () => {
  // A clock whose count (s × (rate + 1)) is just past 2^31 and just past 2^32.
  const at = (count: number) => (count / 21) * 1000;
  const high = firstInputSeq(at(0xfff0_0000 + 21), 20);
  expect(high === 0xfff0_0000 + 21, `0xfff00015 kept (got ${high.toString(16)})`);
  const wrapped = firstInputSeq(at(2 ** 32 + 42), 20);
  expect(wrapped === 42, `2^32 + 42 wraps to 42 (got ${wrapped})`);
});

test('sequence numbers compare across the uint32 wrap', () => {
  const game = new GameState();
  game.ships = [scout];
  game.enterZone(zoneEnter(5), 0);
  game.onSnapshot(snapshot(1, 100, [{ id: 5, x: 0, y: 0, vx: 0, vy: 0 }]), 0);
  game.onAck({ tick: 1, entity: 5, lastSeq: 0xffff_fffe });
  game.onInputSent({ seq: 0xffff_ffff, thrust: 1, turn: 0 }, 0);
  game.onInputSent({ seq: 0, thrust: 1, turn: 0 }, 0);
  game.onInputSent({ seq: 1, thrust: 1, turn: 0 }, 0);
  game.onAck({ tick: 2, entity: 5, lastSeq: 0xffff_ffff });
  const v = game.predicted!.vx;
  expect(Math.abs(v - 30) < 1e-9, `two inputs after 0xffffffff still pending (vx ${v}, expected 30)`);
});

test('other ships are drawn between the snapshots around two ticks ago', () => {
  const game = new GameState();
  game.enterZone(zoneEnter(5), 0);
  game.onSnapshot(snapshot(1, 100.0, [{ id: 9, x: 0, y: 0, vx: 0, vy: 0 }]), 0);
  game.onSnapshot(snapshot(2, 100.05, [{ id: 9, x: 10, y: 0, vx: 0, vy: 0 }]), 0.05);
  game.onSnapshot(snapshot(3, 100.1, [{ id: 9, x: 20, y: 0, vx: 0, vy: 0 }]), 0.1);
  // Zone time at local 0.1 is 100.1; two ticks back is 100.0 + 0.025 further on = 100.025 at local 0.125.
  const at = game.interpolated(0.125).find((e) => e.id === 9)!;
  expect(Math.abs(at.x - 5) < 0.5, `interpolated x=${at.x}, expected about 5`);
});

test('the autopilot reaches a target it first passes sideways at full speed', () => {
  const s = { x: 0, y: 0, vx: 0, vy: 400, rotation: Math.PI / 2 };
  const target = { x: 1500, y: 0 };
  let reached = -1;
  for (let i = 0; i < 20 * 60; i++) {
    const dx = target.x - s.x, dy = target.y - s.y, d = Math.hypot(dx, dy);
    if (d < 60) { reached = i / 20; break; }
    const c = steer(s, dx, dy, d);
    stepShip(s, c.thrust, c.turn, scout, 0.05);
  }
  expect(reached > 0 && reached < 20, `within 60 units after ${reached} s`);
});

test('client messages encode as the schema says', () => {
  const bytes = encode.input(42, 0.5, -1, true);
  const m = ClientMessage.getRootAsClientMessage(new flatbuffers.ByteBuffer(bytes));
  expect(m.payloadType() === ClientPayload.Input, 'payload is Input');
  const input: Input = m.payload(new Input());
  expect(input.seq() === 42 && input.thrust() === 0.5 && input.turn() === -1 && input.fire(), 'fields round-trip');
  const route = ClientMessage.getRootAsClientMessage(new flatbuffers.ByteBuffer(encode.setRoute(77)));
  const r: SetRoute = route.payload(new SetRoute());
  expect(route.payloadType() === ClientPayload.SetRoute && r.destination() === 77 && r.systemsLength() === 0, 'SetRoute round-trips');
});

test('a message type this client does not know decodes as unknown, not as an error', () => {
  const b = new flatbuffers.Builder(32);
  b.startObject(2);
  b.addFieldInt8(0, 99, 0);
  b.finish(b.endObject());
  const e = decode(b.asUint8Array());
  expect(e.type === 'unknown', `decoded as ${e.type}`);
});

// ---- the connection (net.ts) against a fake browser ----

const config: ServerConfig = { gamePort: 7777, gamePath: '/ws', tickRate: 20, protocols: ['sol.v1'] };
const inMinutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();
let tokens = 0;
const freshToken = () => ({ status: 200, body: { token: `token-${++tokens}`, expiresAt: inMinutes(15), playerId: 'player-1' } });
const refreshes = (b: Browser) => b.fetches.filter((u) => u.includes('/api/auth/refresh')).length;
const lastSocket = () => FakeSocket.all.at(-1)!;

/** A connection that got its Welcome (client id c1), with a token good for `minutes`. */
function connected(minutes = 15) {
  sessionStorage.setItem('sol.token', 'token-0');
  sessionStorage.setItem('sol.expiresAt', inMinutes(minutes));
  const gone: string[] = [];
  const c = new GameConnection(config, () => {}, (reason: string, kind?: string) => gone.push(`${kind}: ${reason}`));
  c.connect();
  lastSocket().welcome('c1');
  return { c, gone };
}

/** One reconnect attempt that fails: the retry timer runs, the socket it opens ends with `code`, refreshes settle. Returns the wait. */
async function failOnce(b: Browser, code = 1006): Promise<number | null> {
  const sockets = FakeSocket.all.length;
  const delay = b.timers.runNext();
  await settle();
  if (FakeSocket.all.length > sockets) lastSocket().end(code);
  await settle();
  return delay;
}

test('a server outage (no answer, then 503) is waited out and resumed with the client id, never logged out', async () => {
  const b = fakeBrowser();
  const { c, gone } = connected();
  b.answer = 'network';
  lastSocket().end(1006);
  for (let i = 0; i < 8; i++) {
    if (i === 4) b.answer = { status: 503, body: { error: 'starting' } };
    await failOnce(b);
  }
  expect(gone.length === 0, `logged out while the server was away: ${gone.join('; ')}`);
  expect(c.state === 'reconnecting', `state ${c.state}`);
  expect(refreshes(b) > 0, 'the token was checked with a refresh');
  b.answer = freshToken;
  b.timers.runNext();
  await settle();
  const s = lastSocket();
  expect(s.url.includes('client_id=c1'), `reconnects with its client id: ${s.url}`);
  s.welcome('c1');
  expect(c.state === 'open' && c.resumed === 1 && gone.length === 0, `state ${c.state}, resumed ${c.resumed}, gone ${gone}`);
});

test('the round trip shown is cleared when the connection ends (it stayed on through an outage: helper-68)', () => {
  fakeBrowser();
  const { c } = connected();
  lastSocket().pong(5);
  expect(c.pingMs !== null && c.pingMs >= 5, `ping ${c.pingMs}`);
  lastSocket().end(1006);
  expect(c.pingMs === null, `ping after the close: ${c.pingMs}`);
});

test('the round trip shown goes blank when no Pong came for 5 s on a connection that stays open (helper-69)', () => {
  fakeBrowser();
  const { c } = connected();
  lastSocket().pong(5);
  const now = performance.now();
  expect(c.roundTrip(now) !== null && c.roundTrip(now + 4000) !== null, 'shown while Pongs are recent');
  expect(c.roundTrip(now + 6000) === null, `after 6 s without a Pong: ${c.roundTrip(now + 6000)}`);
});

test('a refusal in the event line is in words, not a code number (helper-68)', () => {
  expect(codeWords(ErrorCode.NotLanded) === 'not landed' && codeWords(ErrorCode.TooManyRequests) === 'too many requests', codeWords(5));
  expect(codeWords(200) === 'code 200', codeWords(200));
});

test('a refused token (401 from the refresh) logs out', async () => {
  const b = fakeBrowser();
  const { c, gone } = connected();
  b.answer = { status: 401, body: { error: 'token expired' } };
  lastSocket().end(1006);
  for (let i = 0; i < 4 && gone.length === 0; i++) await failOnce(b);
  expect(gone.length === 1 && c.state === 'closed', `gone: ${gone.join('; ')}, state ${c.state}`);
  expect(b.timers.runNext() === null, 'no reconnect after the logout');
});

test('a socket refused while HTTP answers (full, game port down) backs off without a refresh per attempt', async () => {
  const b = fakeBrowser();
  const { c, gone } = connected();
  b.answer = freshToken;
  lastSocket().end(1006);
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) delays.push((await failOnce(b)) ?? -1);
  expect(gone.length === 0 && c.state === 'reconnecting', `gone: ${gone.join('; ')}, state ${c.state}`);
  expect(refreshes(b) <= 1, `${refreshes(b)} refreshes for 10 refused sockets`);
  expect(delays.at(-1)! >= 4000 && delays.every((d) => d <= 10_000), `waits ${delays.join(', ')} ms`);
});

test('a 1013 close (try again later) waits at least 2 s', async () => {
  const b = fakeBrowser();
  connected();
  lastSocket().end(1013);
  const delay = b.timers.runNext();
  expect(delay !== null && delay >= 2000, `waited ${delay} ms`);
});

test('leaving the page closes the socket with a code browsers accept', () => {
  const b = fakeBrowser();
  connected();
  b.fire('pagehide');
  const code = lastSocket().closedWith;
  expect(code === 1000 || (code !== null && code >= 4000 && code <= 4999), `closed with ${code}`);
});

test('a token refresh that gets no answer is tried again before the token expires', async () => {
  const b = fakeBrowser();
  const { c } = connected(2);
  b.answer = 'network';
  b.timers.advance(60_000);
  await settle();
  expect(refreshes(b) === 1, `${refreshes(b)} refreshes a minute before expiry`);
  for (let i = 0; i < 6; i++) {
    b.timers.advance(5_000);
    await settle();
  }
  expect(refreshes(b) >= 2, `${refreshes(b)} refreshes 30 s later`);
  b.answer = freshToken;
  b.timers.advance(30_000);
  await settle();
  const token = sessionStorage.getItem('sol.token');
  expect(token !== null && token.startsWith('token-') && token !== 'token-0', `a new token (${token})`);
  expect(lastSocket().sent.length > 0 && c.state === 'open', 'Reauth sent on the open connection');
});

test('a WebSocket that cannot be made ends with an error the page shows, not an exception', () => {
  fakeBrowser();
  sessionStorage.setItem('sol.token', 'token-0');
  sessionStorage.setItem('sol.expiresAt', inMinutes(15));
  FakeSocket.throwNext = new DOMException("The URL 'ws://[[::1]]:7777/ws?access_token=token-0' is invalid.", 'SyntaxError');
  const gone: string[] = [];
  const c = new GameConnection(config, () => {}, (reason: string, kind?: string) => gone.push(`${kind}: ${reason}`));
  let threw: unknown = null;
  try {
    c.connect();
  } catch (e) {
    threw = e;
  }
  expect(threw === null, `connect() threw ${threw}`);
  expect(gone.length === 1 && gone[0]!.startsWith('failed: '), `gone: ${gone.join('; ')}`);
  expect(!gone[0]!.includes('token-0'), `the token is not shown: ${gone[0]}`);
});

/** A fetch answer the test gives later: the request stays in flight until then. */
function held() {
  let give: (a: { status: number; body: unknown }) => void = () => {};
  const answer = new Promise<{ status: number; body: unknown }>((r) => (give = r));
  return { answer, give };
}

test('a refresh still in flight at a logout stores no token (nor one at a replaced session)', async () => {
  for (const end of ['replaced', 'logout'] as const) {
    const b = fakeBrowser();
    const { c } = connected(2);
    const refresh = held();
    b.answer = (url) => (url.includes('/api/auth/refresh') ? refresh.answer : { status: 200, body: {} });
    b.timers.advance(60_000); // the refresh a minute before expiry
    await settle();
    expect(refreshes(b) === 1, `a refresh in flight (${refreshes(b)})`);
    if (end === 'logout') {
      expect(await c.logout(), 'the logout answered');
    } else {
      lastSocket().end(4000);
      sessionStorage.clear(); // as the page does before it reloads
    }
    refresh.give(freshToken());
    await settle();
    const token = sessionStorage.getItem('sol.token');
    expect(token === null, `${end}: the refresh stored ${token} after the connection closed`);
    expect(c.state === 'closed' && b.timers.count === 0, `${end}: state ${c.state}, ${b.timers.count} timers left`);
  }
});

test('a logout with the server away forgets the token and says so', async () => {
  const b = fakeBrowser();
  const { c } = connected();
  b.answer = 'network';
  const answered = await c.logout();
  expect(!answered, 'the logout reports the server did not answer');
  expect(sessionStorage.getItem('sol.token') === null && c.state === 'closed', `token ${sessionStorage.getItem('sol.token')}, state ${c.state}`);
  expect(lastSocket().closedWith === 1000 && b.timers.count === 0, 'the socket closed, nothing left to run');
});

test('the start-up keeps trying while the server is away, backing off, and gets there', async () => {
  const b = fakeBrowser();
  b.answer = 'network';
  const waits: number[] = [];
  let result: ServerConfig | null = null;
  void keepTrying(() => api.config(), (_e, wait) => waits.push(wait)).then((r) => (result = r));
  for (let i = 0; i < 6; i++) {
    await settle();
    b.timers.runNext();
  }
  await settle();
  expect(result === null && waits.length >= 6, `${waits.length} failures, result ${JSON.stringify(result)}`);
  expect(waits[0]! >= 800 && waits[0]! <= 1200 && waits.at(-1)! >= 6400 && waits.every((w) => w <= 9600), `waits ${waits.join(', ')}`);
  b.answer = { status: 200, body: config };
  b.timers.runNext();
  await settle();
  expect(JSON.stringify(result) === JSON.stringify(config), `loaded ${JSON.stringify(result)}`);
});

test('a Retry while a try is in flight: the earlier try failing after the success changes nothing', async () => {
  const b = fakeBrowser();
  const tries: { resolve: (v: string) => void; reject: (e: unknown) => void }[] = [];
  const failures: string[] = [];
  let now: () => void = () => {};
  let result: string | null = null;
  void keepTrying(() => new Promise<string>((resolve, reject) => tries.push({ resolve, reject })), (e, _w, again) => {
    failures.push(String(e));
    now = again;
  }).then((r) => (result = r));
  tries[0]!.reject('down');
  await settle();
  b.timers.runNext(); // the second try, still in flight when the player presses Retry
  now();
  tries[2]!.resolve('config');
  await settle();
  tries[1]!.reject('late');
  await settle();
  expect(result === 'config' && failures.join() === 'down' && b.timers.count === 0,
    `result ${result}, failures ${failures.join()}, ${b.timers.count} timers`);
});

/** A connection with a good token whose first socket closes without a Welcome (a 403, a blocked port, a full server). */
function refusedFromTheStart() {
  const b = fakeBrowser();
  b.freezeClock();
  sessionStorage.setItem('sol.token', 'token-0');
  sessionStorage.setItem('sol.expiresAt', inMinutes(15));
  const c = new GameConnection(config, () => {}, () => {});
  b.answer = freshToken;
  c.connect();
  lastSocket().end(1006);
  return { b, c };
}

test('a socket refused for good with a good token says so in time, and keeps trying', async () => {
  const { b, c } = refusedFromTheStart(); // 403 (allowed origins) or a port the browser blocks
  await settle();
  const start = b.timers.now;
  let saidAt = -1;
  for (let i = 0; i < 15 && saidAt < 0; i++) {
    await failOnce(b);
    if (c.refused) saidAt = b.timers.now - start;
  }
  expect(saidAt >= REFUSED_AFTER_MS - 1000 && saidAt <= REFUSED_AFTER_MS + 10_000, `said after ${saidAt} ms`);
  expect(c.state === 'reconnecting' && b.timers.count > 0, `still trying (state ${c.state})`);
  // The server reachable no more: that is what the HUD says then.
  b.answer = 'network';
  for (let i = 0; i < 10 && !c.unreachable; i++) {
    b.timers.advance(60_000);
    await settle();
    if (FakeSocket.all.at(-1)!.readyState === 0) lastSocket().end(1006);
    await settle();
  }
  expect(c.unreachable && !c.refused, `unreachable ${c.unreachable}, refused ${c.refused}`);
  // A Welcome ends it.
  b.timers.runNext();
  await settle();
  lastSocket().welcome('c1');
  expect(!c.refused && c.state === 'open', `refused ${c.refused}, state ${c.state}`);
});

test('a server that goes down after a short-lived connection is shown as unreachable, not as refusing', async () => {
  const { b, c } = refusedFromTheStart(); // full: refused, and a refresh confirms the token
  for (let i = 0; i < 3; i++) await failOnce(b);
  b.timers.runNext();
  await settle();
  lastSocket().welcome('c1'); // let in, then the server goes down within 10 s
  b.timers.advance(3_000);
  b.answer = 'network';
  lastSocket().end(1006);
  await settle();
  // Before: the token check of the run before the Welcome still counted, so no refresh asked and the HUD said the
  // server refused the connection (helper-53). Now the new run checks again and finds the server away.
  const down = b.timers.now;
  let refusedSeen = false;
  while (b.timers.now - down < 30_000) {
    await failOnce(b);
    refusedSeen ||= c.refused;
  }
  expect(c.unreachable && !refusedSeen, `unreachable ${c.unreachable}, said refused: ${refusedSeen}`);
});

test('a logout forgets the token at once, while the server has not answered yet', async () => {
  const b = fakeBrowser();
  const { c } = connected();
  const hanging = held();
  b.answer = (url) => (url.includes('/api/auth/logout') ? hanging.answer : { status: 200, body: {} });
  const out = c.logout();
  // Before: the token was forgotten only after the answer, so a hanging server kept the player logged in (helper-53).
  expect(sessionStorage.getItem('sol.token') === null && c.state === 'closed', `token ${sessionStorage.getItem('sol.token')}, state ${c.state}`);
  hanging.give({ status: 502, body: {} });
  expect(!(await out), 'a 502 is not an answer from the server');
});

test('connections closed right after their Welcome back off; one that lasted starts again at 250 ms', async () => {
  const b = fakeBrowser();
  connected();
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    lastSocket().end(1006);
    delays.push(b.timers.runNext() ?? -1);
    await settle();
    lastSocket().welcome('c1');
  }
  expect(delays.at(-1)! >= 6400, `waits after Welcome-and-close: ${delays.join(', ')} ms`);
  b.timers.advance(STABLE_AFTER_MS);
  lastSocket().end(1006);
  const after = b.timers.runNext();
  expect(after !== null && after <= 300, `after ${STABLE_AFTER_MS} ms open the wait is ${after} ms`);
});

test('the game URL of an IPv6 page has its host bracketed once', () => {
  fakeBrowser('[::1]');
  const url = gameUrl(config, 'tok', 'c1');
  expect(url === 'ws://[::1]:7777/ws?access_token=tok&client_id=c1', url);
});

// ---- autopilot on a planet ----

const planet: PlanetView = { id: 31, name: 'Terra', radius: 300, orbitRadius: 2000, period: 600, phase: 0 };
const gate: GateView = { id: 41, x: 5000, y: 0, radius: 200, targetSystemId: 8, targetName: 'Beyond' };
function enter(kind: ZoneKind, zoneId: number, systemId: number, entity: number) {
  return {
    ...zoneEnter(entity), zoneKind: kind, zoneId, systemId, name: kind === ZoneKind.Planet ? 'Terra' : `System ${systemId}`,
    planets: kind === ZoneKind.Planet ? [] : [planet], gates: kind === ZoneKind.Planet ? [] : [gate],
    planet: kind === ZoneKind.Planet ? planet : null,
  };
}
/** The own ship (entity) at (x, y) in the current zone, as a snapshot and its Ack make it. */
function placeShip(game: GameState, entity: number, x: number, y: number): void {
  const z = game.zone!;
  game.onSnapshot({ ...snapshot(1, 100, [{ id: entity, x, y, vx: 0, vy: 0 }]), zoneKind: z.kind, zoneId: z.id }, 0);
  game.onAck({ tick: 1, entity, lastSeq: 0 });
}

/** A pilot whose ship (entity 5) is landed on planet 31 of system 7. */
function landedPilot(): { game: GameState; pilot: Autopilot } {
  const game = new GameState();
  game.ships = [scout];
  const pilot = new Autopilot();
  game.enterZone(enter(ZoneKind.Planet, 31, 7, 5), 0);
  pilot.onZoneEnter(game);
  placeShip(game, 5, 0, 0);
  return { game, pilot };
}

test('G on a planet with no route takes off and flies on to the nearest gate; a jump with no route left ends it', () => {
  const { game, pilot } = landedPilot();
  pilot.engage('gate');
  expect(pilot.update(game, 1000).request?.kind === 'takeOff', 'asks to take off');
  game.enterZone(enter(ZoneKind.System, 7, 7, 6), 0);
  pilot.onZoneEnter(game);
  expect(pilot.mode === 'gate', `still flying after the take-off (mode ${pilot.mode})`);
  placeShip(game, 6, 2000, 0);
  pilot.update(game, 2000);
  expect(pilot.target?.kind === 'gate' && pilot.target.id === gate.id, `on its way to the gate (${JSON.stringify(pilot.target)})`);
  game.enterZone(enter(ZoneKind.System, 8, 8, 7), 0);
  pilot.onZoneEnter(game);
  expect(pilot.mode === 'off', `off after the jump (mode ${pilot.mode})`);
});

test('P on a planet surface says it is landed instead of waiting for ever', () => {
  const { game, pilot } = landedPilot();
  pilot.engage('land');
  pilot.update(game, 1000);
  expect(pilot.mode === 'off' && /landed/.test(pilot.status), `mode ${pilot.mode}, status "${pilot.status}"`);
});

test('the toast says a take-off is one, not a jump into the system', () => {
  const game = new GameState();
  const said: string[] = [];
  const go = (e: ReturnType<typeof enter>) => {
    said.push(zoneEnterText(game.zone, e));
    game.enterZone(e, 0);
  };
  go(enter(ZoneKind.System, 7, 7, 5)); // the page's first zone
  go(enter(ZoneKind.Planet, 31, 7, 6)); // L
  go(enter(ZoneKind.Planet, 31, 7, 6)); // a resumed connection: the same zone again
  go(enter(ZoneKind.System, 7, 7, 7)); // T
  go(enter(ZoneKind.System, 8, 8, 8)); // a jump
  expect(JSON.stringify(said) === JSON.stringify(['entered System 7', 'landed on Terra', 'on Terra (surface)',
    'took off from Terra into System 7', 'entered System 8']), `said ${JSON.stringify(said)}`);
  // A page (re)loaded while its ship is landed: nothing was landed on just now.
  expect(zoneEnterText(null, enter(ZoneKind.Planet, 31, 7, 6)) === 'on Terra (surface)', 'a reload on a surface');
});

// ---- colony labels ----

test('the own colony is labelled "you", another player\'s carries no player id', () => {
  const me = '0b5e7d7a-1111-4c3e-9d55-8a3f7c2b9e01';
  const other = '7f00aa11-2222-4c3e-9d55-8a3f7c2b9e02';
  const texts: string[] = [];
  const ctx = new Proxy({ canvas: { width: 800, height: 600 } } as Record<string | symbol, unknown>, {
    get: (t, k) => k in t ? t[k] : k === 'fillText' ? (s: string) => texts.push(s)
      : k === 'createRadialGradient' ? () => ({ addColorStop() {} }) : () => {},
    set: () => true,
  }) as unknown as CanvasRenderingContext2D;
  const view = { zoom: 0.12, mapOpen: false, mapHover: null, plannedRoute: [] };
  const game = new GameState();
  game.playerId = me;
  const second: PlanetView = { ...planet, id: 32, name: 'Mars', orbitRadius: 3000 };
  const colonies: ColonyView[] = [{ planetId: 31, owner: me, founded: 1, x: 10, y: 20 }, { planetId: 32, owner: other, founded: 2, x: 0, y: 0 }];
  game.enterZone({ ...enter(ZoneKind.System, 7, 7, 5), planets: [planet, second], colonies }, 0);
  drawZone(ctx, game, view, 0, null);
  expect(texts.includes('you'), `own colony labelled: ${JSON.stringify(texts)}`);
  expect(!texts.some((t) => t.startsWith(me.slice(0, 8)) || t.startsWith(other.slice(0, 8))), `no player ids: ${JSON.stringify(texts)}`);
  texts.length = 0;
  game.enterZone({ ...enter(ZoneKind.Planet, 31, 7, 5), colonies }, 0);
  drawZone(ctx, game, view, 0, null);
  expect(texts.includes('you') && !texts.some((t) => t.startsWith(me.slice(0, 8))), `on the surface: ${JSON.stringify(texts)}`);
});

test('a ColonyInfo message decodes, and a colony founded in this system or on this planet is added once', () => {
  const b = new flatbuffers.Builder(64);
  const owner = b.createString('7f00aa11-2222-4c3e-9d55-8a3f7c2b9e02');
  const info = ColonyInfo.createColonyInfo(b, 31, owner, 12.5, -40, 75);
  b.finish(ServerMessage.createServerMessage(b, ServerPayload.ColonyInfo, info));
  const e = decode(b.asUint8Array());
  expect(e.type === 'colony' && e.colony.planetId === 31 && e.colony.founded === 12.5 && e.colony.x === -40 && e.colony.y === 75,
    `decoded as ${JSON.stringify(e)}`);
  if (e.type !== 'colony') return;

  const game = new GameState();
  game.enterZone(enter(ZoneKind.System, 7, 7, 5), 0);
  game.onColony(e.colony);
  game.onColony(e.colony);
  game.onColony({ ...e.colony, planetId: 99 }); // a planet of another system
  expect(game.zone!.colonies.length === 1 && game.zone!.colonies[0]!.planetId === 31, `system: ${JSON.stringify(game.zone!.colonies)}`);
  game.enterZone(enter(ZoneKind.Planet, 32, 7, 5), 0);
  game.onColony(e.colony); // planet 31's, not this one's
  expect(game.zone!.colonies.length === 0, `another planet: ${JSON.stringify(game.zone!.colonies)}`);
  game.enterZone(enter(ZoneKind.Planet, 31, 7, 5), 0);
  game.onColony(e.colony);
  expect(game.zone!.colonies.length === 1, `this planet: ${JSON.stringify(game.zone!.colonies)}`);
});

test('on a surface each colony has its flag where it stands', () => {
  const flags: [number, number][] = [];
  const ctx = new Proxy({ canvas: { width: 800, height: 600 } } as Record<string | symbol, unknown>, {
    get: (t, k) => k in t ? t[k] : k === 'fillRect' ? (x: number, y: number, w: number, h: number) => w === 9 && h === 6 && flags.push([x, y])
      : k === 'createRadialGradient' ? () => ({ addColorStop() {} }) : () => {},
    set: () => true,
  }) as unknown as CanvasRenderingContext2D;
  const game = new GameState();
  game.enterZone({ ...enter(ZoneKind.Planet, 31, 7, 5), colonies: [
    { planetId: 31, owner: 'a', founded: 1, x: 0, y: 0 }, { planetId: 31, owner: 'b', founded: 2, x: 100, y: 50 },
  ] }, 0);
  drawZone(ctx, game, { zoom: 0.12, surfaceZoom: 1, mapOpen: false, mapHover: null, plannedRoute: [] }, 0, null);
  // No own ship yet: the view is centred on (0, 0), world y up, so the second flag is 100 px right and 50 px up (a
  // flag's cloth is a 9 x 6 rectangle atop its 14 px pole; the backdrop's stars are other rectangles).
  const flagAt = (x: number, y: number) => flags.some(([fx, fy]) => fx === 400 + x && fy === 300 - y - 14);
  expect(flags.length === 2 && flagAt(0, 0) && flagAt(100, 50), `flags at ${JSON.stringify(flags)}`);
});

/** A canvas that records where ships are drawn (each is drawn translated to its place) and the text. */
function zoneCanvas(width: number, height: number) {
  const ships: [number, number][] = [];
  const texts: { text: string; x: number; y: number }[] = [];
  const ctx = new Proxy({ canvas: { width, height } } as Record<string | symbol, unknown>, {
    get: (t, k) => k in t ? t[k] : k === 'translate' ? (x: number, y: number) => ships.push([x, y])
      : k === 'fillText' ? (text: string, x: number, y: number) => texts.push({ text, x, y })
        : k === 'createRadialGradient' ? () => ({ addColorStop() {} }) : () => {},
    set: () => true,
  }) as unknown as CanvasRenderingContext2D;
  return { ctx, ships, texts };
}

/** A game in zone `kind` with other ships (entities 10, 11, …) at the given places and no own ship yet (centred on 0, 0). */
function zoneWithShips(kind: ZoneKind, places: [number, number][]): GameState {
  const game = new GameState();
  const z = enter(kind, kind === ZoneKind.Planet ? 31 : 7, 7, 5);
  game.enterZone(z, 0);
  game.onSnapshot({ ...snapshot(1, 100, places.map(([x, y], i) => ({ id: 10 + i, x, y, vx: 0, vy: 0 }))), zoneKind: kind, zoneId: z.zoneId }, 0);
  return game;
}

test('on a surface, ships landed 80 units apart are drawn clear of each other; space keeps its scale', () => {
  // Two ships that landed from the south, 79 units apart (the play-test's); a ship is drawn at most 12 px from its centre.
  const places: [number, number][] = [[-39.5, -150], [39.5, -150]];
  const view: View = { zoom: 0.12, mapOpen: false, mapHover: null, plannedRoute: [] };
  const surface = zoneCanvas(800, 600);
  drawZone(surface.ctx, zoneWithShips(ZoneKind.Planet, places), view, 0, null);
  expect(surface.ships.length === 2, `two ships drawn: ${JSON.stringify(surface.ships)}`);
  const apart = Math.hypot(surface.ships[0]![0] - surface.ships[1]![0], surface.ships[0]![1] - surface.ships[1]![1]);
  expect(apart > 2 * 12 + 10, `on the surface ${apart.toFixed(1)} px apart`);
  // Every landing place (120 to 180 units out) is within reach of a 600 x 400 window centred on one of them.
  expect(2 * 180 * zoneScale(view, { kind: ZoneKind.Planet, planet }) < 200 - 12, 'the far side of the site in a 600 x 400 window');
  const space = zoneCanvas(800, 600);
  drawZone(space.ctx, zoneWithShips(ZoneKind.System, places), view, 0, null);
  near(space.ships[1]![0] - space.ships[0]![0], 79 * 0.12, 'space is drawn at its own scale');
  // + and − zoom the view shown; the other keeps its scale.
  zoomZone(view, { kind: ZoneKind.Planet, planet }, 2);
  expect(view.zoom === 0.12 && zoneScale(view, { kind: ZoneKind.Planet, planet }) === 2 * SURFACE_ZOOM, `surface zoomed: ${JSON.stringify(view)}`);
  zoomZone(view, { kind: ZoneKind.System, planet: null }, 1 / 1.4);
  near(view.zoom, 0.12 / 1.4, 'space zoomed');
  expect(view.surfaceZoom === 2 * SURFACE_ZOOM, 'the surface kept its zoom');
  zoomZone(view, null, 1e6);
  expect(view.zoom === 2, `at most 2 px a unit: ${view.zoom}`);
});

test('the landing site\'s label is drawn below every place a landed ship can stand', () => {
  const label = (texts: { text: string; y: number }[]) => texts.find((t) => t.text.includes('landing site'))!;
  for (const zoom of [0.02, 0.12, SURFACE_ZOOM, 1, 2]) {
    // Ships landed from the south, at the nearest and farthest reach (120 and 180 units out).
    const { ctx, ships, texts } = zoneCanvas(800, 600);
    drawZone(ctx, zoneWithShips(ZoneKind.Planet, [[0, -120], [0, -180], [60, -160]]), { zoom: 0.12, surfaceZoom: zoom, mapOpen: false, mapHover: null, plannedRoute: [] }, 0, null);
    const top = label(texts).y - 12; // 12 px text: its top above the baseline
    for (const [, y] of ships) expect(y + 12 < top, `zoom ${zoom}: a ship reaches ${y + 12}, the label starts at ${top}`);
    expect(landingLabelOffset(zoom) - 12 > Math.max(60 * zoom, 24), `zoom ${zoom}: below the pad`);
  }
});

// ---- keys ----

function keyboard() {
  const handlers: ((e: unknown) => void)[] = [];
  (globalThis as unknown as Record<string, unknown>).HTMLInputElement ??= class {};
  const controls = new Controls();
  controls.attach({ addEventListener: (type: string, fn: (e: unknown) => void) => type === 'keydown' && handlers.push(fn) } as unknown as Window);
  let prevented = false;
  const press = (key: string, code: string, repeat = false, mods: { ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean } = {}) => {
    prevented = false;
    for (const h of handlers) h({ key, code, repeat, target: null, ...mods, preventDefault() { prevented = true; } });
    return prevented;
  };
  return { controls, press };
}

test('command keys go by the character typed (any layout, either case), flight keys by position', () => {
  const { controls, press } = keyboard();
  press('m', 'Semicolon'); // M on AZERTY
  press(',', 'KeyM'); // the QWERTY M position on AZERTY types a comma
  press('J', 'KeyJ'); // Shift or Caps Lock
  press('g', 'KeyU'); // G on Dvorak
  const got = controls.take();
  expect(JSON.stringify(got) === '["map","jump","autopilotGate"]', `commands ${JSON.stringify(got)}`);
  press('z', 'KeyW'); // thrust where W is on QWERTY, whatever it types
  expect(controls.stick().thrust === 1, 'KeyW thrusts');
});

test('a key typing no ASCII letter goes by position: caseless scripts, marks, accented letters', () => {
  const { controls, press } = keyboard();
  press('ь', 'KeyM'); // Russian
  press('צ', 'KeyM'); // Hebrew
  press('ة', 'KeyM'); // Arabic
  press('ㅡ', 'KeyM'); // Korean
  press('\u05c2', 'KeyM'); // a combining mark
  press('ע', 'KeyG'); // Hebrew G position
  press('è', 'KeyT'); // Bépo: an accented letter too
  press(',', 'KeyM'); // ASCII punctuation: nothing (AZERTY has M elsewhere)
  press('1', 'KeyJ'); // nor a digit
  const got = controls.take();
  expect(JSON.stringify(got) === '["map","map","map","map","map","autopilotGate","takeOff"]', `commands ${JSON.stringify(got)}`);
});

test('Ctrl and ⌘ shortcuts reach the browser, on the flight keys too; AltGr does not count', () => {
  const { controls, press } = keyboard();
  for (const [key, code, mods] of [['s', 'KeyS', { ctrlKey: true }], ['d', 'KeyD', { ctrlKey: true }], ['a', 'KeyA', { metaKey: true }],
    ['w', 'KeyW', { metaKey: true }], ['l', 'KeyL', { ctrlKey: true }]] as const) {
    expect(!press(key, code, false, mods), `${JSON.stringify(mods)}+${key} was swallowed`);
  }
  const stick = controls.stick();
  expect(!stick.any && controls.take().length === 0, `no flight or command: ${JSON.stringify(stick)}`);
  expect(press('w', 'KeyW', false, { ctrlKey: true, altKey: true }) && controls.stick().thrust === 1, 'AltGr+W still thrusts');
});

test('the map title sits beside the HUD on a wide window and below it, wrapped, on a narrow one', () => {
  const measure = (text: string) => text.length * 7;
  const parts = ['main: 200 systems, 3 explored', 'click a system to plan a route, M to close'];
  const wide = layoutMapTitle(parts, 1280, { right: 230, bottom: 260 }, measure);
  expect(wide.length === 1 && wide[0].y === 24, `one line at the top: ${JSON.stringify(wide)}`);
  expect(wide[0].x - wide[0].width / 2 >= 230, 'clear of the HUD');
  // 420 px wide (helper-45's window): before, one 100-character line centred at 210, off both edges and under the HUD.
  const narrow = layoutMapTitle(parts, 420, { right: 232, bottom: 260 }, measure);
  expect(narrow.length === 2 && narrow[0].y > 260, `two lines below the HUD: ${JSON.stringify(narrow)}`);
  for (const line of narrow) expect(line.x - line.width / 2 >= 0 && line.x + line.width / 2 <= 420, `inside the window: ${line.text}`);
  const tiny = layoutMapTitle(parts, 200, { right: 150, bottom: 100 }, measure);
  for (const line of tiny) expect(line.width <= 176 || !line.text.includes(' '), `words wrapped to the room: ${line.text}`);
  expect(tiny.map((l) => l.text).join(' ') === parts.join(' '), 'no word lost');
  // A word wider than the room (a long galaxy name) is broken, not run off the edges (helper-62).
  const long = layoutMapTitle(['Andromedaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 2 systems'], 200, { right: 150, bottom: 100 }, measure);
  for (const line of long) expect(line.width <= 176, `broken to fit: ${line.text}`);
  // The map goes below the HUD and the title, or right of the HUD, whichever leaves the larger square: never under it.
  const hud = { right: 232, bottom: 260 };
  const view = { zoom: 1, mapOpen: true, mapHover: null, plannedRoute: [], mapTitle: narrow, hud };
  const at = (v: typeof view, width: number, height: number) => JSON.stringify(mapArea(v, width, height));
  expect(at(view, 420, 760) === JSON.stringify({ left: 0, top: narrow[1].y + 10, bottom: 730 }), `below the title on 420 x 760: ${at(view, 420, 760)}`);
  const wideView = { ...view, mapTitle: wide };
  expect(at(wideView, 700, 1000) === JSON.stringify({ left: 0, top: 270, bottom: 970 }), `below the HUD on 700 x 1000: ${at(wideView, 700, 1000)}`);
  expect(at(wideView, 1280, 800) === JSON.stringify({ left: 232, top: 34, bottom: 770 }), `right of the HUD on 1280 x 800: ${at(wideView, 1280, 800)}`);
  // helper-68: on 600 x 400 five systems were drawn under the HUD, where a click reached the HUD, not the map.
  const galaxy = { name: 'g', systems: Array.from({ length: 200 }, (_, i) => ({ id: i + 1, name: `s${i}`, x: (i * 37) % 100, y: (i * 53) % 100, planets: 1, gates: [] })), contentHash: '' };
  const small = { ...view, mapTitle: layoutMapTitle(parts, 600, { right: 230, bottom: 197 }, measure), hud: { right: 230, bottom: 197 } };
  const t = mapTransform(galaxy, 600, 400, mapArea(small, 600, 400));
  const under = galaxy.systems.filter((s) => t.x(s.x) <= 230 && t.y(s.y) <= 197);
  expect(under.length === 0, `${under.length} systems under the HUD`);
  expect(galaxy.systems.every((s) => t.x(s.x) >= 0 && t.x(s.x) <= 600 && t.y(s.y) >= 0 && t.y(s.y) <= 400), 'every system in the window');
  // The play-test's 600 x 400: the help line wraps onto three lines (in Chromium its top is 54 px above the bottom; one
  // line was assumed, 30 px): the map, its rectangle (where zoomed systems and names are clipped) and every system end
  // above it.
  const helped = { ...small, helpTop: 346 };
  const h = mapTransform(galaxy, 600, 400, mapArea(helped, 600, 400));
  expect(h.rect.top + h.rect.height <= 346 - 8, `the map's rectangle ends at ${h.rect.top + h.rect.height}, the help starts at 346`);
  const low = galaxy.systems.filter((s) => h.y(s.y) > 346 - MAP_MARGIN);
  expect(low.length === 0, `${low.length} systems within the margin of the help line or under it`);
  expect(h.rect.height >= 160 && h.rect.left === 230, `right of the HUD, still large: ${JSON.stringify(h.rect)}`);
  expect(galaxy.systems.every((s) => h.x(s.x) > 230), 'none under the HUD');
  // helper-69: a window both narrow and short (450 x 350) left the map no room clear of the HUD and drew it in one pixel.
  const cramped = { ...view, mapTitle: layoutMapTitle(parts, 450, { right: 230, bottom: 197 }, measure), hud: { right: 230, bottom: 197 } };
  const c = mapTransform(galaxy, 450, 350, mapArea(cramped, 450, 350));
  const tall = Math.max(...galaxy.systems.map((s) => c.y(s.y))) - Math.min(...galaxy.systems.map((s) => c.y(s.y)));
  expect(tall >= 150, `450 x 350: the galaxy is ${tall.toFixed(1)} px tall`);
});

test('+ and − repeat while held; other commands do not', () => {
  const { controls, press } = keyboard();
  press('-', 'Minus');
  press('-', 'Minus', true);
  press('-', 'Minus', true);
  press('+', 'Equal', true);
  press('g', 'KeyG');
  press('g', 'KeyG', true);
  const got = controls.take();
  expect(JSON.stringify(got) === '["zoomOut","zoomOut","zoomOut","zoomIn","autopilotGate"]', `commands ${JSON.stringify(got)}`);
});

// ---- the galaxy map: zoom, pan, click or drag, names ----

const rect = { left: 100, top: 50, width: 800, height: 600 };
// A galaxy 1000 ly square, a system every 50 ly: one is in the middle half of the view wherever it is, up to zoom 10
// (only the axis rule acts).
const square = mapGalaxy(Array.from({ length: 441 }, (_, i) => ({ x: -500 + 50 * (i % 21), y: -500 + 50 * Math.floor(i / 21) })));
const near = (a: number, b: number, what: string) => expect(Math.abs(a - b) < 1e-6, `${what}: ${a}, expected ${b}`);

test('the map view maps galaxy ↔ screen: the whole galaxy fits at zoom 1, zoom scales about the centre', () => {
  const fit = mapProjection(square, rect, null, 10);
  // 1000 ly into 600 − 2 × 40 px, centred in the rectangle (as mapTransform placed it before zoom existed).
  near(fit.k, 520 / 1000, 'scale');
  near(screenX(fit, -500), 500 - 260, 'left edge');
  near(screenY(fit, 500), 350 - 260, 'top edge (galaxy y up)');
  near(screenY(fit, -500), 350 + 260, 'bottom edge');
  const zoomed = mapProjection(square, rect, { zoom: 4, x: 100, y: -50 }, 10);
  near(screenX(zoomed, 100), 500, 'the camera point at the centre (x)');
  near(screenY(zoomed, -50), 350, 'the camera point at the centre (y)');
  near(screenX(zoomed, 110) - screenX(zoomed, 100), 10 * 4 * fit.k, '4 times the distance');
  near(galaxyX(zoomed, screenX(zoomed, 123.5)), 123.5, 'round trip x');
  near(galaxyY(zoomed, screenY(zoomed, -321)), -321, 'round trip y');
  // Out of limits: zoom between 1 and the most; at zoom 1 any pan shows the whole galaxy, centred along the axis that
  // sets the scale (here y: the rectangle is wider than tall).
  expect(mapProjection(square, rect, { zoom: 50, x: 0, y: 0 }, 10).zoom === 10, 'zoom capped at the most');
  const back = mapProjection(square, rect, { zoom: 0.2, x: 400, y: 400 }, 10);
  expect(back.zoom === 1 && back.cy === 0, `zoom 1, centred in y: ${JSON.stringify(back)}`);
  expect(screenX(back, square.bounds.minX) >= rect.left + MAP_MARGIN - 1e-9 && screenX(back, square.bounds.maxX) <= rect.left + rect.width - MAP_MARGIN + 1e-9,
    `the whole galaxy in view: ${screenX(back, square.bounds.minX)}..${screenX(back, square.bounds.maxX)}`);
  expect(maxMapZoom(200) > 8 && maxMapZoom(200) < 12 && maxMapZoom(3) === 4 && maxMapZoom(60_000) > maxMapZoom(200),
    `most zoom ${maxMapZoom(3)}, ${maxMapZoom(200)}, ${maxMapZoom(60_000)}`);
});

test('zooming keeps the point under the pointer where it is, within the limits', () => {
  let camera: MapCamera | null = null;
  const px = 560, py = 380; // where the first steps need no clamping (near an edge the galaxy is kept covering the view)
  const before = mapProjection(square, rect, camera, 10);
  const gx = galaxyX(before, px), gy = galaxyY(before, py);
  for (let i = 0; i < 3; i++) {
    camera = zoomAt(square, rect, 10, camera, px, py, 1.5);
    const p = mapProjection(square, rect, camera, 10);
    near(screenX(p, gx), px, `step ${i}: x under the pointer`);
    near(screenY(p, gy), py, `step ${i}: y under the pointer`);
  }
  near(camera!.zoom, 1.5 ** 3, 'zoomed 1.5 ^ 3');
  for (let i = 0; i < 20; i++) camera = zoomAt(square, rect, 10, camera, px, py, 1.5);
  expect(camera!.zoom === 10, `stops at the most: ${camera!.zoom}`);
  for (let i = 0; i < 20; i++) camera = zoomAt(square, rect, 10, camera, px, py, 1 / 1.5);
  const out = mapProjection(square, rect, camera, 10);
  expect(out.zoom === 1 && out.cy === 0 && screenX(out, square.bounds.minX) >= rect.left + MAP_MARGIN - 1e-9
    && screenX(out, square.bounds.maxX) <= rect.left + rect.width - MAP_MARGIN + 1e-9, `out to the whole galaxy: ${JSON.stringify(camera)}`);
  // A mouse notch in Chrome (100 px) and in Firefox (3 lines) zoom alike; wheel up is in; one event at most 2 times.
  const notch = wheelZoomFactor(-100, 0);
  expect(notch > 1.2 && notch < 1.4 && Math.abs(wheelZoomFactor(-3, 1) - notch) < 0.05, `notch ${notch}, lines ${wheelZoomFactor(-3, 1)}`);
  near(wheelZoomFactor(100, 0) * notch, 1, 'down undoes up');
  expect(wheelZoomFactor(-1, 2) === 2 && wheelZoomFactor(5000, 0) === 0.5, 'a page at most doubles');
});

test('dragging pans the map with the pointer, never the galaxy out of sight', () => {
  const camera = { zoom: 4, x: 0, y: 0 };
  const p = mapProjection(square, rect, camera, 10);
  const moved = mapProjection(square, rect, panBy(square, rect, 10, camera, 30, -20), 10);
  near(screenX(moved, 77) - screenX(p, 77), 30, 'x follows');
  near(screenY(moved, 77) - screenY(p, 77), -20, 'y follows');
  // Dragged far right and down: the galaxy's left and top edges stop at the margin, not beyond.
  const far = mapProjection(square, rect, panBy(square, rect, 10, camera, 1e6, 1e6), 10);
  near(screenX(far, square.bounds.minX), rect.left + MAP_MARGIN, 'left edge held at the margin');
  near(screenY(far, square.bounds.maxY), rect.top + MAP_MARGIN, 'top edge held at the margin');
  // At zoom 1 the galaxy fills the rectangle's height: no drag up or down; sideways only while it stays whole in view.
  const fit = mapProjection(square, rect, panBy(square, rect, 10, null, 1e6, 100), 10);
  expect(fit.cy === 0 && fit.zoom === 1, `no pan in y at zoom 1: ${JSON.stringify(fit)}`);
  near(screenX(fit, square.bounds.maxX), rect.left + rect.width - MAP_MARGIN, 'right edge held inside the margin');
});

test('a zoomed map dragged or zoomed into the empty corner of a sparse galaxy keeps a system in view', () => {
  // 60 systems on a ring 500 ly out: the corners of its bounding box are 207 ly from the nearest one. Zoomed in 8
  // times the view is about 125 ly wide inside the margin: with the axis rule alone, a drag to the corner showed nothing.
  const ring = mapGalaxy(Array.from({ length: 60 }, (_, i) => ({ x: 500 * Math.cos(i * Math.PI / 30), y: 500 * Math.sin(i * Math.PI / 30) })));
  const inner = (p: ReturnType<typeof mapProjection>) => ring.systems.filter((s) =>
    screenX(p, s.x) >= rect.left + MAP_MARGIN - 1e-6 && screenX(p, s.x) <= rect.left + rect.width - MAP_MARGIN + 1e-6
    && screenY(p, s.y) >= rect.top + MAP_MARGIN - 1e-6 && screenY(p, s.y) <= rect.top + rect.height - MAP_MARGIN + 1e-6);
  // From zoom 2 on, one in the middle half of the view (a quarter of its inner width and height from the centre).
  const middle = (p: ReturnType<typeof mapProjection>) => ring.systems.filter((s) =>
    Math.abs(screenX(p, s.x) - p.ox) <= (rect.width / 2 - MAP_MARGIN) / 2 + 1e-6
    && Math.abs(screenY(p, s.y) - p.oy) <= (rect.height / 2 - MAP_MARGIN) / 2 + 1e-6);
  const start = { zoom: 8, x: 340, y: 340 }; // on the ring, north-east
  expect(inner(mapProjection(ring, rect, start, 10)).length > 0, 'systems in view at the start');
  for (const [dx, dy] of [[-1e6, 1e6], [1e6, 1e6], [-1e6, -1e6], [1e6, -1e6], [0, 1e6], [-1e6, 0]]) {
    const camera = panBy(ring, rect, 10, start, dx!, dy!);
    const p = mapProjection(ring, rect, camera, 10);
    expect(inner(p).length > 0, `dragged by (${dx}, ${dy}): no system in view at (${p.cx.toFixed(0)}, ${p.cy.toFixed(0)})`);
    // Toward a corner, one is near the middle; toward a side the axis rule holds the ring's edge at the margin.
    if (dx !== 0 && dy !== 0) expect(middle(p).length > 0, `dragged by (${dx}, ${dy}): none in the middle half`);
    // The camera kept is the one in force: drawn again (every frame), the view does not move on by itself.
    const again = mapProjection(ring, rect, camera, 10);
    near(again.cx, p.cx, 'kept x');
    near(again.cy, p.cy, 'kept y');
    // Dragged back, it follows the pointer again from where it stopped (nothing to undo).
    const back = mapProjection(ring, rect, panBy(ring, rect, 10, camera, -Math.sign(dx!) * 20, -Math.sign(dy!) * 20), 10);
    expect(inner(back).length > 0, 'dragged back: systems in view');
  }
  // Asked for the bounding box's corner, the view shows the ring's edge (the axis rule alone gave (413, 437): nothing).
  const corner = mapProjection(ring, rect, { zoom: 8, x: 500, y: 500 }, 10);
  expect(middle(corner).length > 0, `the empty corner: nothing near the middle at (${corner.cx}, ${corner.cy})`);
  // At zoom 1 the rule changes nothing the axis rule allows: any pan keeps the whole galaxy in view.
  const whole = mapProjection(ring, rect, { zoom: 1, x: 150, y: 0 }, 10);
  expect(whole.cx === 150 && whole.cy === 0 && inner(whole).length === 60, `zoom 1: ${JSON.stringify(whole)}`);
  const east = mapProjection(ring, rect, { zoom: 8, x: 500, y: 0 }, 10);
  near(east.cy, 0, 'a system at the edge of the box can be looked at (y)');
  // Zooming in around a point in the empty corner (a wheel there): the view stays on the ring.
  let camera: MapCamera | null = { zoom: 1.5, x: 0, y: 0 };
  for (let i = 0; i < 10; i++) camera = zoomAt(ring, rect, 10, camera, rect.left + rect.width - 5, rect.top + 5, 1.5);
  const zoomed = mapProjection(ring, rect, camera, 10);
  expect(zoomed.zoom === 10 && middle(zoomed).length > 0, `zoomed into the corner: ${JSON.stringify(camera)}`);
  // A centre already allowed is left alone: inside the ring's band a drag follows the pointer exactly.
  const free = mapProjection(ring, rect, panBy(ring, rect, 10, start, 30, -10), 10);
  near(free.cx, start.x - 30 / free.k, 'x follows');
  near(free.cy, start.y - 10 / free.k, 'y follows');
});

test('a press that moves a few pixels is a click; further it is a drag that pans from the press on', () => {
  const drag = new MapDrag();
  expect(drag.up() === null && !drag.move(50, 50), 'nothing without a press');
  drag.down(100, 100);
  expect(!drag.move(103, 104) && !drag.move(97, 98), 'within 5 px: no pan');
  expect(drag.up() === 'click', 'a click');
  expect(!isDrag(3, 4) && isDrag(4, 4), 'the threshold is 5 px');
  drag.down(100, 100);
  expect(!drag.move(104, 100), 'not yet');
  expect(drag.move(106, 100) && drag.dx === 6 && drag.dy === 0, `past it: the whole way from the press (${drag.dx}, ${drag.dy})`);
  expect(drag.move(110, 95) && drag.dx === 4 && drag.dy === -5, `then each move (${drag.dx}, ${drag.dy})`);
  expect(drag.move(100, 100), 'back at the press it still pans');
  expect(drag.up() === 'drag', 'a drag, never a click');
  drag.down(10, 10);
  drag.cancel();
  expect(drag.up() === null, 'a cancelled press is neither');
});

test('names are left out where they would overlap one drawn before them, in the order given', () => {
  const kept = declutter([
    [0, 0, 60, 13], // first: always drawn
    [50, 5, 110, 18], // overlaps the first
    [60, 0, 120, 13], // touches the first only: drawn
    [100, 10, 160, 23], // overlaps the third, which was drawn
    [200, 300, 260, 313], // far off
    [-900, -900, -840, -887], // outside the rectangle (filed in its corner cell): overlaps nothing
    [-890, -895, -850, -880], // overlaps the one outside
    [190, 250, 330, 320], // spans several cells, overlapping the far one
  ], { left: 0, top: 0, width: 800, height: 600 });
  expect(JSON.stringify(kept) === '[true,false,true,false,true,true,false,false]', `kept ${JSON.stringify(kept)}`);
  // A reused index forgets the last frame's boxes.
  const index = new LabelIndex();
  declutter([[0, 0, 60, 13]], rect, index);
  expect(declutter([[0, 0, 60, 13]], rect, index)[0] === true, 'reset between frames');
});

/** A canvas that records the text drawn (6 px a character), filled and stroked, in order, with the stroke's style. */
function textCanvas(width: number, height: number) {
  const texts: { text: string; x: number; y: number }[] = [];
  const ops: { op: 'fill' | 'stroke'; text: string; x: number; y: number; style: unknown; width: unknown }[] = [];
  const ctx = new Proxy({ canvas: { width, height } } as Record<string | symbol, unknown>, {
    get: (t, k) => {
      if (k in t) return t[k];
      if (k === 'fillText') {
        return (text: string, x: number, y: number) => {
          texts.push({ text, x, y });
          ops.push({ op: 'fill', text, x, y, style: t.fillStyle, width: 0 });
        };
      }
      if (k === 'strokeText') {
        return (text: string, x: number, y: number) => ops.push({ op: 'stroke', text, x, y, style: t.strokeStyle, width: t.lineWidth });
      }
      return k === 'measureText' ? (text: string) => ({ width: text.length * 6 }) : () => {};
    },
    set: (t, k, v) => {
      t[k] = v;
      return true;
    },
  }) as unknown as CanvasRenderingContext2D;
  return { ctx, texts, ops };
}

test('map names: the current system, the route, own systems and explored ones first; zooming in shows the rest', () => {
  // Five systems 5 ly apart in a column, in a galaxy 1000 ly wide (95 more on a ring around it): 2.8 px apart when it
  // all fits, so only one name of the five shows; zoomed in 6 times, 17 px apart, all five.
  const column = ['Alpha', 'Beta', 'Gamma', 'Delta', 'Epsilon'].map((name, i) => ({ id: i + 1, name, x: 0, y: 5 * i, planets: 2, gates: [] }));
  const ring = Array.from({ length: 95 }, (_, i) => ({
    id: i + 6, name: `Far${i}`, x: 500 * Math.cos(i * 2 * Math.PI / 95), y: 500 * Math.sin(i * 2 * Math.PI / 95), planets: 2, gates: [],
  }));
  const galaxy = { name: 'g', contentHash: '', systems: [...column, ...ring] };
  const game = new GameState();
  const player = { type: 'playerState' as const, credits: 0, shipType: 'scout', hull: 1, maxHull: 1, homeSystem: 0, explored: [] as number[], route: [] as number[], colonies: [] as number[] };
  const view: View = { zoom: 1, mapOpen: true, mapHover: null, plannedRoute: [], mapCamera: null };
  const shown = (v: View) => {
    const { ctx, texts } = textCanvas(900, 700);
    drawMap(ctx, galaxy, game, v);
    return column.map((s) => s.name).filter((n) => texts.some((t) => t.text === n));
  };
  const one = (change: Partial<typeof player>, expected: string, what: string) => {
    game.onPlayerState({ ...player, ...change });
    const got = shown(view);
    expect(JSON.stringify(got) === JSON.stringify([expected]), `${what}: ${JSON.stringify(got)}`);
  };
  one({}, 'Alpha', 'none known: the first');
  one({ explored: [2] }, 'Beta', 'an explored system before the rest');
  // Planets are numbered in system order, two a system here: planet 6 is the third system's.
  one({ explored: [2], colonies: [6] }, 'Gamma', 'a colony\'s system before an explored one');
  one({ explored: [2], homeSystem: 3 }, 'Gamma', 'home before an explored one');
  one({ explored: [2], colonies: [6], route: [4, 7] }, 'Delta', 'a system on the route before a colony');
  one({ explored: [2], colonies: [6], route: [7, 4] }, 'Delta', 'the destination too');
  one({ explored: [2], colonies: [6], route: [4, 7, 5] }, 'Epsilon', 'the destination before the route');
  game.enterZone({ ...zoneEnter(5), systemId: 1 }, 0);
  one({ explored: [2], colonies: [6], route: [4, 7, 5] }, 'Alpha', 'the current system first');
  // The name under the pointer is shown too, over the others.
  const hovered = shown({ ...view, mapHover: 3 });
  expect(JSON.stringify(hovered) === '["Alpha","Gamma"]', `hovered: ${JSON.stringify(hovered)}`);
  // Zoomed in on the column: every name.
  const t = mapTransform(galaxy, 900, 700, mapArea(view, 900, 700));
  view.mapCamera = t.zoomAt(t.x(0), t.y(10), 6);
  expect(shown(view).length === 5, `zoomed in: ${JSON.stringify(shown(view))}`);
  // The map as drawn and clicked agree when zoomed: each system is picked where it is drawn; nothing beyond the map.
  const z = mapTransform(galaxy, 900, 700, mapArea(view, 900, 700), view.mapCamera);
  for (const s of column) expect(z.pick(z.x(s.x), z.y(s.y)) === s.id, `${s.name} picked where it is drawn`);
  expect(z.pick(z.x(ring[0]!.x), z.y(ring[0]!.y)) === null, 'a system off the map is not picked');
});

test('map names are drawn on a dark halo, so lines under them do not make them unreadable', () => {
  // Three systems in a row joined by gates, on a route: the lines run under the names.
  const systems = [0, 1, 2].map((i) => ({ id: i + 1, name: `Sys${i}`, x: 100 * i, y: 0, planets: 1, gates: [{ id: i + 1, to: i === 2 ? 2 : i + 2 }] }));
  const galaxy = { name: 'g', contentHash: '', systems };
  const game = new GameState();
  game.onPlayerState({ type: 'playerState', credits: 0, shipType: 'scout', hull: 1, maxHull: 1, homeSystem: 1, explored: [1, 2, 3], route: [1, 2, 3], colonies: [] });
  const { ctx, ops } = textCanvas(900, 700);
  drawMap(ctx, galaxy, game, { zoom: 1, mapOpen: true, mapHover: null, plannedRoute: [], mapCamera: null });
  let names = 0;
  ops.forEach((o, i) => {
    if (o.op !== 'fill' || !/^Sys/.test(o.text)) return;
    names++;
    const halo = ops[i - 1];
    expect(halo?.op === 'stroke' && halo.text === o.text && halo.x === o.x && halo.y === o.y, `${o.text}: no halo drawn just before it`);
    expect(halo!.style === 'rgb(3,5,12)' && Number(halo!.width) >= 2, `${o.text}: halo ${String(halo!.style)} ${String(halo!.width)} px`);
  });
  expect(names === 3, `three names drawn (${names})`);
});

test('0 shows the whole galaxy: by the character 0, or by position where that key types a letter (AZERTY\'s à)', () => {
  const { controls, press } = keyboard();
  press('0', 'Digit0');
  press('à', 'Digit0'); // AZERTY
  press('0', 'Numpad0');
  press('0', 'Digit0', true); // held: once
  press('1', 'Digit1');
  const got = controls.take();
  expect(JSON.stringify(got) === '["mapReset","mapReset","mapReset"]', `commands ${JSON.stringify(got)}`);
});

for (const { name, body } of tests) {
  try {
    await body();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message : e}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
(globalThis as unknown as { process: { exitCode: number } }).process.exitCode = failed === 0 ? 0 : 1;
