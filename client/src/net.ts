// The game WebSocket: connects with the token (access_token query parameter) and the subprotocol from /api/config,
// keeps the Welcome's client id in sessionStorage and, when the connection drops, reconnects with it (client_id)
// so the server hands back the same ship within its resume grace. Refreshes the token before it expires (Reauth).
//
// Only a refused token (401 from /api/auth/refresh), a replacing connection (close 4000) or a logout of this login in
// another tab or window (close 4002) ends the game: a server that is restarting, down or full is waited for with a capped backoff,
// however long it takes. Once closed, a connection never stores a token again (a refresh still in flight is dropped).
import { api, gameUrl, HttpError, type ServerConfig } from './api';
import { decode, encode, type ServerEvent } from './codec';
import { session } from './session';

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What a token refresh came to: a new token; a refused token (401: log in again); no usable answer (network, 5xx, 429). */
export type RefreshOutcome = 'ok' | 'refused' | 'unreachable';

/** How the connection ended for good: the session is over ('logout'), or no socket could even be made ('failed'). */
export type GoneKind = 'logout' | 'failed';

/** Longest wait between reconnect attempts, and the least after a 1013 (try again later) close. */
export const RECONNECT_CAP_MS = 8000;
export const TRY_LATER_MS = 2000;
/** While reconnecting, the token is checked again (one refresh) at most this often. */
const VERIFY_EVERY_MS = 60_000;
/** A connection must stay open this long after its Welcome before the reconnect backoff starts again from 250 ms. */
export const STABLE_AFTER_MS = 10_000;
/** No Welcome for this long while the token is good: the game server refuses the socket (shown in the HUD). */
export const REFUSED_AFTER_MS = 20_000;

/** The wait before reconnect attempt n (1, 2, …): doubling from 250 ms up to the cap, ±20% so clients spread out. */
export function reconnectDelay(attempt: number, random = Math.random()): number {
  const base = Math.min(250 * 2 ** Math.min(Math.max(attempt - 1, 0), 8), RECONNECT_CAP_MS);
  return Math.round(base * (0.8 + 0.4 * random));
}

/**
 * Runs load until it succeeds, waiting 1 s, 2 s, … at most 8 s (±20%) between tries: the start-up's config and assets
 * while the server is away. onFailure hears of each failure and the wait, and gets a function that tries again at once.
 */
export function keepTrying<T>(load: () => Promise<T>,
  onFailure: (error: unknown, waitMs: number, now: () => void) => void, cancelled: () => boolean = () => false): Promise<T> {
  return new Promise<T>((resolve) => {
    let failures = 0;
    let timer = 0;
    let latest = 0;
    let done = false;
    const attempt = () => {
      if (done || cancelled()) return; // (a cancelled start never resolves: its page went back to the login screen)
      clearTimeout(timer);
      const mine = ++latest;
      load().then((value) => {
        done = true;
        clearTimeout(timer);
        resolve(value);
      }, (e: unknown) => {
        // Only the latest try goes on (an earlier one failing after a Retry, or after success, is let go).
        if (done || mine !== latest || cancelled()) return;
        failures++;
        const wait = reconnectDelay(failures + 2);
        timer = window.setTimeout(attempt, wait);
        onFailure(e, wait, attempt);
      });
    };
    attempt();
  });
}

/** A failed refresh: only a 401 means the token is refused; anything else (no network, 5xx, 429) is the server's trouble. */
export function refreshOutcome(error: unknown): RefreshOutcome {
  return error instanceof HttpError && error.status === 401 ? 'refused' : 'unreachable';
}

export class GameConnection {
  state: ConnectionState = 'idle';
  /** Why the connection ended for good (replaced, token rejected, no socket). */
  closedReason = '';
  clientId: string | null = session.clientId();
  /** How many times a connection was opened, and how many Welcomes resumed the earlier client id. */
  connects = 0;
  resumed = 0;
  pingMs: number | null = null;
  /** When the last Pong came (performance.now() ms); see {@link roundTrip}. */
  pongAt = 0;

