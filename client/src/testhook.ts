// A small read-only window into the client for the end-to-end tests (window.__sol): every property is a getter
// over the live modules, nothing can be set through it.
import type { Autopilot } from './autopilot';
import type { GameState } from './game';
import type { GameConnection } from './net';
import type { View } from './render';
import { ZoneKind } from './game';

export interface HookParts {
  game: GameState;
  connection: GameConnection;
  pilot: Autopilot;
  assets: { fromCache: number; downloaded: number };
  lastSeqSent: () => number;
  view: View;
  /** Where a system is drawn on the galaxy map (canvas pixels), so a test can click it. */
  mapPoint: (systemId: number) => { x: number; y: number } | null;
  /** The map's rectangle as drawn now (canvas pixels): systems and names outside it are clipped away. */
  mapRect: () => { left: number; top: number; width: number; height: number } | null;
}

export function installTestHook(p: HookParts): void {
  const hook = {
    get connection() { return p.connection.state; },
    get clientId() { return p.connection.clientId; },
    get connects() { return p.connection.connects; },
    get resumed() { return p.connection.resumed; },
    get zoneName() { return p.game.zone?.name ?? null; },
    get zoneKind() { return p.game.zone ? (p.game.zone.kind === ZoneKind.Planet ? 'planet' : 'system') : null; },
    get zoneId() { return p.game.zone?.id ?? null; },
    get systemId() { return p.game.zone?.systemId ?? null; },
    get entity() { return p.game.zone?.entity ?? null; },
    get position() {
      const own = p.game.ownPosition(performance.now() / 1000);
      return own ? { x: own.x, y: own.y, rotation: own.rotation } : null;
    },
    get serverPosition() {
      const own = p.game.serverOwn();
      return own ? { x: own.x, y: own.y, vx: own.vx, vy: own.vy, flags: own.flags } : null;
    },
    get corrections() { return { ...p.game.corrections }; },
    get colonies() { return [...(p.game.player?.colonies ?? [])]; },
    /** The planets with a colony the zone shown lists (its ZoneEnter's, and those told since by ColonyInfo). */
    get zoneColonies() { return (p.game.zone?.colonies ?? []).map((c) => c.planetId); },
    get lastAck() { return { ...p.game.lastAck }; },
    get lastSeqSent() { return p.lastSeqSent(); },
    get snapshots() { return p.game.snapshotsSeen; },
    get zoneEnters() { return p.game.zoneEnters; },
    get credits() { return p.game.player?.credits ?? null; },
    get explored() { return [...(p.game.player?.explored ?? [])]; },
    get route() { return [...(p.game.player?.route ?? [])]; },
    get autopilot() { return { mode: p.pilot.mode, status: p.pilot.status, last: { ...p.pilot.last } }; },
    get assets() { return { ...p.assets }; },
    get mapOpen() { return p.view.mapOpen; },
    /** The galaxy map's zoom and pan (null: the whole galaxy fits). */
    get mapCamera() { return p.view.mapCamera ? { ...p.view.mapCamera } : null; },
    get mapTitle() { return (p.view.mapTitle ?? []).map((l) => ({ ...l })); },
    get hudBox() {
      const box = document.getElementById('hud')?.getBoundingClientRect();
      return box ? { left: box.left, top: box.top, right: box.right, bottom: box.bottom } : null;
    },
    mapPoint: (systemId: number) => p.mapPoint(systemId),
    get mapRect() { return p.mapRect(); },
    get gates() { return (p.game.zone?.gates ?? []).map((g) => ({ id: g.id, to: g.targetSystemId, name: g.targetName, x: g.x, y: g.y, radius: g.radius })); },
  };
  Object.defineProperty(window, '__sol', { value: Object.freeze(hook), configurable: false, writable: false });
}
