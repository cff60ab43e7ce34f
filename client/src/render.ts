// Canvas drawing: the zone view (stars with their damage radius, planets on their orbits, gates labelled with their
// destination, colonies, ships and NPCs, the own ship, the arrow to the next gate on the route) and the galaxy map
// (zoomed and panned as mapview.ts works out, with the names that fit).
// World y points up (angles counter-clockwise), so screen y = −world y.
import type { GalaxyMap } from './api';
import type { ColonyView, PlanetView } from './codec';
import type { GameState, Zone } from './game';
import { EntityFlags, EntityKind, ZoneKind } from './game';
import {
  LabelIndex, MAP_MARGIN, mapGalaxy, mapProjection, maxMapZoom, panBy, screenX, screenY, zoomAt,
  type MapCamera, type MapGalaxy, type MapRect,
} from './mapview';

export interface View {
  /** The zone view's scale in space (pixels per world unit); a surface has its own, `surfaceZoom` (see zoneScale). */
  zoom: number; mapOpen: boolean; mapHover: number | null; plannedRoute: number[];
  /** The zone view's scale on a planet's surface; absent: SURFACE_ZOOM. */
  surfaceZoom?: number;
  /** The galaxy map's zoom and pan; null or absent: the whole galaxy fits. */
  mapCamera?: MapCamera | null;
  /** The HUD box's right and bottom edges in canvas pixels (the map's title keeps clear of it); null: not known yet. */
  hud?: { right: number; bottom: number } | null;
  /**
   * The top edge of the help line at the bottom in canvas pixels (it wraps onto more lines on a narrow window), which
   * the map ends above; null or absent: not known yet (one line, 30 px from the bottom, is assumed).
   */
  helpTop?: number | null;
  /** The map title's lines as last drawn (tests). */
  mapTitle?: TitleLine[];
}

/** One line of the map's title: its text, centre x, baseline y and width. */
export interface TitleLine { text: string; x: number; y: number; width: number }

/**
 * Where the map's title goes: its parts ("name: N systems, K explored", "click a system …") on one line when they fit,
 * else on lines of their own, words wrapped to the room there is. Beside the HUD when at least 240 px are left right of
 * it, else full width below it (a narrow window: before, the title ran off both edges and under the HUD).
 */
export function layoutMapTitle(parts: string[], width: number, hud: { right: number; bottom: number } | null,
  measure: (text: string) => number, lineHeight = 18): TitleLine[] {
  const margin = 12;
  const beside = hud === null || width - hud.right - 2 * margin >= 240;
  const left = beside && hud !== null ? hud.right + margin : margin;
  const room = Math.max(width - margin - left, 40);
  let y = beside ? 24 : (hud?.bottom ?? 0) + 22;
  const lines: string[] = [];
  const whole = parts.join(' — ');
  if (measure(whole) <= room) {
    lines.push(whole);
  } else {
    for (const part of parts) {
      let line = '';
      for (const word of part.split(' ').flatMap((w) => pieces(w, room, measure))) {
        const next = line ? `${line} ${word}` : word;
        if (line && measure(next) > room) {
          lines.push(line);
          line = word;
        } else {
          line = next;
        }
      }
      if (line) lines.push(line);
    }
  }
  return lines.map((text) => {
    const line = { text, x: left + room / 2, y, width: measure(text) };
    y += lineHeight;
    return line;
  });
}

/** A word as pieces that each fit `room` (a word wider than the room, a long galaxy name, is broken). */
function pieces(word: string, room: number, measure: (text: string) => number): string[] {
  if (measure(word) <= room) return [word];
  const out: string[] = [];
  let piece = '';
  for (const ch of word) {
    if (piece && measure(piece + ch) > room) {
      out.push(piece);
      piece = '';
    }
    piece += ch;
  }
  if (piece) out.push(piece);
  return out;
}

/**
 * The zone view's first scale in space (pixels per world unit): a system is thousands of units across (planets orbit
 * 2,000 and more out, gates beyond them).
 */
export const SPACE_ZOOM = 0.12;

/**
 * The zone view's first scale on a planet's surface, where what matters is a few hundred units across: the landing
 * site, around which ships arrive 120 to 180 units out (the server's LandingSiteRadius, 150, times 0.8 to 1.2), each
 * within ±0.25 rad of the side it came from, so two ships that landed from one side can stand 80 units apart. At
 * space's 0.12 that was 10 px, and ships overlapped (a ship is drawn 9 px from its centre to its nose, the own one 12);
 * at 0.5 it is 40 px, and every landing place is within 180 px of any other, so a 600 x 400 window still shows them all.
 */
