// Just enough of a browser for the unit tests of net.ts (and friends) in Node: window with manual timers and events,
// sessionStorage, location, a WebSocket the test opens and closes by hand, and fetch answering as the test says.
import * as flatbuffers from 'flatbuffers';
import { ServerMessage } from '../src/protocol/sol/protocol/server-message';
import { Pong, ServerPayload, Welcome } from '../src/protocol/sol_generated';

type Fn = () => void;
const g = globalThis as unknown as Record<string, unknown>;

/** Timers that run only when the test advances the clock. */
export class ManualTimers {
  now = 0;
  private next = 1_000_000;
  private pending = new Map<number, { at: number; fn: Fn; delay: number }>();
  /** Every delay asked for, in order. */
  delays: number[] = [];
  set(fn: Fn, delay = 0): number {
    const id = this.next++;
    this.pending.set(id, { at: this.now + delay, fn, delay });
    this.delays.push(delay);
    return id;
  }
  clear(id: unknown): boolean {
    return typeof id === 'number' && this.pending.delete(id);
  }
  get count(): number {
    return this.pending.size;
  }
  /** Moves the clock on by ms, running each timer that falls due (in order). */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let first: [number, { at: number; fn: Fn }] | null = null;
      for (const e of this.pending) if (e[1].at <= end && (!first || e[1].at < first[1].at)) first = e;
      if (!first) break;
      this.pending.delete(first[0]);
      this.now = first[1].at;
      first[1].fn();
    }
    this.now = end;
  }
  /** Runs the next timer whatever its delay; returns that delay (null: none). */
  runNext(): number | null {
    let first: { at: number } | null = null;
    for (const e of this.pending.values()) if (!first || e.at < first.at) first = e;
    if (!first) return null;
    const delay = first.at - this.now;
    this.advance(delay);
    return delay;
  }
}

class MemoryStorage {
  private m = new Map<string, string>();
  getItem(k: string): string | null { return this.m.get(k) ?? null; }
  setItem(k: string, v: string): void { this.m.set(k, String(v)); }
  removeItem(k: string): void { this.m.delete(k); }
  clear(): void { this.m.clear(); }
}

export class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static all: FakeSocket[] = [];
  /** The next constructor call throws this (as a browser does for a malformed address). */
  static throwNext: Error | null = null;
  readyState = 0;
  binaryType = 'blob';
  onmessage: ((m: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  closedWith: number | null = null;
  sent: Uint8Array[] = [];
  constructor(readonly url: string, readonly protocols?: string[]) {
    if (FakeSocket.throwNext) {
      const e = FakeSocket.throwNext;
      FakeSocket.throwNext = null;
      throw e;
    }
    FakeSocket.all.push(this);
  }
  /** As browsers: a page may close with 1000 or 3000–4999 only. */
  close(code?: number, _reason?: string): void {
    if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) {
      throw new DOMException(`The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, 'InvalidAccessError');
    }
    this.closedWith = code ?? 1005;
    this.readyState = 2;
  }
  send(bytes: Uint8Array): void {
    this.sent.push(bytes);
  }
  // The test's side:
  welcome(clientId: string, playerId = 'player-1'): void {
    this.readyState = 1;
    this.onmessage?.({ data: welcomeBytes(clientId, playerId) });
  }
  /** A Pong to a Ping sent `ago` ms before now. */
  pong(ago: number): void {
    const b = new flatbuffers.Builder(64);
    b.finish(ServerMessage.createServerMessage(b, ServerPayload.Pong, Pong.createPong(b, performance.now() - ago, 0)));
    this.onmessage?.({ data: b.asUint8Array().slice().buffer });
  }
  /** The connection ends (1006: refused or lost without a close frame). */
  end(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

export function welcomeBytes(clientId: string, playerId: string): ArrayBuffer {
  const b = new flatbuffers.Builder(128);
  const w = Welcome.createWelcome(b, b.createString(clientId), b.createString(playerId), 0, 20, b.createString('sol.v1'));
  b.finish(ServerMessage.createServerMessage(b, ServerPayload.Welcome, w));
  return b.asUint8Array().slice().buffer;
}

/** What the next fetch answers: 'network' throws as a browser does for a server that is not there. */
export type FetchAnswer = 'network' | { status: number; body: unknown };

export interface Browser {
  timers: ManualTimers;
  fire(type: string): void;
  fetches: string[];
  /** An answer, or one per URL; a promise holds the answer back until the test settles it (a request in flight). */
  answer: FetchAnswer | ((url: string) => FetchAnswer | Promise<FetchAnswer>);
  /** From now on Date.now() moves with the manual timers (only as far as they are advanced). */
  freezeClock(): void;
}

/** Installs a fresh fake browser on globalThis (window, WebSocket, storage, location, fetch, clearTimeout). */
export function fakeBrowser(hostname = '127.0.0.1'): Browser {
  const timers = new ManualTimers();
  const listeners = new Map<string, Fn[]>();
  const browser: Browser = {
    timers,
    fire: (type) => { for (const l of listeners.get(type) ?? []) l(); },
    fetches: [],
    answer: 'network',
    freezeClock: () => {
      const start = realNow() - timers.now;
      Date.now = () => start + timers.now;
    },
  };
  const realNow = (g.__realDateNow ??= Date.now) as () => number;
  Date.now = realNow;
  g.window = {
    setTimeout: (fn: Fn, ms?: number) => timers.set(fn, ms),
    clearTimeout: (id: unknown) => timers.clear(id),
    addEventListener: (type: string, fn: Fn) => listeners.set(type, [...(listeners.get(type) ?? []), fn]),
  };
  const realClear = (g.__realClearTimeout ??= g.clearTimeout) as (id: unknown) => void;
  g.clearTimeout = (id: unknown) => (timers.clear(id) ? undefined : typeof id === 'number' ? undefined : realClear(id));
  g.WebSocket = FakeSocket;
  FakeSocket.all = [];
  FakeSocket.throwNext = null;
  g.sessionStorage = new MemoryStorage();
  g.localStorage = new MemoryStorage();
  g.location = { protocol: 'http:', hostname };
  g.fetch = async (url: string) => {
    browser.fetches.push(url);
    const a = typeof browser.answer === 'function' ? await browser.answer(url) : browser.answer;
    if (a === 'network') throw new TypeError('Failed to fetch');
    return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json' } });
  };
  return browser;
}

/** Lets promises (a fetch and its JSON) settle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}
