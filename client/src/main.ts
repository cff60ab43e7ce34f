// Start-up and the game loop: the login screen, then assets + config + galaxy, the connection, a fixed-rate input
// loop (one Input per server tick, with prediction), a requestAnimationFrame render loop and the HUD.
import { api, type GalaxyMap, type ServerConfig } from './api';
import { assetStats, loadAssets, parseShips } from './assets';
import { Autopilot, nextRouteSystem } from './autopilot';
import { encode, type ServerEvent } from './codec';
import { Controls, type Command } from './controls';
import { codeWords, EntityFlags, firstInputSeq, GameState, ZoneKind, zoneEnterText } from './game';
import { MapDrag, wheelZoomFactor } from './mapview';
import { GameConnection, keepTrying } from './net';
import { drawMap, drawZone, mapArea, mapTransform, SPACE_ZOOM, zoomZone, type View } from './render';
import { session } from './session';
import { installTestHook } from './testhook';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function showLogin(message = ''): void {
  $('login').hidden = false;
  $('game').hidden = true;
  $('login-error').textContent = message;
}

/** What the start error's Retry does: reload the page, or (while the server is away at start-up) try again at once. */
let retryNow: () => void = () => location.reload();

function wireLogin(): void {
  $('retry').addEventListener('click', () => retryNow());
  const form = $<HTMLFormElement>('login-form');
  const user = $<HTMLInputElement>('username');
  const pass = $<HTMLInputElement>('password');
  const run = async (how: 'login' | 'register' | 'guest') => {
    $('login-error').textContent = '';
    try {
      const auth = how === 'guest' ? await api.guest(session.deviceId())
        : how === 'login' ? await api.login(user.value, pass.value)
          : await api.register(user.value, pass.value);
      session.clear();
      session.setAuth(auth.token, auth.expiresAt);
      // After a game stopped on this page (a logout while the server was away), a fresh page starts the new one.
      if (stopped) location.reload();
      else await startGame();
    } catch (e) {
      $('login-error').textContent = e instanceof Error ? e.message : String(e);
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void run('login');
  });
  $('register').addEventListener('click', () => void run('register'));
  $('guest').addEventListener('click', () => void run('guest'));
}

let started = false;
/** The game of this page was stopped (its loops and keys) and the login screen shown without a reload. */
let stopped = false;

/** Starts the game once; whatever goes wrong on the way is shown with a Retry button (never a page stuck on "loading…"). */
async function startGame(): Promise<void> {
  if (started) return;
  started = true;
  try {
    await runGame();
  } catch (e) {
    showStartError(`the game could not start: ${e instanceof Error ? e.message : e}`);
  }
}

/** An error that ends this page's game without ending the session: Retry reloads the page, which starts again. */
function showStartError(message: string): void {
  $('status').textContent = '';
  $('start-error-text').textContent = message;
  $('start-error').hidden = false;
}

