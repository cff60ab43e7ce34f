// What survives a page reload in this tab (sessionStorage): the token and the client id to resume with.
// A device id for guest play is kept in localStorage so the same browser gets the same guest account back.

const TOKEN = 'sol.token';
const EXPIRES = 'sol.expiresAt';
const CLIENT = 'sol.clientId';
const DEVICE = 'sol.deviceId';

export const session = {
  token(): string | null {
    const token = sessionStorage.getItem(TOKEN);
    const expires = Date.parse(sessionStorage.getItem(EXPIRES) ?? '');
    return token && (!Number.isFinite(expires) || expires > Date.now() + 5000) ? token : null;
  },
  /** The stored token even when it has expired or is about to (a refresh may still turn it into a fresh one). */
  stored(): string | null {
    return sessionStorage.getItem(TOKEN);
  },
  expiresAt(): number {
    return Date.parse(sessionStorage.getItem(EXPIRES) ?? '') || 0;
  },
  setAuth(token: string, expiresAt: string): void {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(EXPIRES, expiresAt);
  },
  clientId(): string | null {
    return sessionStorage.getItem(CLIENT);
  },
  setClientId(id: string): void {
    sessionStorage.setItem(CLIENT, id);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(EXPIRES);
    sessionStorage.removeItem(CLIENT);
  },
  deviceId(): string {
    let id = localStorage.getItem(DEVICE);
    if (!id) {
      id = `web-${crypto.getRandomValues(new Uint32Array(4)).join('-')}`;
      localStorage.setItem(DEVICE, id);
    }
    return id;
  },
};
