// The HTTP API of `sol serve` (same origin as the page): accounts, server config, galaxy map and routes.

export interface Auth { token: string; expiresAt: string; playerId: string }
export interface ServerConfig { gamePort: number; gamePath: string; tickRate: number; protocols: string[] }
export interface GalaxySystem { id: number; name: string; x: number; y: number; planets: number; gates: { id: number; to: number }[] }
export interface GalaxyMap { name: string; contentHash: string; systems: GalaxySystem[] }

/** An HTTP answer that was not 2xx: its status tells a refused token (401) from a server in trouble (5xx). */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) {
    let detail = `HTTP ${response.status}`;
    try {
      const body = await response.json();
      if (body && typeof body.error === 'string') detail = body.error;
      else if (body && typeof body.message === 'string') detail = body.message;
    } catch { /* not JSON */ }
    throw new HttpError(response.status, detail);
  }
  return await response.json() as T;
}

function post<T>(path: string, body: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(path, { method: 'POST', headers, body: JSON.stringify(body) }).then((r) => json<T>(r));
}

export const api = {
  guest: (deviceId: string) => post<Auth>('/api/auth/guest', { deviceId }),
  login: (username: string, password: string) => post<Auth>('/api/auth/login', { username, password }),
  register: (username: string, password: string) => post<Auth>('/api/auth/register', { username, password }),
  refresh: (token: string) => post<Auth>('/api/auth/refresh', {}, token),
  /** Logs this login out (204): its tokens are refused from then on, and its game session ends now. */
  logout: (token: string) => fetch('/api/auth/logout', {
    method: 'POST', headers: { authorization: `Bearer ${token}` },
    keepalive: true, // sent even when the page goes away right after
    signal: AbortSignal.timeout(5000), // a server that hangs does not hold anything up
  }),
  config: () => fetch('/api/config').then((r) => json<ServerConfig>(r)),
  galaxy: () => fetch('/api/galaxy').then((r) => json<GalaxyMap>(r)),
  route: (from: number, to: number) =>
    fetch(`/api/route?from=${from}&to=${to}`).then((r) => json<{ from: number; to: number; jumps: number; systems: number[] }>(r)),
};

/**
 * The game WebSocket's address: the page's host name, the game port and path from /api/config. `location.hostname`
 * of an IPv6 page is already bracketed ("[::1]"), so it is used as it is.
 */
export function gameUrl(config: ServerConfig, token: string, clientId: string | null,
  page: { protocol: string; hostname: string } = location): string {
  const scheme = page.protocol === 'https:' ? 'wss' : 'ws';
  const host = page.hostname.includes(':') && !page.hostname.startsWith('[') ? `[${page.hostname}]` : page.hostname;
  const query = new URLSearchParams({ access_token: token });
  if (clientId) query.set('client_id', clientId);
  return `${scheme}://${host}:${config.gamePort}${config.gamePath}?${query}`;
}