async function runGame(): Promise<void> {
  $('login').hidden = true;
  $('game').hidden = false;
  const status = $('status');
  status.textContent = 'loading…';
  // Log out works from here on, while the start waits for the server too (helper-53): the token is forgotten and the
  // login screen shown at once, and the server told in the background (the game session ends with it, or when its
  // resume grace runs out if the server cannot be told).
  let endGame: (() => void) | null = null;
  let logoutRequested = false;
  $('logout').addEventListener('mousedown', (e) => e.preventDefault()); // never takes the focus (Enter would log out)
  $('logout').addEventListener('click', () => {
    logoutRequested = true;
    const token = session.stored();
    session.clear();
    if (token) void api.logout(token).catch(() => undefined);
    stopped = true; // a login on this page starts from a fresh page
    endGame?.();
    $('start-error').hidden = true;
    showLogin('logged out');
  });
  // A token is stored by now (a login, or a reload): a server that is away is waited for, the token kept.
  const [config, assets]: [ServerConfig, Map<string, string>] = await keepTrying(
    () => Promise.all([api.config(), loadAssets()]),
    (e, waitMs, now) => {
      retryNow = now;
      showStartError(`cannot reach the server: ${e instanceof Error ? e.message : e}; trying again in ${Math.ceil(waitMs / 1000)} s`);
    },
    () => logoutRequested);
  retryNow = () => location.reload();
  $('start-error').hidden = true;
  status.textContent = 'loading…';
  const game = new GameState();
  game.tickRate = config.tickRate;
  game.ships = parseShips(assets);
  const controls = new Controls();
  controls.attach(window);
  const loops: number[] = [];
  const listeners: (() => void)[] = [];
  const on = <K extends keyof WindowEventMap>(target: Window, type: K, fn: (e: WindowEventMap[K]) => void) => {
    target.addEventListener(type, fn);
    listeners.push(() => target.removeEventListener(type, fn));
  };
  let animating = true;
  /** Stops this page's game without a reload: the connection, the loops, the keys and the map's mouse. */
  const stopGame = () => {
    stopped = true;
    connection.close();
    for (const id of loops) clearInterval(id);
    animating = false;
    controls.detach();
    for (const off of listeners.splice(0)) off();
  };
  const pilot = new Autopilot();
  const view: View = { zoom: SPACE_ZOOM, mapOpen: false, mapHover: null, plannedRoute: [], mapCamera: null };
  const drag = new MapDrag();
  /** The galaxy map's transform as it is drawn now (its area on this window, and the zoom and pan). */
  const mapView = (map: GalaxyMap) =>
    mapTransform(map, canvas.width, canvas.height, mapArea(view, canvas.width, canvas.height), view.mapCamera ?? null);
  let galaxy: GalaxyMap | null = null;
  api.galaxy().then((g) => (galaxy = g)).catch(() => toast('galaxy map unavailable'));
  // The system under the pointer, named on top of the map: found again whenever the map moves under a still pointer
  // (a zoom by key, a reset, a reopened map), not only when the pointer moves (helper-78: a stale name stayed on).
  let pointer: { x: number; y: number } | null = null;
  const rehover = () => {
    view.mapHover = view.mapOpen && galaxy && pointer ? mapView(galaxy).pick(pointer.x, pointer.y) : null;
  };

  // Sequence numbers grow across page loads too (see firstInputSeq).
  let seq = firstInputSeq(Date.now(), config.tickRate);
  let lastSent = 0;

  const onEvent = (e: ServerEvent) => {
    const now = performance.now() / 1000;
    switch (e.type) {
      case 'welcome':
        game.tickRate = e.tickRate || game.tickRate;
        game.playerId = e.playerId;
        status.textContent = '';
        window.setTimeout(() => connection.ping(), 0);
        break;
      case 'zoneEnter':
        toast(zoneEnterText(game.zone, e));
        game.enterZone(e, now);
        pilot.onZoneEnter(game);
        break;
      case 'snapshot':
        game.onSnapshot(e, now);
        for (const ev of e.events) {
          if (ev.entity === game.zone?.entity && ev.kind === 9) pilot.onRefused();
        }
        break;
      case 'ack':
        game.onAck(e);
        break;
      case 'playerState':
        game.onPlayerState(e);
        break;
      case 'colony':
        game.onColony(e.colony);
        break;
      case 'error':
        toast(e.message || `refused: ${codeWords(e.code)}`);
        pilot.onRefused();
        break;
      default:
        break;
    }
  };
  const connection = new GameConnection(config, onEvent, (reason, kind) => {
    if (kind === 'failed') {
      showStartError(reason);
      return;
    }
    // The session is over (token refused, replaced): start over from a clean page (no loops or listeners of this
    // game left running), with the reason on the login screen.
    session.clear();
    sessionStorage.setItem('sol.goneReason', reason);
    location.reload();
  });
  connection.connect();
  endGame = stopGame;
  installTestHook({
    game, connection, pilot, assets: assetStats, lastSeqSent: () => lastSent, view,
    mapPoint: (id) => {
      const s = galaxy?.systems.find((g) => g.id === id);
      if (!s || !galaxy) return null;
      const t = mapView(galaxy);
      return { x: t.x(s.x), y: t.y(s.y) };
    },
    mapRect: () => (galaxy ? { ...mapView(galaxy).rect } : null),
  });

  const request = (bytes: Uint8Array, what: string) => {
    if (!connection.send(bytes)) toast(`not connected: ${what} not sent`);
  };

  const command = (c: Command) => {
    const now = performance.now() / 1000;
    const own = game.ownPosition(now);
    const zone = game.zone;
    const landed = zone?.kind === ZoneKind.Planet;
    switch (c) {
      case 'jump': {
        if (landed) {
          toast('on a planet: T to take off, then fly into a gate (G: autopilot)');
          break;
        }
        const gate = zone?.gates.find((g) => own && Math.hypot(g.x - own.x, g.y - own.y) < g.radius);
        if (gate) request(encode.jump(gate.id), 'jump');
        else toast('fly into a gate to jump (G: autopilot)');
        break;
      }
      case 'land': {
        if (landed) {
          toast(`already landed on ${zone!.name} (T to take off)`);
          break;
        }
        const t = game.zoneTime(now);
        const planet = zone?.planets.find((p) => {
          const at = game.planetPosition(p, t);
          return own && Math.hypot(at.x - own.x, at.y - own.y) < p.radius + 60;
        });
        if (planet) request(encode.land(planet.id), 'land');
        else toast('fly close to a planet to land (P: autopilot)');
        break;
      }
      case 'takeOff':
        request(encode.takeOff(), 'take-off');
        break;
      case 'colonize':
        request(encode.colonize(), 'colonize');
        break;
      case 'autopilotGate':
        pilot.engage(pilot.mode === 'gate' ? 'off' : 'gate');
        break;
      case 'autopilotLand':
        pilot.engage(pilot.mode === 'land' ? 'off' : 'land');
        break;
      case 'map':
        // The map opens as it was left (zoom and pan kept while the page lives; 0 shows the whole galaxy again).
        view.mapOpen = !view.mapOpen;
        drag.cancel();
        if (view.mapOpen) measureHud();
        rehover();
        break;
      case 'zoomIn':
      case 'zoomOut': {
        const factor = c === 'zoomIn' ? 1.4 : 1 / 1.4;
        if (view.mapOpen && galaxy) {
          // The map zooms around its centre (the wheel zooms around the pointer).
          const t = mapView(galaxy);
          view.mapCamera = t.zoomAt(t.projection.ox, t.projection.oy, factor);
          rehover();
        } else {
          zoomZone(view, game.zone, factor);
        }
        break;
      }
      case 'mapReset':
        if (view.mapOpen) view.mapCamera = null;
        rehover();
        break;
      case 'cancel':
        pilot.engage('off');
        view.mapOpen = false;
        drag.cancel();
        rehover();
        break;
    }
  };

  // One Input per server tick: the stick, or the autopilot while no flight key is held.
  loops.push(window.setInterval(() => {
    for (const c of controls.take()) command(c);
    if (connection.state !== 'open' || !game.zone) return;
    const now = performance.now();
    const stick = controls.stick();
    let { thrust, turn } = stick;
    if (stick.any && pilot.mode !== 'off') pilot.engage('off');
    if (pilot.mode !== 'off') {
      const p = pilot.update(game, now);
      ({ thrust, turn } = p);
      if (p.request?.kind === 'jump') request(encode.jump(p.request.gate), 'jump');
      else if (p.request?.kind === 'land') request(encode.land(p.request.planet), 'land');
      else if (p.request?.kind === 'takeOff') request(encode.takeOff(), 'take-off');
    }
    seq = (seq + 1) >>> 0;
    if (connection.send(encode.input(seq, thrust, turn, stick.fire))) {
      lastSent = seq;
      game.onInputSent({ seq, thrust, turn }, now / 1000);
    }
  }, 1000 / config.tickRate));
  loops.push(window.setInterval(() => connection.ping(), 2000));

  const canvas = $<HTMLCanvasElement>('view');
  const ctx = canvas.getContext('2d')!;
  /**
   * The HUD's box, which the map and its title keep clear of (and the help line's top, which the map ends above):
   * measured when the map opens and when the window changes; while the map is open only a HUD grown since is measured
   * again (its route line appears when a route is planned, and covered the title: helper-68), not one that shrank, so
   * the map does not jump back and forth. The help line's text never changes: only the window's width moves it.
   */
  const measureHud = (growOnly = false) => {
    view.helpTop = $('help').getBoundingClientRect().top; // the map ends above the help line, however many lines it wraps to
    const box = $('hud').getBoundingClientRect();
    const before = view.hud;
    if (growOnly && before && box.right <= before.right && box.bottom <= before.bottom) return;
    view.hud = growOnly && before
      ? { right: Math.max(box.right, before.right), bottom: Math.max(box.bottom, before.bottom) }
      : { right: box.right, bottom: box.bottom };
  };
  const resize = () => {
    canvas.width = window.innerWidth;
    canvas.height = window.innerHeight;
    measureHud();
  };
  resize();
  window.addEventListener('resize', resize);
  canvas.addEventListener('mousemove', (e) => {
    pointer = { x: e.offsetX, y: e.offsetY };
    rehover();
  });
  canvas.addEventListener('mouseleave', () => {
    pointer = null;
    rehover();
  });
  // The map: a left-button press that stays within a few pixels is a click (it plans a route to the system under the
  // press), one that goes further drags the map (and plans nothing). Moves and the release are followed on the
  // window, so a drag that leaves the canvas (over the HUD, out of the window) goes on and ends.
  let pressX = 0;
  let pressY = 0;
  const onCanvas = (e: MouseEvent) => {
    const box = canvas.getBoundingClientRect();
    return { x: e.clientX - box.left, y: e.clientY - box.top };
  };
  const endDrag = () => {
    drag.cancel();
    canvas.style.cursor = '';
  };
  canvas.addEventListener('mousedown', (e) => {
    if (e.button !== 0 || !view.mapOpen || !galaxy) return;
    e.preventDefault(); // a drag over the HUD selects none of its text
    ({ x: pressX, y: pressY } = onCanvas(e));
    drag.down(pressX, pressY);
  });
  on(window, 'mousemove', (e) => {
    if (!drag.active) return;
    if ((e.buttons & 1) === 0 || !view.mapOpen || !galaxy) { // released where no mouseup reached the page
      endDrag();
      return;
    }
    const { x, y } = onCanvas(e);
    if (!drag.move(x, y)) return;
    canvas.style.cursor = 'grabbing';
    view.mapCamera = mapView(galaxy).panBy(drag.dx, drag.dy);
    rehover();
  });
  on(window, 'mouseup', (e) => {
    if (e.button !== 0) return;
    const gesture = drag.up();
    canvas.style.cursor = '';
    if (gesture !== 'click' || !view.mapOpen || !galaxy || !game.zone) return;
    const id = mapView(galaxy).pick(pressX, pressY);
    if (id !== null) void planRoute(id);
  });
  // Wheel up zooms in around the pointer. Ctrl/⌘ + wheel stays the browser's (page zoom), as Ctrl/⌘ keys do.
  canvas.addEventListener('wheel', (e) => {
    if (!view.mapOpen || !galaxy || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    view.mapCamera = mapView(galaxy).zoomAt(e.offsetX, e.offsetY, wheelZoomFactor(e.deltaY, e.deltaMode));
    rehover();
  }, { passive: false });
  const planRoute = async (destination: number) => {
    const from = game.zone!.systemId;
    if (destination === from) return;
    try {
      const route = await api.route(from, destination);
      view.plannedRoute = route.systems;
      request(encode.setRoute(destination), 'route');
      toast(`route: ${jumps(route.jumps)} — G to fly it`);
    } catch (e) {
      toast(`no route: ${e instanceof Error ? e.message : e}`);
    }
  };

  let last = performance.now();
  let hudAt = 0;
  const frame = (t: number) => {
    if (!animating) return;
    const dt = Math.min((t - last) / 1000, 0.1);
    last = t;
    game.decay(dt);
    frames.count++;
    frames.fps += ((dt > 0 ? 1 / dt : 60) - frames.fps) * 0.05;
    if (view.mapOpen && galaxy) drawMap(ctx, galaxy, game, view);
    else drawZone(ctx, game, view, t / 1000, nextRouteSystem(game));
    if (t - hudAt > 100) {
      hudAt = t;
      updateHud(game, connection, pilot, galaxy);
      if (view.mapOpen) measureHud(true);
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

export const frames = { count: 0, fps: 60 };

function updateHud(game: GameState, connection: GameConnection, pilot: Autopilot, galaxy: GalaxyMap | null): void {
  const p = game.player;
  const own = game.serverOwn();
  const ship = game.ships.find((s) => s.id === p?.shipType) ?? (own ? game.ships[own.shipClass] : undefined);
  const set = (id: string, text: string) => {
    const el = $(id);
    if (el.textContent !== text) el.textContent = text;
  };
  set('hud-zone', game.zone ? `${game.zone.name}${game.zone.kind === ZoneKind.Planet ? ' (surface)' : ''}` : '—');
  set('hud-credits', p ? p.credits.toLocaleString('en') : '—');
  // Burning: inside a star's damage radius (the server's flag), the hull dropping until the ship flies out.
  const burning = ((own?.flags ?? 0) & EntityFlags.Burning) !== 0;
  set('hud-hull', own && p ? `${Math.round(own.hull)} / ${Math.round(p.maxHull)}${burning ? ' — burning: fly away from the star' : ''}`
    : p ? `${Math.round(p.hull)} / ${Math.round(p.maxHull)}` : '—');
  set('hud-ship', ship?.name ?? p?.shipType ?? '—');
  set('hud-explored', p ? String(p.explored.length) : '—');
  const ping = connection.roundTrip(performance.now()); // pinged every 2 s: none for 5 s is a stalled connection
  set('hud-ping', ping === null ? '—' : `${Math.round(ping)} ms`);
  set('hud-conn', connectionText(connection));
  set('hud-pilot', pilot.mode === 'off' ? pilot.status : `autopilot: ${pilot.status}`);
  const destination = p?.route.at(-1);
  const at = p ? p.route.indexOf(game.zone?.systemId ?? -1) : -1;
  const destinationName = galaxy?.systems.find((s) => s.id === destination)?.name ?? `system ${destination}`;
  set('hud-route', p && destination !== undefined && destination !== game.zone?.systemId
    ? `route → ${destinationName} (${jumps(at >= 0 ? p.route.length - at - 1 : p.route.length)})` : '');
  const now = performance.now();
  set('hud-events', game.recentEvents.filter((e) => now - e.at < 4000).map((e) => e.text).join(' · '));
}

function connectionText(c: GameConnection): string {
  switch (c.state) {
    case 'open': return '';
    case 'idle':
    case 'connecting': return 'connecting…';
    case 'reconnecting':
      return c.unreachable ? 'server unreachable: reconnecting…'
        : c.refused ? 'the game server does not take the connection (full, or check the address, port or allowed origins): retrying…'
          : 'reconnecting…';
    case 'closed': return c.closedReason || 'disconnected';
  }
}

const jumps = (n: number) => `${n} jump${n === 1 ? '' : 's'}`;

let toastTimer = 0;
function toast(text: string): void {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (el.hidden = true), 3000);
}

wireLogin();
const gone = sessionStorage.getItem('sol.goneReason');
sessionStorage.removeItem('sol.goneReason');
// A stored token, even one about to expire, starts the game: the connection refreshes it first (the login screen only
// when the server refuses it).
if (session.stored()) void startGame();
else showLogin(gone ?? '');