export const SURFACE_ZOOM = 0.5;

/** How far from a surface's centre a landing can arrive (units): the server's LandingSiteRadius 150 × 1.2. */
const LANDING_REACH = 180;

/** The planet whose surface the zone is, or null (a system, or no zone yet). */
export function surfaceOf(zone: Pick<Zone, 'kind' | 'planet'> | null): PlanetView | null {
  return zone?.kind === ZoneKind.Planet ? zone.planet : null;
}

/** The zone view's scale in force: on a surface its own (`surfaceZoom`, first SURFACE_ZOOM), in space `zoom`. */
export function zoneScale(view: View, zone: Pick<Zone, 'kind' | 'planet'> | null): number {
  return surfaceOf(zone) ? view.surfaceZoom ?? SURFACE_ZOOM : view.zoom;
}

/** + or −: zooms the zone view shown by `factor`, between 0.01 and 2 pixels per unit; the other one keeps its scale. */
export function zoomZone(view: View, zone: Pick<Zone, 'kind' | 'planet'> | null, factor: number): void {
  const zoom = Math.min(Math.max(zoneScale(view, zone) * factor, 0.01), 2);
  if (surfaceOf(zone)) view.surfaceZoom = zoom;
  else view.zoom = zoom;
}

/**
 * Where the landing site's label goes: its baseline this many pixels below the surface's centre at scale `k`, below the
 * pad and below every place a landing can arrive (with a ship drawn there), so it never covers a landed ship (it was
 * drawn just below the pad, where ships that landed from the south stand).
 */
export function landingLabelOffset(k: number): number {
  return Math.max(padRadius(k), LANDING_REACH * k + 12) + 18;
}

/** The landing pad's radius on screen (pixels): 60 units, at least 24 px. */
const padRadius = (k: number) => Math.max(60 * k, 24);

const COLORS = {
  space: '#05070d', orbit: 'rgba(120,140,180,0.18)', star: '#ffd35a', damage: 'rgba(255,80,60,0.55)',
  planet: '#4f8fd9', gate: '#4fe0c0', own: '#ffffff', ship: '#7fd0ff', npc: '#ff7f6f', label: '#c8d2e8',
  colony: '#8cff6a', arrow: '#4fe0c0', ground: '#16243b', grid: 'rgba(140,170,220,0.16)', pad: '#7fb6ff',
};

