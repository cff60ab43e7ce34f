// The client's picture of the game: the zone it is in, the last snapshots (for interpolation), the player's state,
// and the own ship predicted from unacknowledged inputs. Pure state and arithmetic: no DOM, no socket.
import type { ShipInfo } from './assets';
import type { ColonyView, EntityView, EventView, GateView, PlanetView, ServerEvent, StarView } from './codec';
import { angleDiff, lerp, stepShip, type ShipState } from './physics';
import { EntityKind, ErrorCode, ZoneKind } from './protocol/sol_generated';
import { EntityFlags } from './protocol/sol/protocol/entity-flags';

type ZoneEnterEvent = Extract<ServerEvent, { type: 'zoneEnter' }>;
type SnapshotEvent = Extract<ServerEvent, { type: 'snapshot' }>;
type PlayerStateEvent = Extract<ServerEvent, { type: 'playerState' }>;

/**
 * The first input sequence number of a page. Numbers must grow across page loads (a resumed session's ship keeps the
 * last page's, and the server ignores older inputs), so the start grows with the clock a little faster than one input
 * per tick at the server's tick rate (a start of now / 50 ms fell behind a page sending 30 a second). It wraps at 2^32
 * like the uint32 it is sent as: sequence numbers compare with serial arithmetic, on the server as here.
 */
export function firstInputSeq(nowMs: number, tickRate: number): number {
  return Math.floor((nowMs / 1000) * (tickRate + 1)) % 2 ** 32;
}

export interface Zone {
  kind: ZoneKind; id: number; systemId: number; name: string; entity: number;
  stars: StarView[]; planets: PlanetView[]; gates: GateView[]; colonies: ColonyView[]; planet: PlanetView | null;
}

interface StoredSnapshot { tick: number; time: number; entities: Map<number, EntityView> }

export interface PendingInput { seq: number; thrust: number; turn: number }

/** How far behind the newest snapshot other entities are drawn: two ticks, so one late snapshot does not stall them. */
const INTERPOLATION_TICKS = 2;

export class GameState {
  tickRate = 20;
  zone: Zone | null = null;
  player: PlayerStateEvent | null = null;
  /** The player's id from the Welcome (colonies name their owner by it). */
  playerId: string | null = null;
  ships: ShipInfo[] = [];
  /** Zone time minus local seconds (performance.now()/1000), smoothed. */
  private offset: number | null = null;
  private snapshots: StoredSnapshot[] = [];
  lastTick = 0;
  lastAck = { tick: 0, lastSeq: 0, entity: 0 };
  snapshotsSeen = 0;
  zoneEnters = 0;
  /** The own ship as the server last acknowledged it, then with the pending inputs re-applied. */
  predicted: (ShipState & { hull: number; flags: number; shipClass: number }) | null = null;
  /** What the own ship was drawn at minus the prediction: decays so a correction glides instead of jumping. */
  private correction = { x: 0, y: 0 };
  private pending: PendingInput[] = [];
  private lastInputAt = 0;
  recentEvents: { at: number; text: string }[] = [];
  /** How far each reconciliation moved the drawn own ship: a running mean and the largest (units). */
  corrections = { count: 0, mean: 0, max: 0 };

  get dt(): number {
    return 1 / this.tickRate;
  }

  enterZone(e: ZoneEnterEvent, nowSeconds: number): void {
    this.zone = {
      kind: e.zoneKind, id: e.zoneId, systemId: e.systemId, name: e.name, entity: e.entity,
      stars: e.stars, planets: e.planets, gates: e.gates, colonies: e.colonies, planet: e.planet,
    };
    this.offset = e.time - nowSeconds;
    this.snapshots = [];
    this.predicted = null;
    this.pending = [];
    this.correction = { x: 0, y: 0 };
    this.zoneEnters++;
  }

