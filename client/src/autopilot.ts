// The autopilot, ported from the load generator's bot (tools/loadgen/Bot.Pilot.cs): turn toward the target, hold a
// speed that falls with the distance so the ship stops near it, and ask to jump (gate) or land (planet) once within
// reach (the steering itself differs, see steer). Gate mode follows the player's route (the next system on it) or else takes the nearest gate, and keeps
// going while the route goes on (on a planet it takes off first); land mode flies to the nearest planet.
import type { GameState } from './game';
import { angleDiff } from './physics';
import { ZoneKind } from './protocol/sol_generated';

export type AutopilotMode = 'off' | 'gate' | 'land';

/** Fraction of the gate's radius to be inside before jumping, and how near a planet's surface to land. */
const GATE_APPROACH = 0.7;
const LAND_REACH = 60;
const REQUEST_TIMEOUT_MS = 5000;

export type PilotRequest = { kind: 'jump'; gate: number } | { kind: 'land'; planet: number } | { kind: 'takeOff' };

export class Autopilot {
  mode: AutopilotMode = 'off';
  target: { kind: 'gate' | 'planet'; id: number; label: string } | null = null;
  status = '';
  /** The last steering: the offset to the target and the stick (HUD and tests). */
  last = { dx: 0, dy: 0, thrust: 0, turn: 0 };
  private waitingSince = 0;
  /** The system of the last zone entered (null before the first): a ZoneEnter in another system is a jump's arrival. */
  private system: number | null = null;

  engage(mode: AutopilotMode): void {
    this.mode = mode;
    this.target = null;
    this.waitingSince = 0;
    this.status = mode === 'off' ? '' : 'engaged';
  }

  /**
   * After a ZoneEnter: go on along the route, or stop. Gate mode ends only when a jump arrives where the route ends
   * (or with no route): a take-off stays in the same system and goes on to a gate, the nearest one without a route.
   */
  onZoneEnter(game: GameState): void {
    this.waitingSince = 0;
    this.target = null;
    const before = this.system;
    this.system = game.zone?.systemId ?? null;
    if (this.mode === 'gate') {
      const arrived = before !== null && this.system !== before;
      if (arrived && nextRouteSystem(game) === null) this.engage('off');
    } else if (this.mode === 'land' && game.zone?.kind === ZoneKind.Planet) {
      this.engage('off');
    }
  }

  onRefused(): void {
    if (this.waitingSince) {
      this.waitingSince = 0;
      this.target = null;
      this.status = 'refused, trying again';
    }
  }

  /** The steering for this tick, and a request to send when the target is within reach. */
  update(game: GameState, nowMs: number): { thrust: number; turn: number; request: PilotRequest | null } {
    const idle = { thrust: 0, turn: 0, request: null };
    const zone = game.zone;
    const own = game.ownPosition(nowMs / 1000);
    if (this.mode === 'off' || !zone || !own) return idle;
    if (this.waitingSince) {
      if (nowMs - this.waitingSince > REQUEST_TIMEOUT_MS) {
        this.waitingSince = 0;
        this.target = null;
      }
      return idle;
    }
    if (zone.kind === ZoneKind.Planet) {
      if (this.mode === 'gate') {
        this.waitingSince = nowMs;
        this.status = 'taking off';
        return { ...idle, request: { kind: 'takeOff' } };
      }
      // Land mode on a surface: nothing to fly to.
      return this.stop('already landed: T to take off');
    }
    const time = game.zoneTime(nowMs / 1000) + 0.1;
    let tx: number, ty: number, reach: number;
    if (this.mode === 'gate') {
      const wanted = nextRouteSystem(game);
      const gates = zone.gates;
      if (gates.length === 0) return this.stop('no gate here');
      const byRoute = wanted === null ? undefined : gates.find((g) => g.targetSystemId === wanted);
      const gate = this.target
        ? gates.find((g) => g.id === this.target!.id) ?? gates[0]!
        : byRoute ?? nearest(gates, own.x, own.y, (g) => g);
      this.target = { kind: 'gate', id: gate.id, label: gate.targetName };
      [tx, ty, reach] = [gate.x, gate.y, gate.radius * GATE_APPROACH];
    } else {
      const planets = zone.planets;
      if (planets.length === 0) return this.stop('no planet here');
      const planet = this.target
        ? planets.find((p) => p.id === this.target!.id) ?? planets[0]!
        : nearest(planets, own.x, own.y, (p) => game.planetPosition(p, time));
      this.target = { kind: 'planet', id: planet.id, label: planet.name };
      const at = game.planetPosition(planet, time);
      [tx, ty, reach] = [at.x, at.y, planet.radius + LAND_REACH];
    }
    const dx = tx - own.x;
    const dy = ty - own.y;
    const distance = Math.hypot(dx, dy);
    this.status = `→ ${this.target.label} (${Math.round(distance)})`;
    if (distance < reach) {
      this.waitingSince = nowMs;
      this.status = this.target.kind === 'gate' ? `jumping to ${this.target.label}` : `landing on ${this.target.label}`;
      return {
        thrust: 0, turn: 0,
        request: this.target.kind === 'gate' ? { kind: 'jump', gate: this.target.id } : { kind: 'land', planet: this.target.id },
      };
    }
    const stick = steer(own, dx, dy, distance);
    this.last = { dx, dy, ...stick };
    return { ...stick, request: null };
  }

  private stop(why: string): { thrust: number; turn: number; request: null } {
    this.engage('off');
    this.status = why;
    return { thrust: 0, turn: 0, request: null };
  }
}

/**
 * Turn toward the target, and hold a speed that falls with the distance so the ship stops near it. Unlike the bot's
 * steering (which points at the target and brakes along its heading, and so can circle a target it reached with
 * sideways speed), this points the ship along the difference between the wanted velocity and the actual one, so
 * sideways drift is burned off too.
 */
export function steer(own: { rotation: number; vx: number; vy: number }, dx: number, dy: number, distance: number): { thrust: number; turn: number } {
  const wanted = Math.min(400, distance * 0.7);
  const ex = (dx / Math.max(distance, 1)) * wanted - own.vx;
  const ey = (dy / Math.max(distance, 1)) * wanted - own.vy;
  const error = Math.hypot(ex, ey);
  const heading = error < 8 ? Math.atan2(dy, dx) : Math.atan2(ey, ex);
  const diff = angleDiff(own.rotation, heading);
  const turn = Math.max(-1, Math.min(1, diff * 2.5));
  const thrust = error >= 8 && Math.abs(diff) < 0.35 ? Math.min(1, error / 60) : 0;
  return { thrust, turn };
}

/** The system after the current one on the player's route (or its first one when the route starts elsewhere). */
export function nextRouteSystem(game: GameState): number | null {
  const route = game.player?.route ?? [];
  const here = game.zone?.systemId;
  if (route.length === 0 || here === undefined) return null;
  const i = route.indexOf(here);
  if (i >= 0) return i + 1 < route.length ? route[i + 1]! : null;
  return route[0] !== here ? route[0]! : null;
}

function nearest<T>(items: T[], x: number, y: number, at: (item: T) => { x: number; y: number }): T {
  let best = items[0] as T;
  let bestD = Infinity;
  for (const item of items) {
    const p = at(item);
    const d = Math.hypot(p.x - x, p.y - y);
    if (d < bestD) {
      bestD = d;
      best = item;
    }
  }
  return best;
}