export function drawZone(ctx: CanvasRenderingContext2D, game: GameState, view: View, nowSeconds: number, nextGate: number | null): void {
  const { width, height } = ctx.canvas;
  ctx.fillStyle = COLORS.space;
  ctx.fillRect(0, 0, width, height);
  const zone = game.zone;
  const own = game.ownPosition(nowSeconds);
  const cx = own?.x ?? 0;
  const cy = own?.y ?? 0;
  const surface = surfaceOf(zone);
  const k = zoneScale(view, zone);
  const sx = (x: number) => width / 2 + (x - cx) * k;
  const sy = (y: number) => height / 2 - (y - cy) * k;
  if (surface) drawGround(ctx, sx, sy, k);
  else drawBackdrop(ctx, cx, cy, k);
  if (!zone) return;
  const time = game.zoneTime(nowSeconds);
  ctx.font = '12px system-ui, sans-serif';
  ctx.textAlign = 'center';

  if (surface) {
    // The surface is the whole view (ships fly over it as in space; it has no edge): ground everywhere, and the landing
    // pad at its centre, landings arriving around it (150 units out, each on the side it came from). (Before, the
    // planet was a small ball in black space, which a ship left in a second: helper-68.)
    const r = padRadius(k);
    ctx.strokeStyle = COLORS.pad;
    ctx.lineWidth = 2;
    circle(ctx, sx(0), sy(0), r, false);
    circle(ctx, sx(0), sy(0), r * 0.55, false);
    ctx.lineWidth = 1;
    ctx.fillStyle = COLORS.label;
    ctx.fillText(`${surface.name} — surface, landing site (T to take off)`, sx(0), sy(0) + landingLabelOffset(k));
    // Each colony where it was founded, the player's own labelled.
    for (const c of zone.colonies) flag(ctx, sx(c.x), sy(c.y), isMine(game, c) ? 'you' : '');
  }

  for (const p of zone.planets) {
    ctx.strokeStyle = COLORS.orbit;
    ctx.lineWidth = 1;
    circle(ctx, sx(0), sy(0), p.orbitRadius * k, false);
  }
  for (const s of zone.stars) {
    ctx.strokeStyle = COLORS.damage;
    ctx.setLineDash([6, 6]);
    circle(ctx, sx(s.x), sy(s.y), s.damageRadius * k, false);
    ctx.setLineDash([]);
    const r = Math.max(s.radius * k, 4);
    const g = ctx.createRadialGradient(sx(s.x), sy(s.y), 0, sx(s.x), sy(s.y), r * 1.6);
    g.addColorStop(0, '#fffbe0');
    g.addColorStop(0.6, COLORS.star);
    g.addColorStop(1, 'rgba(255,160,40,0)');
    ctx.fillStyle = g;
    circle(ctx, sx(s.x), sy(s.y), r * 1.6, true);
  }
  for (const p of zone.planets) {
    const at = game.planetPosition(p, time);
    const r = Math.max(p.radius * k, 3);
    ctx.fillStyle = COLORS.planet;
    circle(ctx, sx(at.x), sy(at.y), r, true);
    ctx.fillStyle = COLORS.label;
    ctx.fillText(p.name, sx(at.x), sy(at.y) + r + 14);
    const label = colonyLabel(game, p.id);
    if (label !== null) flag(ctx, sx(at.x), sy(at.y) - r, label);
  }
  for (const g of zone.gates) {
    const r = Math.max(g.radius * k, 6);
    ctx.strokeStyle = COLORS.gate;
    ctx.lineWidth = g.targetSystemId === nextGate ? 3 : 1.5;
    circle(ctx, sx(g.x), sy(g.y), r, false);
    ctx.lineWidth = 1;
    ctx.fillStyle = COLORS.gate;
    ctx.fillText(`⇒ ${g.targetName}`, sx(g.x), sy(g.y) - r - 6);
  }
  for (const e of game.interpolated(nowSeconds)) {
    if (e.kind === EntityKind.Ship || e.kind === EntityKind.Npc) {
      ship(ctx, sx(e.x), sy(e.y), e.rotation, e.kind === EntityKind.Npc ? COLORS.npc : COLORS.ship, e.flags, 9);
    }
  }
  if (own) {
    ship(ctx, sx(own.x), sy(own.y), own.rotation, COLORS.own, own.flags, 12);
  }
  // The arrow to the next gate on the route: beside the own ship, pointing at the gate (hidden once the gate is near).
  const gate = nextGate === null ? undefined : zone.gates.find((g) => g.targetSystemId === nextGate);
  if (gate && own && Math.hypot(gate.x - own.x, gate.y - own.y) * k > 110) {
    const angle = Math.atan2(gate.y - own.y, gate.x - own.x);
    const ax = width / 2 + Math.cos(angle) * 60;
    const ay = height / 2 - Math.sin(angle) * 60;
    ctx.save();
    ctx.translate(ax, ay);
    ctx.rotate(-angle);
    ctx.fillStyle = COLORS.arrow;
    ctx.beginPath();
    ctx.moveTo(16, 0);
    ctx.lineTo(-10, 9);
    ctx.lineTo(-4, 0);
    ctx.lineTo(-10, -9);
    ctx.closePath();
    ctx.fill();
    ctx.restore();
  }
}

/** Label priority on the map, highest first: a name is left out where it would overlap one of a higher rank. */
const RANK = { here: 0, destination: 1, route: 2, mine: 3, explored: 4, rest: 5 } as const;
const RANKS = 6;
const NONE: readonly number[] = [];

/**
 * What the map keeps for one galaxy from frame to frame (so a frame allocates next to nothing): its extent, each
 * system's index by id, the last planet id of each system (planets are numbered 1..N in system order, docs/atom.md,
 * and the map gives each system's count), name widths (measured once), and scratch for the label order.
 */
interface MapScratch {
  map: GalaxyMap; galaxy: MapGalaxy; maxZoom: number; index: Map<number, number>; planetsEnd: Int32Array;
  widths: Float32Array; explored: Uint8Array; rank: Uint8Array; order: Int32Array; starts: Int32Array;
}
let scratch: MapScratch | null = null;
const labels = new LabelIndex();

