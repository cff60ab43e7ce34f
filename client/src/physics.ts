// The own ship's motion as the server's zone steps it (src/Sol.Zones/Simulation/Systems/ControlSystem.cs and
// IntegrateSystem): angular velocity = turn × turnRate; thrust accelerates along the heading before the turn is
// applied; the speed is clamped to maxSpeed; then position += velocity × dt and rotation += angular × dt.
// Gravity and damage are left to the server: prediction only has to be close, the Ack corrects it.
import type { ShipInfo } from './assets';

export interface ShipState { x: number; y: number; vx: number; vy: number; rotation: number }

export function stepShip(s: ShipState, thrust: number, turn: number, ship: ShipInfo | undefined, dt: number): void {
  if (!ship) return;
  thrust = Math.max(-1, Math.min(1, thrust));
  turn = Math.max(-1, Math.min(1, turn));
  const a = thrust * ship.thrust * dt;
  let vx = s.vx + Math.cos(s.rotation) * a;
  let vy = s.vy + Math.sin(s.rotation) * a;
  const speed2 = vx * vx + vy * vy;
  if (speed2 > ship.maxSpeed * ship.maxSpeed) {
    const k = ship.maxSpeed / Math.sqrt(speed2);
    vx *= k;
    vy *= k;
  }
  s.vx = vx;
  s.vy = vy;
  s.x += vx * dt;
  s.y += vy * dt;
  s.rotation += turn * ship.turnRate * dt;
}

/** The shortest signed difference b − a between two angles, in (−π, π]. */
export function angleDiff(a: number, b: number): number {
  let d = b - a;
  while (d > Math.PI) d -= 2 * Math.PI;
  while (d <= -Math.PI) d += 2 * Math.PI;
  return d;
}

export function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}
