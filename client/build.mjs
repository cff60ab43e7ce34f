// Builds the client into dist/: app-HASH.js (bundled, minified, with a source map), style-HASH.css and index.html
// naming both, so the server can let browsers cache the hashed files and must only revalidate index.html.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const hash = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 12);

const result = await build({
  entryPoints: [join(root, 'src/main.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: 'external',
  write: false,
  outfile: join(dist, 'app.js'),
  logLevel: 'warning',
});
const js = result.outputFiles.find((f) => f.path.endsWith('.js')).contents;
const map = result.outputFiles.find((f) => f.path.endsWith('.map')).contents;
const css = await readFile(join(root, 'static/style.css'));
const jsName = `app-${hash(js)}.js`;
const cssName = `style-${hash(css)}.css`;
const html = (await readFile(join(root, 'static/index.html'), 'utf8'))
  .replace('__JS__', `/${jsName}`)
  .replace('__CSS__', `/${cssName}`);

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
const jsText = Buffer.concat([Buffer.from(js), Buffer.from(`\n//# sourceMappingURL=${jsName}.map\n`)]);
await writeFile(join(dist, jsName), jsText);
await writeFile(join(dist, `${jsName}.map`), map);
await writeFile(join(dist, cssName), css);
await writeFile(join(dist, 'index.html'), html);
console.log(`client built into ${dist}: ${jsName} (${js.length} bytes), ${cssName}, index.html`);