function scratchFor(map: GalaxyMap): MapScratch {
  if (scratch?.map === map) return scratch;
  const n = map.systems.length;
  const planetsEnd = new Int32Array(n);
  let planets = 0;
  map.systems.forEach((s, i) => (planetsEnd[i] = planets += s.planets));
  scratch = {
    map, galaxy: mapGalaxy(map.systems), maxZoom: maxMapZoom(n), index: new Map(map.systems.map((s, i) => [s.id, i])),
    planetsEnd, widths: new Float32Array(n).fill(-1), explored: new Uint8Array(n), rank: new Uint8Array(n), order: new Int32Array(n), starts: new Int32Array(RANKS + 1),
  };
  return scratch;
}

/** The index of the system a planet belongs to (-1: not in this galaxy). */
function systemOfPlanet(s: MapScratch, planetId: number): number {
  let lo = 0, hi = s.planetsEnd.length - 1;
  if (planetId < 1 || hi < 0 || planetId > s.planetsEnd[hi]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.planetsEnd[mid]! >= planetId) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Marks the explored systems (`s.explored`), ranks every system for its label (RANK) and lists them in `s.order`,
 * highest rank first, in galaxy order within one.
 */
function orderLabels(s: MapScratch, player: GameState['player'], route: readonly number[], here: number | undefined): void {
  const { explored, rank, order, starts, index } = s;
  explored.fill(0);
  rank.fill(RANK.rest);
  const mark = (i: number | undefined, r: number) => {
    if (i !== undefined && i >= 0 && r < rank[i]!) rank[i] = r;
  };
  for (const id of player?.explored ?? NONE) {
    const i = index.get(id);
    if (i === undefined) continue;
    explored[i] = 1;
    mark(i, RANK.explored);
  }
  for (const planet of player?.colonies ?? NONE) mark(systemOfPlanet(s, planet), RANK.mine);
  if (player) mark(index.get(player.homeSystem), RANK.mine);
  for (const id of route) mark(index.get(id), RANK.route);
  if (route.length > 0) mark(index.get(route[route.length - 1]!), RANK.destination);
  if (here !== undefined) mark(index.get(here), RANK.here);
  // A counting sort: stable, and no array made per frame.
  starts.fill(0);
  for (let i = 0; i < rank.length; i++) starts[rank[i]! + 1]!++;
  for (let r = 1; r <= RANKS; r++) starts[r]! += starts[r - 1]!;
  for (let i = 0; i < rank.length; i++) order[starts[rank[i]!]!++] = i;
}

/** The map's backdrop colour, opaque: the halo behind its names. */
const MAP_HALO = 'rgb(3,5,12)';

export function drawMap(ctx: CanvasRenderingContext2D, map: GalaxyMap, game: GameState, view: View): void {
  const { width, height } = ctx.canvas;
  ctx.fillStyle = 'rgba(3,5,12,0.94)';
  ctx.fillRect(0, 0, width, height);
  const s = scratchFor(map);
  const player = game.player;
  ctx.font = '14px system-ui, sans-serif';
  const title = layoutMapTitle(
    [`${map.name}: ${map.systems.length} systems, ${player?.explored.length ?? 0} explored`,
      'click a system to plan a route, drag to pan, wheel or +/− to zoom, 0 for the whole galaxy, M to close'],
    width, view.hud ?? null, (text) => ctx.measureText(text).width);
  view.mapTitle = title;
  const { rect: r, projection: p } = mapTransform(map, width, height, mapArea(view, width, height), view.mapCamera ?? null);
  const systems = map.systems;
  const sx = (x: number) => screenX(p, x);
  const sy = (y: number) => screenY(p, y);
  // Zoomed in or panned, systems reach past the map's rectangle: nothing is drawn under the HUD or the title (helper-68).
  ctx.save();
  ctx.beginPath();
  ctx.rect(r.left, r.top, r.width, r.height);
  ctx.clip();
  ctx.strokeStyle = 'rgba(120,140,180,0.25)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const a of systems) {
    for (const g of a.gates) {
      if (g.to < a.id) continue;
      const o = s.index.get(g.to);
      if (o === undefined) continue;
      ctx.moveTo(sx(a.x), sy(a.y));
      ctx.lineTo(sx(systems[o]!.x), sy(systems[o]!.y));
    }
  }
  ctx.stroke();
  const route = player?.route.length ? player.route : view.plannedRoute;
  const here = game.zone?.systemId;
  if (route.length > 0) {
    ctx.strokeStyle = COLORS.arrow;
    ctx.lineWidth = 3;
    ctx.beginPath();
    // From the current system when the route does not list it.
    let first = true;
    const hereAt = here === undefined || route.includes(here) ? undefined : s.index.get(here);
    if (hereAt !== undefined) {
      ctx.moveTo(sx(systems[hereAt]!.x), sy(systems[hereAt]!.y));
      first = false;
    }
    for (const id of route) {
      const i = s.index.get(id);
      if (i === undefined) continue;
      if (first) ctx.moveTo(sx(systems[i]!.x), sy(systems[i]!.y));
      else ctx.lineTo(sx(systems[i]!.x), sy(systems[i]!.y));
      first = false;
    }
    ctx.stroke();
  }
  orderLabels(s, player, route, here);
  const inside = (x: number, y: number, slack: number) =>
    x >= r.left - slack && x <= r.left + r.width + slack && y >= r.top - slack && y <= r.top + r.height + slack;
  for (let i = 0; i < systems.length; i++) {
    const a = systems[i]!;
    const x = sx(a.x), y = sy(a.y);
    if (!inside(x, y, 12)) continue;
    const isHere = s.rank[i] === RANK.here;
    const known = s.explored[i] === 1;
    ctx.fillStyle = isHere ? '#ffffff' : known ? '#ffd35a' : '#4a5670';
    circle(ctx, x, y, isHere ? 6 : known ? 4 : 2.5, true);
    if (isHere) {
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = 2;
      circle(ctx, x, y, 11, false);
    }
  }
  // Names, highest rank first, each only where it overlaps none drawn before it: at 200 systems the whole galaxy
  // shows the important ones and zooming in makes room for the rest.
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  // Each name on a dark halo (its outline stroked in the backdrop's colour first): drawn straight over the gate lines,
  // the route and the current system's ring, names were hard to read (play-test).
  ctx.strokeStyle = MAP_HALO;
  ctx.lineWidth = 3;
  ctx.lineJoin = 'round';
  labels.reset(r);
  let hover = -1, hoverX = 0, hoverY = 0, hoverHalf = 0;
  for (let n = 0; n < systems.length; n++) {
    const i = s.order[n]!;
    const a = systems[i]!;
    const x = sx(a.x), y = sy(a.y);
    if (!inside(x, y, 0)) continue;
    if (s.widths[i]! < 0) s.widths[i] = ctx.measureText(a.name).width;
    const half = s.widths[i]! / 2 + 2;
    // Kept inside the rectangle sideways (a name at the edge moves in rather than being cut); one that would go
    // above it is left out.
    const lx = Math.min(Math.max(x, r.left + half), r.left + r.width - half);
    const ly = y - 9;
    if (a.id === view.mapHover) {
      hover = i;
      hoverX = lx;
      hoverY = ly;
      hoverHalf = half;
    }
    if (ly - 10 < r.top || !labels.place(lx - half, ly - 10, lx + half, ly + 3)) continue;
    ctx.fillStyle = s.rank[i]! === RANK.rest ? '#7b87a3' : COLORS.label;
    ctx.strokeText(a.name, lx, ly);
    ctx.fillText(a.name, lx, ly);
  }
  // The system under the pointer is always named, on top (it takes no room from the others, so names do not come and
  // go as the pointer moves).
  if (hover >= 0) {
    ctx.fillStyle = 'rgba(3,5,12,0.9)';
    ctx.fillRect(hoverX - hoverHalf, hoverY - 11, 2 * hoverHalf, 15);
    ctx.fillStyle = '#ffffff';
    ctx.fillText(systems[hover]!.name, hoverX, hoverY);
  }
  ctx.restore();
  ctx.fillStyle = COLORS.label;
  ctx.textAlign = 'center';
  ctx.font = '14px system-ui, sans-serif';
  for (const line of title) ctx.fillText(line.text, line.x, line.y);
}

