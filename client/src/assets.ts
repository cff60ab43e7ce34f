// The asset manifest (/api/assets) and the assets it lists, cached by content hash: the Cache API where the page is
// a secure context (127.0.0.1, localhost, https), else localStorage. A cached copy is used only under its sha256, so
// a changed asset (new hash) is fetched again and never mixed up with the old one.

export interface AssetEntry { name: string; sha256: string; size: number; url: string }
export interface ShipInfo { id: string; name: string; maxSpeed: number; thrust: number; turnRate: number; hull: number; radius: number }

const CACHE = 'sol-assets-v1';

async function sha256Hex(bytes: ArrayBuffer): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function fromCache(hash: string): Promise<string | null> {
  try {
    if ('caches' in globalThis) {
      const hit = await (await caches.open(CACHE)).match(`/asset-cache/${hash}`);
      return hit ? await hit.text() : null;
    }
    return localStorage.getItem(`sol.asset.${hash}`);
  } catch {
    return null;
  }
}

async function toCache(hash: string, text: string): Promise<void> {
  try {
    if ('caches' in globalThis) {
      await (await caches.open(CACHE)).put(`/asset-cache/${hash}`, new Response(text));
    } else {
      localStorage.setItem(`sol.asset.${hash}`, text);
    }
  } catch { /* a full or unavailable cache only costs a download next time */ }
}

/** Statistics of the last load, for the test hook. */
export const assetStats = { fromCache: 0, downloaded: 0 };

/** Loads every asset of the manifest as text, keyed by name. */
export async function loadAssets(): Promise<Map<string, string>> {
  const response = await fetch('/api/assets');
  if (!response.ok) throw new Error(`asset manifest: HTTP ${response.status}`);
  const manifest = await response.json() as AssetEntry[];
  const out = new Map<string, string>();
  await Promise.all(manifest.map(async (entry) => {
    const cached = await fromCache(entry.sha256);
    if (cached !== null) {
      assetStats.fromCache++;
      out.set(entry.name, cached);
      return;
    }
    const r = await fetch(entry.url);
    if (!r.ok) throw new Error(`asset ${entry.name}: HTTP ${r.status}`);
    const bytes = await r.arrayBuffer();
    const hash = await sha256Hex(bytes);
    if (hash !== null && hash !== entry.sha256.toLowerCase()) throw new Error(`asset ${entry.name}: hash mismatch`);
    const text = new TextDecoder().decode(bytes);
    assetStats.downloaded++;
    out.set(entry.name, text);
    await toCache(entry.sha256, text);
  }));
  return out;
}

/** ships.json, indexed as EntityState.ship_class indexes it. */
export function parseShips(assets: Map<string, string>): ShipInfo[] {
  const text = assets.get('ships.json');
  if (!text) return [];
  const parsed = JSON.parse(text) as { ships: ShipInfo[] };
  return parsed.ships ?? [];
}
