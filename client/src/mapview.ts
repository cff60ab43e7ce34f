// The galaxy map's view: zoom and pan (galaxy ↔ screen), wheel steps, click-or-drag, and which system names fit.
// Pure functions and small state holders with no DOM, so the unit tests can check them (test/unit.ts).
// Galaxy y points up, screen y down, as in the zone view.

/** The galaxy's extent (light years). */
export interface Bounds { minX: number; minY: number; maxX: number; maxY: number }

/** Where the map is drawn on the canvas (pixels). */
export interface MapRect { left: number; top: number; width: number; height: number }

/**
 * The map's zoom and pan: `zoom` times the scale at which the whole galaxy fits (1 at the least), and the galaxy point
 * (`x`, `y`) shown at the centre of the map's rectangle. Kept in galaxy terms, so a resized window or a map moved by a
 * grown HUD keeps showing the same place.
 */
export interface MapCamera { zoom: number; x: number; y: number }

/** A camera made concrete for one rectangle: screen = (ox + (x − cx)·k, oy − (y − cy)·k). */
export interface MapProjection { zoom: number; k: number; ox: number; oy: number; cx: number; cy: number }

/** Pixels kept between the galaxy's outermost systems and the map's edge when it fits (their names go there). */
export const MAP_MARGIN = 40;

/** A press that moves more than this many pixels is a drag (it pans), else a click (it plans a route). */
export const DRAG_THRESHOLD = 5;

export function boundsOf(points: readonly { x: number; y: number }[]): Bounds {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const p of points) {
    minX = Math.min(minX, p.x); maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y); maxY = Math.max(maxY, p.y);
  }
  if (minX > maxX) return { minX: 0, minY: 0, maxX: 0, maxY: 0 }; // no systems
  return { minX, minY, maxX, maxY };
}

/**
 * The closest zoom: a handful of systems fill the map. At zoom z the map spans 1/z of the galaxy each way, so about
 * N / z² of its N systems are in view (the server spreads them evenly on average: its galaxy's radius grows with √N);
 * z = √N / 1.5 leaves a few (9.4 for the default 200: a map some 40 light years across, more systems in the bulge,
 * fewer at the arms' edges). At least 4, so a galaxy of a few systems can still be looked at closely.
 */
export function maxMapZoom(systemCount: number): number {
  return Math.max(4, Math.sqrt(systemCount) / 1.5);
}