/** Where the galaxy map is drawn: from `left` to the right edge, from `top` down to `bottom`. */
export interface MapArea { left: number; top: number; bottom: number }

/**
 * Where the map ends: 8 px above the help line as measured, else 30 px from the bottom (one line of help). The help
 * wraps on a narrow window (three lines at 600 px), and the map was drawn under it (play-test).
 */
export function mapBottom(view: View, height: number): number {
  return view.helpTop == null ? height - 30 : view.helpTop - 8;
}

/**
 * Where the galaxy map goes: clear of the HUD and of its title, so that no system is drawn (and clicked) under the HUD
 * (helper-68). Below both, or right of the HUD and below the title, whichever leaves the larger square; when neither
 * leaves 160 px (a window both narrow and short), from the top of the window, under the HUD in part, as a map too
 * small to use is worse (helper-69: 450 x 350 drew the galaxy in one pixel).
 */
export function mapArea(view: View, width: number, height: number): MapArea {
  const hud = view.hud ?? null;
  const lastY = view.mapTitle?.at(-1)?.y ?? 0;
  const titled = Math.max(30, lastY + 10);
  const bottom = mapBottom(view, height);
  if (!hud) return { left: 0, top: titled, bottom };
  const below = Math.max(titled, hud.bottom + 10);
  const left = Math.min(hud.right, Math.max(width - 200, 0));
  const square = (w: number, top: number) => Math.min(w, bottom - top);
  const [underneath, beside] = [square(width, below), square(width - left, titled)];
  if (Math.max(underneath, beside) < 160) return { left: 0, top: 30, bottom };
  return underneath >= beside ? { left: 0, top: below, bottom } : { left, top: titled, bottom };
}