  onSnapshot(s: SnapshotEvent, nowSeconds: number): void {
    if (!this.zone || s.zoneId !== this.zone.id || s.zoneKind !== this.zone.kind) return;
    this.snapshotsSeen++;
    this.lastTick = s.tick;
    const sample = s.time - nowSeconds;
    // Late packets make the sample smaller; take a fast step toward early ones and a slow one toward late ones.
    if (this.offset === null || Math.abs(sample - this.offset) > 0.5) this.offset = sample;
    else this.offset += (sample - this.offset) * (sample > this.offset ? 0.2 : 0.02);
    const entities = new Map<number, EntityView>();
    for (const e of s.entities) entities.set(e.id, e);
    this.snapshots.push({ tick: s.tick, time: s.time, entities });
    if (this.snapshots.length > 40) this.snapshots.shift();
    for (const e of s.events) this.noteEvent(e);
  }

  onAck(a: { tick: number; entity: number; lastSeq: number }): void {
    this.lastAck = { tick: a.tick, lastSeq: a.lastSeq, entity: a.entity };
    const latest = this.snapshots.at(-1);
    const own = latest?.entities.get(a.entity);
    if (!own) return;
    const before = this.ownPosition(performance.now() / 1000);
    this.pending = this.pending.filter((p) => seqAfter(p.seq, a.lastSeq));
    const s = { x: own.x, y: own.y, vx: own.vx, vy: own.vy, rotation: own.rotation, hull: own.hull, flags: own.flags, shipClass: own.shipClass };
    // On a surface too: a ship flies there as in space (the server never sends the reserved Landed flag).
    const ship = this.ships[own.shipClass];
    for (const p of this.pending) stepShip(s, p.thrust, p.turn, ship, this.dt);
    this.predicted = s;
    if (before) {
      const after = this.ownPosition(performance.now() / 1000)!;
      const jump = Math.hypot(before.x - after.x, before.y - after.y);
      this.corrections.count++;
      this.corrections.mean += (jump - this.corrections.mean) / this.corrections.count;
      this.corrections.max = Math.max(this.corrections.max, jump);
      this.correction.x += before.x - after.x;
      this.correction.y += before.y - after.y;
      // A teleport (respawn, big disagreement) is shown as one, not glided over.
      if (Math.hypot(this.correction.x, this.correction.y) > 300) this.correction = { x: 0, y: 0 };
    }
  }

  /** Records an input just sent and applies it to the prediction at once. */
  onInputSent(input: PendingInput, nowSeconds: number): void {
    this.pending.push(input);
    if (this.pending.length > 120) this.pending.shift();
    this.lastInputAt = nowSeconds;
    if (this.predicted) {
      stepShip(this.predicted, input.thrust, input.turn, this.ships[this.predicted.shipClass], this.dt);
    }
  }

  /**
   * A colony founded now on a planet of this system, or on this planet: added to the zone's colonies (snapshots carry
   * only ships). One already listed is not added twice.
   */
  onColony(c: ColonyView): void {
    const zone = this.zone;
    if (!zone) return;
    const here = zone.kind === ZoneKind.Planet ? zone.id === c.planetId : zone.planets.some((p) => p.id === c.planetId);
    if (!here || zone.colonies.some((k) => k.planetId === c.planetId && k.owner === c.owner)) return;
    zone.colonies = [...zone.colonies, c];
  }

  onPlayerState(p: PlayerStateEvent): void {
    this.player = p;
  }

  /** The zone time now, extrapolated from the last snapshot by the local clock. */
  zoneTime(nowSeconds: number): number {
    return (this.offset ?? 0) + nowSeconds;
  }

  planetPosition(p: PlanetView, zoneTime: number): { x: number; y: number } {
    const angle = p.phase + (2 * Math.PI * zoneTime) / p.period;
    return { x: p.orbitRadius * Math.cos(angle), y: p.orbitRadius * Math.sin(angle) };
  }

  /** The own ship where it is drawn: the prediction, moved on by the time since the last input, plus the gliding correction. */
  ownPosition(nowSeconds: number): (ShipState & { hull: number; flags: number; shipClass: number }) | null {
    const p = this.predicted;
    if (!p) return null;
    const ahead = Math.min(Math.max(nowSeconds - this.lastInputAt, 0), this.dt);
    return { ...p, x: p.x + p.vx * ahead + this.correction.x, y: p.y + p.vy * ahead + this.correction.y };
  }