  /**
   * The round trip to show: the last Pong's, unless none came for `staleMs` (a stalled connection that has not closed:
   * helper-69) or the connection closed; then null.
   */
  roundTrip(nowMs: number, staleMs = 5000): number | null {
    return this.pingMs !== null && nowMs - this.pongAt <= staleMs ? this.pingMs : null;
  }
  /** The last refresh got no answer from the server (network error, 5xx): shown while reconnecting. */
  unreachable = false;
  /** No Welcome for REFUSED_AFTER_MS although a refresh confirmed the token: the socket itself is refused. */
  refused = false;
  /** Token refreshes asked for (tests). */
  refreshes = 0;
  private socket: WebSocket | null = null;
  /** Connection attempts in a row that ended before a Welcome. */
  private attempts = 0;
  /** When a refresh last confirmed the token during this run of failed attempts (0: not yet). */
  private verifiedAt = 0;
  /** When this run of attempts without a Welcome began (0: a Welcome since). */
  private failingSince = 0;
  /** When a refresh first confirmed the token during this run of attempts without a Welcome (0: not yet). */
  private confirmedSince = 0;
  private retryTimer = 0;
  private refreshTimer = 0;
  private stableTimer = 0;
  private refreshFailures = 0;

  constructor(
    private readonly config: ServerConfig,
    private readonly onEvent: (e: ServerEvent) => void,
    private readonly onGone: (reason: string, kind: GoneKind) => void,
  ) {
    // Leaving or reloading the page: close at once, so the server detaches the session before the next page asks
    // to resume it. 1000: a page may only close with 1000 or 3000–4999 (others throw InvalidAccessError).
    window.addEventListener('pagehide', () => this.socket?.close(1000, 'page closed'));
  }

  connect(): void {
    if (this.state === 'closed') return;
    if (!this.failingSince) this.failingSince = Date.now();
    this.state = this.connects === 0 ? 'connecting' : 'reconnecting';
    const token = session.token();
    if (!token) {
      // Expired or about to (a long sleep, a late reconnect, a reload near expiry): a refreshed token first; the
      // login screen only when the server refuses it.
      void this.refresh().then((outcome) => {
        if (this.state === 'closed') return;
        if (outcome === 'refused') this.finish('your session expired: log in again', 'logout');
        else if (outcome === 'ok' && session.token()) this.connect();
        else this.retry();
      });
      return;
    }
    const requested = this.clientId;
    let socket: WebSocket;
    try {
      socket = new WebSocket(gameUrl(this.config, token, requested), this.config.protocols);
    } catch (e) {
      // A malformed address (a port the browser blocks does not throw here: that socket just closes, as a refused
      // one does). Trying again would fail the same way. (The browser's message quotes the address: not the token.)
      const why = (e instanceof Error ? e.message : String(e)).replace(/access_token=[^&'"\s]*/g, 'access_token=…');
      this.finish(`cannot open the game connection: ${why}`, 'failed');
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.connects++;
    let welcomed = false;
    socket.onmessage = (m) => {
      if (!(m.data instanceof ArrayBuffer)) return;
      let event: ServerEvent;
      try {
        event = decode(new Uint8Array(m.data));
      } catch {
        return;
      }
      if (event.type === 'welcome') {
        welcomed = true;
        this.failingSince = 0;
        this.confirmedSince = 0;
        this.verifiedAt = 0; // the next run of failures checks the token again (a stale check hid an outage: helper-53)
        this.unreachable = false;
        this.refused = false;
        this.state = 'open';
        // The backoff starts again only once this connection has lasted: a server that closes every connection
        // right after its Welcome is not hammered every 250 ms.
        clearTimeout(this.stableTimer);
        this.stableTimer = window.setTimeout(() => {
          this.attempts = 0;
        }, STABLE_AFTER_MS);
        if (requested && event.clientId === requested) this.resumed++;
        this.clientId = event.clientId;
        session.setClientId(event.clientId);
        this.scheduleRefresh();
      } else if (event.type === 'pong') {
        this.pingMs = performance.now() - event.clientTime;
        this.pongAt = performance.now();
      }
      this.onEvent(event);
    };
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.pingMs = null; // no connection, no round trip to show (helper-68: the last one stayed on through an outage)
      clearTimeout(this.stableTimer);
      if (this.state === 'closed') return;
      if (!this.failingSince) this.failingSince = Date.now();
      if (e.code === 4000) {
        this.finish('this account connected elsewhere', 'logout');
        return;
      }
      if (e.code === 4002) {
        // This login (the token's session, which the page's tabs share) logged out in another tab (or through the API)
        // while this one was connected.
        this.finish('logged out in another tab or window', 'logout');
        return;
      }
      if (e.code === 1013) {
        // The server took the socket but asks to come back later (other arrivals of this account ahead of it).
        this.retry(TRY_LATER_MS);
        return;
      }
      if (!welcomed && this.attempts >= 2 && !(this.verifiedAt && Date.now() - this.verifiedAt < VERIFY_EVERY_MS)) {
        // Refused before a Welcome again. A browser cannot tell a rejected token (401 at the handshake) from a server
        // that is down or full; the refresh can: only its 401 logs out, no answer means wait and try again.
        void this.refresh().then((outcome) => {
          if (this.state === 'closed') return;
          if (outcome === 'refused') {
            this.finish('the server refused the session: log in again', 'logout');
            return;
          }
          // A good token and still no game connection (the game port not up yet, or full): keep backing off.
          if (outcome === 'ok') {
            this.verifiedAt = Date.now();
            if (!this.confirmedSince) this.confirmedSince = this.verifiedAt;
          } else {
            this.confirmedSince = 0;
          }
          this.noteRefused();
          this.retry();
        });
        return;
      }
      if (!welcomed) this.noteRefused();
      this.retry();
    };
  }

  send(bytes: Uint8Array): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN || this.state !== 'open') return false;
    this.socket.send(bytes);
    return true;
  }

