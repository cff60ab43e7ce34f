// The game WebSocket: connects with the token (access_token query parameter) and the subprotocol from /api/config,
// keeps the Welcome's client id in sessionStorage and, when the connection drops, reconnects with it (client_id)
// so the server hands back the same ship within its resume grace. Refreshes the token before it expires (Reauth).
import { api, gameUrl, type ServerConfig } from './api';
import { decode, encode, type ServerEvent } from './codec';
import { session } from './session';

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export class GameConnection {
  state: ConnectionState = 'idle';
  /** Why the connection ended for good (replaced, token rejected). */
  closedReason = '';
  clientId: string | null = session.clientId();
  /** How many times a connection was opened, and how many Welcomes resumed the earlier client id. */
  connects = 0;
  resumed = 0;
  pingMs: number | null = null;
  private socket: WebSocket | null = null;
  private attempts = 0;
  private timers: number[] = [];
  private refreshTimer = 0;

  constructor(
    private readonly config: ServerConfig,
    private readonly onEvent: (e: ServerEvent) => void,
    private readonly onGone: (reason: string) => void,
  ) {
    // Leaving or reloading the page: close at once, so the server detaches the session before the next page asks
    // to resume it.
    window.addEventListener('pagehide', () => this.socket?.close(1001, 'page closed'));
  }

  connect(): void {
    const token = session.token();
    if (!token) {
      // Expired while away (a long sleep, a late reconnect): a refreshed token, or back to the login screen.
      void this.refresh().then((ok) => (ok && session.token() ? this.connect() : this.finish('your session expired: log in again')));
      return;
    }
    this.state = this.connects === 0 ? 'connecting' : 'reconnecting';
    const requested = this.clientId;
    const socket = new WebSocket(gameUrl(this.config, token, requested), this.config.protocols);
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
        this.attempts = 0;
        this.state = 'open';
        if (requested && event.clientId === requested) this.resumed++;
        this.clientId = event.clientId;
        session.setClientId(event.clientId);
        this.scheduleRefresh();
      } else if (event.type === 'pong') {
        this.pingMs = performance.now() - event.clientTime;
      }
      this.onEvent(event);
    };
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.state === 'closed') return;
      if (e.code === 4000) {
        this.finish('this account connected elsewhere');
        return;
      }
      if (!welcomed && this.attempts >= 2) {
        // Refused before Welcome twice (an expired or rejected token looks like this to a browser): try a fresh token.
        void this.refresh().then((ok) => (ok ? this.retry() : this.finish('the server refused the session: log in again')));
        return;
      }
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
    for (const t of this.timers) clearTimeout(t);
    clearTimeout(this.refreshTimer);
    this.socket?.close(1000, 'bye');
  }

  private retry(): void {
    this.state = 'reconnecting';
    this.attempts++;
    const delay = Math.min(250 * 2 ** Math.min(this.attempts - 1, 4), 4000);
    this.timers.push(window.setTimeout(() => this.connect(), delay));
  }

  private finish(reason: string): void {
    this.state = 'closed';
    this.closedReason = reason;
    this.onGone(reason);
  }

  private scheduleRefresh(): void {
    // One refresh timer, whatever the number of (re)connections.
    clearTimeout(this.refreshTimer);
    const left = session.expiresAt() - Date.now();
    if (left <= 0) return;
    this.refreshTimer = window.setTimeout(async () => {
      if (await this.refresh()) {
        const token = session.token();
        if (token) this.send(encode.reauth(token));
        this.scheduleRefresh();
      }
    }, Math.max(left - 60_000, left / 2));
  }

  private async refresh(): Promise<boolean> {
    const token = sessionStorage.getItem('sol.token');
    if (!token) return false;
    try {
      const auth = await api.refresh(token);
      session.setAuth(auth.token, auth.expiresAt);
      return true;
    } catch {
      return false;
    }
  }
}