/** The camera at which the whole galaxy fits (what 0 and a new page show). */
export function fitCamera(b: Bounds): MapCamera {
  return { zoom: 1, x: (b.minX + b.maxX) / 2, y: (b.minY + b.maxY) / 2 };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** Pixels per light year at which the whole galaxy fits in the rectangle, with the margin. */
export function fitScale(b: Bounds, r: MapRect): number {
  return Math.min((r.width - 2 * MAP_MARGIN) / Math.max(b.maxX - b.minX, 1),
    (r.height - 2 * MAP_MARGIN) / Math.max(b.maxY - b.minY, 1));
}

/** A galaxy as the map's view needs it: its systems' positions and their extent. */
export interface MapGalaxy { bounds: Bounds; systems: readonly { x: number; y: number }[] }

export function mapGalaxy(systems: readonly { x: number; y: number }[]): MapGalaxy {
  return { bounds: boundsOf(systems), systems };
}

/**
 * The camera in force for a rectangle: zoom between 1 and `maxZoom`, and the centre kept by two rules. Along each
 * axis, a galaxy wider than the view covers it (the view goes at most the margin past the outermost systems) and one
 * narrower than the view stays whole in it: so at zoom 1 the whole galaxy is in view whatever the pan was (centred
 * along the axis that limits the scale), and zooming out brings it back. And a system is always in view, inside the
 * margin, near the middle: the centre is at most `near` times the view's inner half-width and half-height from it (or,
 * for a system the axis rule keeps from the middle, one at the galaxy's edge, from the nearest place the centre may
 * have to it), `near` going from 1 at zoom 1 (where every system is in view) to ½ from zoom 2 on (a system in the middle
 * half of the view). So a sparse galaxy's empty corners never fill the view (the axis rule alone let a zoomed view be
 * dragged to the corner of a ring's bounding box, with no system in sight). A centre that breaks a rule is moved to
 * the nearest one that keeps both.
 */
export function mapProjection(g: MapGalaxy, r: MapRect, camera: MapCamera | null, maxZoom: number): MapProjection {
  const b = g.bounds;
  const fit = fitScale(b, r);
  const zoom = clamp(camera?.zoom ?? 1, 1, maxZoom);
  const k = fit * zoom;
  const ox = r.left + r.width / 2, oy = r.top + r.height / 2;
  if (!camera) {
    const c = fitCamera(b); // where both rules hold: at zoom 1 every system is in view
    return { zoom, k, ox, oy, cx: c.x, cy: c.y };
  }
  const near = clamp(1.5 - zoom / 2, 0.5, 1);
  const c = keptCentre(g, (r.width / 2 - MAP_MARGIN) / k, (r.height / 2 - MAP_MARGIN) / k, near, camera.x, camera.y);
  return { zoom, k, ox, oy, cx: c.x, cy: c.y };
}

/**
 * The point nearest (x, y) where the view, `halfX` by `halfY` galaxy units each way from its centre to the margin's
 * inner edge, keeps both of mapProjection's rules. The axis rule allows a box of centres (B); a system s allows the
 * centres in B that have it in view (within `halfX`, `halfY` of it) and are within `near` times that of the point of B
 * nearest to it (s itself when B holds it). So the allowed centres are a union of boxes, one per system, none empty
 * (each holds that point of B: the axis box reaches within half the view of every system), and the nearest of them is
 * the nearest of the points (x, y) clamps to in each box: one pass over the systems, and a centre already allowed stays
 * as it is (so the camera kept is the one drawn).
 */
function keptCentre(g: MapGalaxy, halfX: number, halfY: number, near: number, x: number, y: number): { x: number; y: number } {
  const b = g.bounds;
  // B: a < b, wider than the view; a > b, narrower.
  const x0 = Math.min(b.minX + halfX, b.maxX - halfX), x1 = Math.max(b.minX + halfX, b.maxX - halfX);
  const y0 = Math.min(b.minY + halfY, b.maxY - halfY), y1 = Math.max(b.minY + halfY, b.maxY - halfY);
  const rx = near * halfX, ry = near * halfY;
  let bestX = clamp(x, x0, x1), bestY = clamp(y, y0, y1); // no systems: the axis rule alone
  let best = Infinity;
  for (const s of g.systems) {
    const ax = clamp(s.x, x0, x1), ay = clamp(s.y, y0, y1);
    const lx = Math.max(x0, ax - rx, s.x - halfX), hx = Math.min(x1, ax + rx, s.x + halfX);
    const ly = Math.max(y0, ay - ry, s.y - halfY), hy = Math.min(y1, ay + ry, s.y + halfY);
    if (lx > hx || ly > hy) continue; // only by rounding
    const px = clamp(x, lx, hx), py = clamp(y, ly, hy);
    const d = (px - x) ** 2 + (py - y) ** 2;
    if (d < best) {
      best = d;
      bestX = px;
      bestY = py;
      if (d === 0) break;
    }
  }
  return { x: bestX, y: bestY };
}

export const screenX = (p: MapProjection, x: number) => p.ox + (x - p.cx) * p.k;
export const screenY = (p: MapProjection, y: number) => p.oy - (y - p.cy) * p.k;
export const galaxyX = (p: MapProjection, px: number) => p.cx + (px - p.ox) / p.k;
export const galaxyY = (p: MapProjection, py: number) => p.cy - (py - p.oy) / p.k;

/** The camera of a projection (in force, so within limits). */
const cameraOf = (p: MapProjection): MapCamera => ({ zoom: p.zoom, x: p.cx, y: p.cy });

/**
 * Zoomed by `factor` (> 1: closer) around the screen point (px, py): the galaxy point under it stays under it, unless
 * that would take the view off the galaxy (zooming out near an edge, or back to the whole galaxy).
 */
export function zoomAt(g: MapGalaxy, r: MapRect, maxZoom: number, camera: MapCamera | null,
  px: number, py: number, factor: number): MapCamera {
  const p = mapProjection(g, r, camera, maxZoom);
  const gx = galaxyX(p, px);
  const gy = galaxyY(p, py);
  const zoom = clamp(p.zoom * factor, 1, maxZoom);
  const k = (p.k / p.zoom) * zoom;
  const next = { zoom, x: gx - (px - p.ox) / k, y: gy + (py - p.oy) / k };
  return cameraOf(mapProjection(g, r, next, maxZoom));
}

/** Moved with the mouse: the galaxy follows the pointer by (dx, dy) pixels (within the limits). */
export function panBy(g: MapGalaxy, r: MapRect, maxZoom: number, camera: MapCamera | null, dx: number, dy: number): MapCamera {
  const p = mapProjection(g, r, camera, maxZoom);
  return cameraOf(mapProjection(g, r, { zoom: p.zoom, x: p.cx - dx / p.k, y: p.cy + dy / p.k }, maxZoom));
}

/**
 * The zoom factor of one wheel event: a mouse's notch (100 px in Chrome, 3 lines in Firefox) zooms about 1.3 times;
 * a touchpad's small steps zoom smoothly. Wheel up (negative delta) zooms in. One event zooms at most 2 times, so a
 * page-sized delta does not jump to a limit.
 */
export function wheelZoomFactor(deltaY: number, deltaMode: number): number {
  const pixels = deltaY * (deltaMode === 1 ? 33 : deltaMode === 2 ? 800 : 1); // a line, a page
  return clamp(Math.exp(-pixels * 0.0025), 0.5, 2);
}

/** Whether a press that moved by (dx, dy) pixels is a drag rather than a click. */
export function isDrag(dx: number, dy: number, threshold = DRAG_THRESHOLD): boolean {
  return Math.hypot(dx, dy) > threshold;
}

/**
 * One press of the left button on the map, as a click or a drag: no pan until the pointer has gone past the threshold
 * (a hand that shakes a little still clicks), then the whole way from the press, and every move after, so the point
 * grabbed stays under the pointer. Once a drag, it stays one (coming back to the press does not make it a click).
 */
export class MapDrag {
  active = false;
  dragging = false;
  private x = 0;
  private y = 0;
  /** The pan the last move asked for (pixels). */
  dx = 0;
  dy = 0;

  down(x: number, y: number): void {
    this.active = true;
    this.dragging = false;
    this.x = x;
    this.y = y;
  }

  /** A move to (x, y): true when the map should pan by (dx, dy). */
  move(x: number, y: number): boolean {
    if (!this.active) return false;
    if (!this.dragging && !isDrag(x - this.x, y - this.y)) return false;
    this.dragging = true;
    this.dx = x - this.x;
    this.dy = y - this.y;
    this.x = x;
    this.y = y;
    return true;
  }

  /** The button released: 'click' (plan a route), 'drag' (it panned), or null when no press was under way. */
  up(): 'click' | 'drag' | null {
    if (!this.active) return null;
    this.active = false;
    return this.dragging ? 'drag' : 'click';
  }

  /** Ended without a click (the button found released, the map closed). */
  cancel(): void {
    this.active = false;
  }
}

/** Whether two boxes overlap (boxes that only touch do not). */
export function overlaps(a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): boolean {
  return a0 < b2 && b0 < a2 && a1 < b3 && b1 < a3;
}

const CELL = 64;

/**
 * The name boxes drawn so far in a frame, so a name that would overlap one is left out. Offered in priority order, a
 * box is kept when it overlaps none kept before it. Kept boxes are filed in a grid of 64 px cells, so a box is tested
 * against its neighbours only (a galaxy of thousands of systems would otherwise test each against every name drawn).
 * Reused frame after frame: no allocation once its arrays have grown.
 */
export class LabelIndex {
  private boxes: number[] = []; // x0, y0, x1, y1 of each kept box
  private cells: number[][] = []; // per cell: the kept boxes (index / 4) that reach into it
  private cols = 1;
  private rows = 1;
  private left = 0;
  private top = 0;

  /** Forgets every box; boxes will lie (mostly) in the given rectangle (those outside are filed in its edge cells). */
  reset(r: MapRect): void {
    this.left = r.left;
    this.top = r.top;
    this.cols = Math.max(1, Math.ceil(r.width / CELL));
    this.rows = Math.max(1, Math.ceil(r.height / CELL));
    const n = this.cols * this.rows;
    while (this.cells.length < n) this.cells.push([]);
    for (let i = 0; i < n; i++) this.cells[i]!.length = 0;
    this.boxes.length = 0;
  }

  /** Keeps the box (x0, y0)–(x1, y1) and returns true when it overlaps no box kept since the reset. */
  place(x0: number, y0: number, x1: number, y1: number): boolean {
    const c0 = this.col(x0), c1 = this.col(x1), r0 = this.row(y0), r1 = this.row(y1);
    const b = this.boxes;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        for (const i of this.cells[r * this.cols + c]!) {
          if (overlaps(x0, y0, x1, y1, b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!)) return false;
        }
      }
    }
    const id = b.length / 4;
    b.push(x0, y0, x1, y1);
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) this.cells[r * this.cols + c]!.push(id);
    }
    return true;
  }

  private col(x: number): number {
    return clamp(Math.floor((x - this.left) / CELL), 0, this.cols - 1);
  }

  private row(y: number): number {
    return clamp(Math.floor((y - this.top) / CELL), 0, this.rows - 1);
  }
}

/** Which of the boxes ([x0, y0, x1, y1], in priority order) are drawn: each that overlaps none drawn before it. */
export function declutter(boxes: readonly (readonly [number, number, number, number])[], r: MapRect,
  index = new LabelIndex()): boolean[] {
  index.reset(r);
  return boxes.map(([x0, y0, x1, y1]) => index.place(x0, y0, x1, y1));
}