  ping(): void {
    this.send(encode.ping(performance.now()));
  }

  /** Drops the socket as a network failure would (the tests use it to prove resume). */
  drop(): void {
    this.socket?.close(4100, 'dropped by the client');
  }

  close(): void {
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    clearTimeout(this.refreshTimer);
    clearTimeout(this.stableTimer);
    this.socket?.close(1000, 'bye');
  }

  /**
   * Logs out: closes the connection, ends the session on the server (POST /api/auth/logout) and forgets the token
   * whatever comes of it. True when the server answered; false when it could not be reached (the socket's close then
   * leaves the ship to the server's resume grace).
   */
  async logout(): Promise<boolean> {
    const token = session.stored();
    this.close();
    session.clear(); // at once, whatever the server does (a reload meanwhile starts logged out: helper-53)
    if (!token) return false;
    return api.logout(token).then((r) => r.ok, () => false);
  }

  /** A socket refused again: once there has been no Welcome for a while with a good token, the HUD says so. */
  private noteRefused(): void {
    // Counted from the first refresh that confirmed the token in this run: not from the start of an outage.
    this.refused = !this.unreachable && this.confirmedSince > 0 && Date.now() - this.confirmedSince >= REFUSED_AFTER_MS;
  }

  private retry(atLeastMs = 0): void {
    this.state = 'reconnecting';
    this.attempts++;
    clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.connect(), Math.max(reconnectDelay(this.attempts), atLeastMs));
  }

  private finish(reason: string, kind: GoneKind): void {
    this.state = 'closed';
    this.closedReason = reason;
    clearTimeout(this.retryTimer);
    clearTimeout(this.refreshTimer);
    clearTimeout(this.stableTimer);
    this.onGone(reason, kind);
  }

  /** Refreshes the token a minute before it expires (or halfway); a refresh with no answer is tried again until then. */
  private scheduleRefresh(afterMs?: number): void {
    // One refresh timer, whatever the number of (re)connections.
    clearTimeout(this.refreshTimer);
    const left = session.expiresAt() - Date.now();
    if (left <= 0) return;
    const wait = afterMs === undefined ? Math.max(left - 60_000, left / 2) : Math.min(afterMs, left);
    this.refreshTimer = window.setTimeout(async () => {
      const outcome = await this.refresh();
      if (this.state === 'closed') return;
      if (outcome === 'ok') {
        this.refreshFailures = 0;
        const token = session.token();
        if (token) this.send(encode.reauth(token));
        this.scheduleRefresh();
      } else if (outcome === 'unreachable') {
        // 5 s, 10 s, … a minute apart while the token lasts (after that, a reconnect refreshes it or logs out).
        this.refreshFailures++;
        this.scheduleRefresh(Math.min(5000 * 2 ** (this.refreshFailures - 1), 60_000));
      }
      // Refused: the token serves until it expires; the server then closes (4001) and the reconnect logs out.
    }, wait);
  }

  private async refresh(): Promise<RefreshOutcome> {
    const token = session.stored();
    if (!token) return 'refused';
    this.refreshes++;
    try {
      const auth = await api.refresh(token);
      // Closed meanwhile (a logout, a replaced or refused session): the page has forgotten the token; storing the
      // new one would bring the next page back logged in.
      if (this.state === 'closed') return 'unreachable';
      session.setAuth(auth.token, auth.expiresAt);
      this.unreachable = false;
      return 'ok';
    } catch (e) {
      const outcome = refreshOutcome(e);
      this.unreachable = outcome === 'unreachable';
      return outcome;
    }
  }
}
