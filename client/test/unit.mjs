// Bundles test/unit.ts for Node with esbuild and runs it (its output is the test output).
import { build } from 'esbuild';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dir = await mkdtemp(join(tmpdir(), 'sol-client-unit-'));
const out = join(dir, 'unit.mjs');
try {
  await build({ entryPoints: [join(root, 'test/unit.ts')], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'warning' });
  await import(pathToFileURL(out).href);
} finally {
  await rm(dir, { recursive: true, force: true });
}