/** The map's rectangle in an area: to the right edge and down to the area's bottom, never under 81 px. */
export function mapRect(area: MapArea, width: number): MapRect {
  const least = 2 * MAP_MARGIN + 1;
  return { left: area.left, top: area.top, width: Math.max(width - area.left, least), height: Math.max(area.bottom - area.top, least) };
}

/**
 * Screen ↔ map coordinates for the galaxy map: with no camera (or zoom 1) every system fits, with a margin, in `area`;
 * a camera zooms and pans (mapview.ts). `zoomAt` and `panBy` give the camera after a wheel, a key or a drag.
 */
export function mapTransform(map: GalaxyMap, width: number, height: number,
  area: MapArea = { left: 0, top: 30, bottom: height - 30 }, camera: MapCamera | null = null) {
  const { galaxy, maxZoom } = scratchFor(map);
  const rect = mapRect(area, width);
  const projection = mapProjection(galaxy, rect, camera, maxZoom);
  return {
    rect, projection,
    x: (x: number) => screenX(projection, x),
    y: (y: number) => screenY(projection, y),
    zoomAt: (px: number, py: number, factor: number) => zoomAt(galaxy, rect, maxZoom, camera, px, py, factor),
    panBy: (dx: number, dy: number) => panBy(galaxy, rect, maxZoom, camera, dx, dy),
    /** The system drawn within 14 px of (px, py), nearest first; none outside the map's rectangle (nothing is drawn there). */
    pick(px: number, py: number): number | null {
      if (px < rect.left || px > rect.left + rect.width || py < rect.top || py > rect.top + rect.height) return null;
      let best: number | null = null;
      let bestD = 14;
      for (const s of map.systems) {
        const d = Math.hypot(this.x(s.x) - px, this.y(s.y) - py);
        if (d < bestD) { bestD = d; best = s.id; }
      }
      return best;
    },
  };
}

/** A planet's surface: ground with a grid every 250 units, so motion over it shows. */
function drawGround(ctx: CanvasRenderingContext2D, sx: (x: number) => number, sy: (y: number) => number, k: number): void {
  const { width, height } = ctx.canvas;
  ctx.fillStyle = COLORS.ground;
  ctx.fillRect(0, 0, width, height);
  const step = 250;
  if (step * k < 8) return; // zoomed far out: lines closer than 8 px would only grey the ground
  ctx.strokeStyle = COLORS.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  // World coordinates of the view's edges (screen y points down, world y up).
  const left = Math.floor((0 - sx(0)) / k / step) * step;
  const right = (width - sx(0)) / k;
  const top = (sy(0) - 0) / k;
  const bottom = Math.floor((sy(0) - height) / k / step) * step;
  for (let x = left; x <= right; x += step) {
    ctx.moveTo(sx(x), 0);
    ctx.lineTo(sx(x), height);
  }
  for (let y = bottom; y <= top; y += step) {
    ctx.moveTo(0, sy(y));
    ctx.lineTo(width, sy(y));
  }
  ctx.stroke();
}

