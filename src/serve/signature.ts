// Signed progress reports: each request carries an HMAC-SHA256, under the host's own report key
// (plan/report-keys.ts), of what it asks — method, path, time, a fresh nonce and the body — so a
// report read off the wire cannot be sent again (nonce cache) or later (time window), nor changed.
// The host computes it in bash with coreutils' sha256sum (steps/sh/report.sh); this side checks
// it with node:crypto.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADERS = { time: 'kubebake-time', nonce: 'kubebake-nonce', signature: 'kubebake-signature' } as const;

/** How far a report's time may be from the server's, in seconds, either way. */
export const REPORT_WINDOW_S = 300;

/** The bytes signed: method, path, time (Unix seconds), nonce, body, one per line (the body last, as sent). */
export const signedText = (method: string, path: string, time: string, nonce: string, body: string): string => `${method}\n${path}\n${time}\n${nonce}\n${body}`;

/** HMAC-SHA256 with the host's key (64 hex digits, used as its 32 bytes), hex. */
export const sign = (keyHex: string, text: string): string => createHmac('sha256', Buffer.from(keyHex, 'hex')).update(text, 'latin1').digest('hex');

export interface Signed { time: string; nonce: string; signature: string }

/** The three signature headers of a request, or why they are unusable. */
export function readSignature(headers: Record<string, string | string[] | undefined>): Signed | { missing: string } {
  const one = (name: string): string => {
    const v = headers[name];
    return typeof v === 'string' ? v : '';
  };
  const time = one(SIGNATURE_HEADERS.time);
  const nonce = one(SIGNATURE_HEADERS.nonce);
  const signature = one(SIGNATURE_HEADERS.signature);
  if (!/^[0-9]{1,12}$/.test(time)) return { missing: 'Kubebake-Time (Unix seconds)' };
  if (!/^[0-9a-f]{32}$/.test(nonce)) return { missing: 'Kubebake-Nonce (32 hexadecimal digits)' };
  if (!/^[0-9a-f]{64}$/.test(signature)) return { missing: 'Kubebake-Signature (64 hexadecimal digits)' };
  return { time, nonce, signature };
}

/** Whether `signature` is the HMAC of `text` under `keyHex` (constant time). */
export function verify(keyHex: string, text: string, signature: string): boolean {
  const want = Buffer.from(sign(keyHex, text), 'hex');
  const got = Buffer.from(signature, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * Nonces seen inside the window, each kept until its report's time leaves the window (so a replay
 * is refused either as seen or as stale). Bounded: when full of live nonces it refuses new ones
 * rather than forget one that could then be replayed.
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  constructor(private readonly capacity: number) {}

  /** Records the nonce, or says it was seen already or the cache is full of live ones. */
  add(nonce: string, expiresAtS: number, nowS: number): 'ok' | 'replayed' | 'full' {
    // A nonce past its expiry belongs to a report outside the window, refused before this.
    if (this.seen.has(nonce)) return 'replayed';
    if (this.seen.size >= this.capacity) for (const [n, exp] of this.seen) if (exp <= nowS) this.seen.delete(n);
    if (this.seen.size >= this.capacity) return 'full';
    this.seen.set(nonce, expiresAtS);
    return 'ok';
  }
}
