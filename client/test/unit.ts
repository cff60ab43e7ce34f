// Unit tests of the client's pure parts (prediction, interpolation, autopilot steering, the codec), bundled by
// esbuild for Node: node test/unit.mjs. Prints one line per test and, last, "N passed, N failed".
import * as flatbuffers from 'flatbuffers';
import type { ShipInfo } from '../src/assets';
import { steer } from '../src/autopilot';
import { decode, encode } from '../src/codec';
import { GameState, ZoneKind } from '../src/game';
import { stepShip } from '../src/physics';
import { ClientMessage } from '../src/protocol/sol/protocol/client-message';
import { ClientPayload, Input, SetRoute } from '../src/protocol/sol_generated';

const scout: ShipInfo = { id: 'scout', name: 'Scout', maxSpeed: 420, thrust: 300, turnRate: 3.4, hull: 100, radius: 18 };
let passed = 0;
let failed = 0;
function test(name: string, body: () => void): void {
  try {
    body();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message : e}`);
  }
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

console.log(`${passed} passed, ${failed} failed`);
(globalThis as unknown as { process: { exitCode: number } }).process.exitCode = failed === 0 ? 0 : 1;