function drawBackdrop(ctx: CanvasRenderingContext2D, cx: number, cy: number, k: number): void {
  // A fixed pseudo-random star field with a slight parallax, so motion is visible far from everything.
  const { width, height } = ctx.canvas;
  const cell = 160;
  const px = cx * k * 0.3;
  const py = -cy * k * 0.3;
  ctx.fillStyle = 'rgba(200,210,255,0.5)';
  const x0 = Math.floor(px / cell) - 1;
  const y0 = Math.floor(py / cell) - 1;
  for (let i = x0; i < x0 + width / cell + 3; i++) {
    for (let j = y0; j < y0 + height / cell + 3; j++) {
      let h = (Math.imul(i, 73856093) ^ Math.imul(j, 19349663)) >>> 0;
      for (let n = 0; n < 3; n++) {
        h = Math.imul(h ^ (h >>> 15), 2246822519) >>> 0;
        const x = i * cell + (h % cell) - px;
        h = Math.imul(h ^ (h >>> 13), 3266489917) >>> 0;
        const y = j * cell + (h % cell) - py;
        ctx.fillRect(x, y, 1.5, 1.5);
      }
    }
  }
}

function circle(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, fill: boolean): void {
  ctx.beginPath();
  ctx.arc(x, y, Math.max(r, 0.5), 0, 2 * Math.PI);
  if (fill) ctx.fill();
  else ctx.stroke();
}

/** A ship drawn with what its snapshot flags say: an engine flame (Thrusting), a beam (Firing), a red glow (Burning). */
function ship(ctx: CanvasRenderingContext2D, x: number, y: number, rotation: number, color: string, flags: number, size: number): void {
  const thrusting = (flags & EntityFlags.Thrusting) !== 0;
  const firing = (flags & EntityFlags.Firing) !== 0;
  const burning = (flags & EntityFlags.Burning) !== 0;
  ctx.save();
  ctx.translate(x, y);
  ctx.rotate(-rotation);
  if (burning) {
    // A star's heat: a red glow around the hull.
    ctx.fillStyle = 'rgba(255,70,40,0.35)';
    circle(ctx, 0, 0, size * 1.9, true);
  }
  if (firing) {
    ctx.strokeStyle = 'rgba(255,90,90,0.9)';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(size, 0);
    ctx.lineTo(size * 8, 0);
    ctx.stroke();
  }
  if (thrusting) {
    ctx.fillStyle = '#ff9a3c';
    ctx.beginPath();
    ctx.moveTo(-size * 0.7, -size * 0.35);
    ctx.lineTo(-size * 1.5, 0);
    ctx.lineTo(-size * 0.7, size * 0.35);
    ctx.fill();
  }
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.moveTo(size, 0);
  ctx.lineTo(-size * 0.7, size * 0.6);
  ctx.lineTo(-size * 0.4, 0);
  ctx.lineTo(-size * 0.7, -size * 0.6);
  ctx.closePath();
  ctx.fill();
  ctx.restore();
}

/**
 * The label of a planet's colony flag: "you" for the player's own colony (its owner is the Welcome's player id, or the
 * player's state lists the planet), '' for another player's (a flag without a name: a player id means nothing to a
 * player), null for no colony.
 */
export function colonyLabel(game: Pick<GameState, 'zone' | 'player' | 'playerId'>, planetId: number): string | null {
  const colonies = game.zone?.colonies.filter((c) => c.planetId === planetId) ?? [];
  if (game.player?.colonies.includes(planetId) || colonies.some((c) => isMine(game, c))) return 'you';
  return colonies.length > 0 ? '' : null;
}

function isMine(game: Pick<GameState, 'playerId'>, colony: ColonyView): boolean {
  return game.playerId !== null && colony.owner.toLowerCase() === game.playerId.toLowerCase();
}

function flag(ctx: CanvasRenderingContext2D, x: number, y: number, owner: string): void {
  ctx.save();
  ctx.strokeStyle = COLORS.colony;
  ctx.fillStyle = COLORS.colony;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x, y - 14);
  ctx.stroke();
  ctx.fillRect(x, y - 14, 9, 6);
  if (owner) {
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillText(owner, x + 5, y - 18);
  }
  ctx.restore();
}
