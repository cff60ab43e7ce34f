// Plays the start of a game against a running `sol serve` with Node's `ws` package (a WebSocket client nobody here
// wrote) and the `flatbuffers` runtime, decoding by the table layouts of protocol/sol.fbs:
// guest login -> asset manifest -> WebSocket (sol.v1, bearer token) -> Welcome -> ZoneEnter -> snapshots -> inputs
// whose sequence numbers come back in Acks. Usage: node check.mjs HTTP_BASE GAME_WS_URL
// Prints one line per check and ends with "N passed, N failed"; exits 1 when any check failed.
import * as flatbuffers from 'flatbuffers';
import WebSocket from 'ws';

const [httpBase, gameUrl] = process.argv.slice(2);
if (!httpBase || !gameUrl) {
  console.error('usage: node check.mjs HTTP_BASE GAME_WS_URL');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
}

// ServerPayload union tags (protocol/sol.fbs).
const WELCOME = 1, ZONE_ENTER = 2, SNAPSHOT = 3, ACK = 4, PLAYER_STATE = 5;

function field(bb, table, index) {
  return bb.__offset(table, 4 + 2 * index);
}

function decode(bytes) {
  const bb = new flatbuffers.ByteBuffer(new Uint8Array(bytes));
  const root = bb.readInt32(bb.position()) + bb.position();
  const typeAt = field(bb, root, 0);
  const type = typeAt ? bb.readUint8(root + typeAt) : 0;
  const valueAt = field(bb, root, 1);
  const t = valueAt ? bb.__indirect(root + valueAt) : 0;
  const str = (i) => { const o = field(bb, t, i); return o ? bb.__string(t + o) : null; };
  const u32 = (i) => { const o = field(bb, t, i); return o ? bb.readUint32(t + o) : 0; };
  const u16 = (i) => { const o = field(bb, t, i); return o ? bb.readUint16(t + o) : 0; };
  const u64 = (i) => { const o = field(bb, t, i); return o ? bb.readUint64(t + o) : 0n; };
  const vlen = (i) => { const o = field(bb, t, i); return o ? bb.__vector_len(t + o) : 0; };
  switch (type) {
    case WELCOME: return { type, clientId: str(0), playerId: str(1), tickRate: u16(3), protocol: str(4) };
    case ZONE_ENTER: return { type, zoneId: u32(1), name: str(3), entity: u32(5), gates: vlen(8) };
    case SNAPSHOT: return { type, tick: u64(0), entities: vlen(4) };
    case ACK: return { type, tick: u64(0), entity: u32(1), lastSeq: u32(2) };
    default: return { type };
  }
}

function input(seq, thrust, turn) {
  const b = new flatbuffers.Builder(64);
  b.startObject(4);
  b.addFieldInt32(0, seq, 0);
  b.addFieldFloat32(1, thrust, 0);
  b.addFieldFloat32(2, turn, 0);
  const payload = b.endObject();
  b.startObject(2);
  b.addFieldInt8(0, 1 /* ClientPayload.Input */, 0);
  b.addFieldOffset(1, payload, 0);
  b.finish(b.endObject());
  return b.asUint8Array();
}

async function main() {
  const login = await fetch(`${httpBase}/api/auth/guest`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ deviceId: `node-check-${process.pid}-${Date.now()}` }),
  });
  const auth = await login.json();
  check('guest login answers a token', login.status === 200 && typeof auth.token === 'string', `HTTP ${login.status}`);

  const manifest = await (await fetch(`${httpBase}/api/assets`)).json();
  check('asset manifest lists ships.json', manifest.some((a) => a.name === 'ships.json'));

  const ws = new WebSocket(gameUrl, 'sol.v1', { headers: { authorization: `Bearer ${auth.token}` } });
  ws.binaryType = 'nodebuffer';
  const seen = { welcome: null, enter: null, snapshots: 0, acks: [], firstTick: null, lastTick: null };
  const opened = new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); ws.once('unexpected-response', (_, r) => reject(new Error(`HTTP ${r.statusCode}`))); });
  ws.on('message', (data) => {
    const m = decode(data);
    if (m.type === WELCOME) seen.welcome = m;
    else if (m.type === ZONE_ENTER) seen.enter = m;
    else if (m.type === SNAPSHOT) { seen.snapshots++; seen.firstTick ??= m.tick; seen.lastTick = m.tick; }
    else if (m.type === ACK) seen.acks.push(m);
  });
  await opened;
  check('upgrade accepted with subprotocol sol.v1', ws.protocol === 'sol.v1', ws.protocol);

  const until = async (what, ok, ms = 5000) => {
    const end = Date.now() + ms;
    while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return ok();
  };
  check('Welcome arrives with a client id', await until('welcome', () => seen.welcome?.clientId), seen.welcome?.clientId ?? 'none');
  check('ZoneEnter names the zone and our ship', await until('enter', () => seen.enter?.entity > 0), seen.enter ? `${seen.enter.name}, entity ${seen.enter.entity}` : 'none');
  check('snapshots arrive at the tick rate', await until('snapshots', () => seen.snapshots >= 10), `${seen.snapshots} snapshots`);

  for (let seq = 1; seq <= 20; seq++) {
    ws.send(input(seq, 1, 0.2));
    await new Promise((r) => setTimeout(r, 20));
  }
  check('acks report the last input applied', await until('ack', () => seen.acks.some((a) => a.lastSeq === 20)), `last acked ${seen.acks.at(-1)?.lastSeq}`);
  check('acks name our ship', seen.acks.length > 0 && seen.acks.every((a) => a.entity === seen.enter.entity));

  const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  ws.close(1000, 'done');
  check('clean close', (await closed) === 1000);
}

try {
  await main();
} catch (e) {
  check('no unexpected error', false, e.message);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