  /** Lets the correction decay; call once a frame. */
  decay(frameSeconds: number): void {
    const k = Math.exp(-frameSeconds * 8);
    this.correction.x *= k;
    this.correction.y *= k;
  }

  /** Every entity but the own ship, interpolated between the two snapshots around (zone time − two ticks). */
  interpolated(nowSeconds: number): EntityView[] {
    const n = this.snapshots.length;
    if (n === 0) return [];
    const t = this.zoneTime(nowSeconds) - INTERPOLATION_TICKS * this.dt;
    let a = this.snapshots[0]!;
    let b = a;
    for (let i = n - 1; i >= 0; i--) {
      const s = this.snapshots[i]!;
      if (s.time <= t) {
        a = s;
        b = this.snapshots[Math.min(i + 1, n - 1)]!;
        break;
      }
    }
    const span = b.time - a.time;
    const f = span > 0 ? Math.min(Math.max((t - a.time) / span, 0), 1) : 0;
    // Past the newest snapshot: extrapolate a little along the velocity rather than freeze.
    const beyond = a === b ? Math.min(Math.max(t - b.time, 0), 0.25) : 0;
    const own = this.zone?.entity;
    const out: EntityView[] = [];
    for (const [id, eb] of b.entities) {
      if (id === own) continue;
      const ea = a.entities.get(id) ?? eb;
      out.push({
        ...eb,
        x: lerp(ea.x, eb.x, f) + eb.vx * beyond,
        y: lerp(ea.y, eb.y, f) + eb.vy * beyond,
        rotation: ea.rotation + angleDiff(ea.rotation, eb.rotation) * f,
      });
    }
    return out;
  }

  /** The latest server-side view of the own ship (tests and HUD). */
  serverOwn(): EntityView | null {
    const own = this.zone?.entity;
    return own === undefined ? null : this.snapshots.at(-1)?.entities.get(own) ?? null;
  }

  private noteEvent(e: EventView): void {
    const own = this.zone?.entity;
    if (e.entity !== own) return;
    const text = describeEvent(e);
    if (text) {
      this.recentEvents.push({ at: performance.now(), text });
      if (this.recentEvents.length > 6) this.recentEvents.shift();
    }
  }
}

function describeEvent(e: EventView): string | null {
  switch (e.kind) {
    case 1: return `hit: −${e.value.toFixed(0)} hull`;
    case 2: return `destroyed (−${e.value.toFixed(0)} credits)`;
    case 3: return 'respawned at home';
    case 8: return 'colony founded';
    case 9: return `refused: ${codeWords(e.code)}`;
    default: return null;
  }
}

/**
 * What the toast says when a zone is entered, from the zone shown before (null: none yet on this page): "landed on P",
 * "took off from P into S" (a planet's surface left for its own system: before, it said "entered S", as after a jump),
 * "entered S" (a jump, a respawn elsewhere, the first system of the page), and "on P (surface)" or "in S" for the zone
 * already shown (a resumed connection) or a surface that is the page's first zone (a reload while landed): no landing
 * or take-off happened then.
 */
export function zoneEnterText(before: Pick<Zone, 'kind' | 'id' | 'systemId' | 'name'> | null,
  e: Pick<ZoneEnterEvent, 'zoneKind' | 'zoneId' | 'systemId' | 'name'>): string {
  const planet = e.zoneKind === ZoneKind.Planet;
  if (before?.kind === e.zoneKind && before.id === e.zoneId) return planet ? `on ${e.name} (surface)` : `in ${e.name}`;
  if (planet) return before ? `landed on ${e.name}` : `on ${e.name} (surface)`;
  if (before?.kind === ZoneKind.Planet && before.systemId === e.systemId) return `took off from ${before.name} into ${e.name}`;
  return `entered ${e.name}`;
}

/** An ErrorCode in words ("not landed"); a code this client does not know by its number. */
export function codeWords(code: number): string {
  const name = ErrorCode[code];
  return name === undefined ? `code ${code}` : name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** seq > after, in uint32 order with wrap-around. */
function seqAfter(seq: number, after: number): boolean {
  return ((seq - after) >>> 0) !== 0 && ((seq - after) >>> 0) < 0x8000_0000;
}

export { EntityFlags, EntityKind, ZoneKind };
