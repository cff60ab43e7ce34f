// The payloads both checks exchange: text and binary messages of exactly these many bytes.
export const SIZES = [0, 125, 126, 64 * 1024, 1024 * 1024];

// A string whose UTF-8 encoding is exactly `bytes` long, with 1-, 2-, 3- and 4-byte characters in it (so that the
// server's UTF-8 validation sees every kind, including characters split across reads).
export function textOfBytes(bytes) {
  const unit = 'aé€😀z '; // 1 + 2 + 3 + 4 + 1 + 1 = 12 bytes
  const whole = Math.floor(Math.max(0, bytes - 4) / 12);
  return unit.repeat(whole) + 'x'.repeat(bytes - whole * 12);
}

// Binary payload of `bytes` bytes where every position has a distinct-ish value (a wrong offset shows).
export function binaryOfBytes(bytes) {
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}
