// Node's `ws` package (a WebSocket client nobody here wrote) against the transport's echo host.
// Usage: node ws-check.mjs ws://127.0.0.1:PORT/ws [LABEL]
// Checks: the subprotocol echo.v1 is negotiated; text and binary messages of 0 B, 125 B, 126 B, 64 KiB and 1 MiB come
// back byte for byte and as the same kind; fragmented messages (text with a character split across fragments, binary,
// a ping between fragments) come back joined; a ping gets its pong; close 1000 is answered with 1000.
// Prints one line per check and ends with "N passed, N failed"; exits 1 when any check failed.
import WebSocket from 'ws';
import { SIZES, binaryOfBytes, textOfBytes } from './payloads.mjs';

const [url, label = 'ws'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node ws-check.mjs ws://127.0.0.1:PORT/ws [LABEL]');
  process.exit(2);
}
const TIMEOUT_MS = 15000;

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}: ${name}${detail ? ` (${detail})` : ''}`);
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), TIMEOUT_MS); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Messages in arrival order; next() waits for the next one.
function inbox(ws) {
  const queue = [];
  const waiting = [];
  ws.on('message', (data, isBinary) => {
    const m = { data, isBinary };
    if (waiting.length) waiting.shift()(m); else queue.push(m);
  });
  return () => withTimeout(new Promise((resolve) => { if (queue.length) resolve(queue.shift()); else waiting.push(resolve); }), 'an echo');
}

function sameBytes(a, b) {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

function describe(bytes) {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

async function main() {
  const ws = new WebSocket(url, 'echo.v1', { maxPayload: 4 * 1024 * 1024 });
  ws.binaryType = 'nodebuffer';
  const closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  try {
    await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_, r) => reject(new Error(`HTTP ${r.statusCode}`)));
    }), 'the upgrade');
    check('connects', true);
  } catch (e) {
    check('connects', false, e.message);
    return;
  }
  check('negotiates the subprotocol echo.v1', ws.protocol === 'echo.v1', `got '${ws.protocol}'`);
  const next = inbox(ws);

  for (const size of SIZES) {
    const text = textOfBytes(size);
    ws.send(text);
    try {
      const m = await next();
      check(`text ${describe(size)} echoed`, !m.isBinary && m.data.toString('utf8') === text,
        `${m.isBinary ? 'binary' : 'text'}, ${m.data.length} bytes`);
    } catch (e) {
      check(`text ${describe(size)} echoed`, false, e.message);
    }
    const bytes = binaryOfBytes(size);
    ws.send(bytes);
    try {
      const m = await next();
      check(`binary ${describe(size)} echoed`, m.isBinary && sameBytes(m.data, bytes),
        `${m.isBinary ? 'binary' : 'text'}, ${m.data.length} bytes`);
    } catch (e) {
      check(`binary ${describe(size)} echoed`, false, e.message);
    }
  }

  // Fragments: a text message whose 4-byte character is split between the first and the second fragment.
  {
    const whole = Buffer.from('fragmented 😀 text', 'utf8');
    const cut = whole.indexOf(0xf0) + 2;
    ws.send(whole.subarray(0, cut), { binary: false, fin: false });
    ws.send(whole.subarray(cut, cut + 3), { binary: false, fin: false });
    ws.send(whole.subarray(cut + 3), { binary: false, fin: true });
    try {
      const m = await next();
      check('fragmented text (3 fragments, a character split across them) echoed whole', !m.isBinary && sameBytes(m.data, whole),
        `${m.data.length} bytes`);
    } catch (e) {
      check('fragmented text (3 fragments, a character split across them) echoed whole', false, e.message);
    }
  }
  // Binary fragments with a ping between them (control frames may come between fragments).
  {
    const whole = binaryOfBytes(70000);
    const pong = withTimeout(new Promise((resolve) => ws.once('pong', resolve)), 'the pong');
    pong.catch(() => {});
    ws.send(whole.subarray(0, 100), { binary: true, fin: false });
    ws.ping(Buffer.from('between'));
    ws.send(whole.subarray(100), { binary: true, fin: true });
    try {
      const m = await next();
      check('fragmented binary with a ping between the fragments echoed whole', m.isBinary && sameBytes(m.data, whole),
        `${m.data.length} bytes`);
      const data = await pong;
      check('the ping between fragments gets its pong', data.toString() === 'between', `'${data}'`);
    } catch (e) {
      check('fragmented binary with a ping between the fragments echoed whole', false, e.message);
    }
  }
  // A ping on its own, with a payload: the pong carries the same payload.
  try {
    const pong = withTimeout(new Promise((resolve) => ws.once('pong', resolve)), 'the pong');
    ws.ping(Buffer.from('ping-payload'));
    const data = await pong;
    check('ping answered with a pong carrying its payload', data.toString() === 'ping-payload', `'${data}'`);
  } catch (e) {
    check('ping answered with a pong carrying its payload', false, e.message);
  }

  ws.close(1000, 'done');
  try {
    const { code } = await withTimeout(closed, 'the close');
    check('close 1000 answered with 1000', code === 1000, `code ${code}`);
  } catch (e) {
    check('close 1000 answered with 1000', false, e.message);
    ws.terminate();
  }
}

try {
  await main();
} catch (e) {
  check('ran to the end', false, e.message);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
