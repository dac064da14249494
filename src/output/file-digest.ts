// The digest the ledger (ledger.ts) keeps of each file written, to tell later whether a file on
// disk is still what kubebake wrote. It is the sha256 of the bytes, except that trailing zero bytes
// are counted instead of hashed: "<sha256 of the bytes before them>+<their count>". A seed ISO ends
// in 300 KiB of zeros (1.4 GiB for 5,000 hosts); a zero chunk (tree.ts `zeros`) is known without
// reading it, so the writer hashes only what precedes it. Text never ends in a zero byte: its
// digest is its plain sha256, as in ledgers before this one.
import { createHash, type Hash } from 'node:crypto';
import { isZeros } from './tree.js';
import { sha256Hex } from '../util/digest.js';

/** Hashed a block at a time when zeros turn out not to be trailing after all. */
const ZERO_BLOCK = new Uint8Array(64 * 1024);

/** States after leading zeros, by their count (see afterLeadingZeros): a few lengths, from `zeros`. */
const leadingZeros = new Map<number, Hash>();
const LEADING_STATES = 16;

/**
 * A hash that has taken `n` zero bytes and nothing before them: made once per count and copied.
 * A seed ISO starts with 32 KiB of zeros (its system area): 160 MiB of hashing for 5,000 images.
 */
function afterLeadingZeros(n: number): Hash {
  let state = leadingZeros.get(n);
  if (!state) {
    state = hashZeros(createHash('sha256'), n);
    if (leadingZeros.size >= LEADING_STATES) return state;
    leadingZeros.set(n, state);
  }
  return state.copy();
}

export class FileDigest {
  /** Made at the first non-zero byte, having taken the zeros before it. */
  #hash?: Hash;
  /** Zero bytes seen since the last non-zero byte (or since the start): hashed only if a non-zero byte follows. */
  #zeros = 0;

  update(chunk: Uint8Array): this {
    const end = isZeros(chunk) ? 0 : lastNonZero(chunk) + 1;
    if (end > 0) {
      if (this.#hash) hashZeros(this.#hash, this.#zeros);
      else this.#hash = this.#zeros > 0 ? afterLeadingZeros(this.#zeros) : createHash('sha256');
      this.#zeros = 0;
      this.#hash.update(end === chunk.length ? chunk : chunk.subarray(0, end));
    }
    this.#zeros += chunk.length - end;
    return this;
  }

  digest(): string {
    const hex = (this.#hash ?? createHash('sha256')).digest('hex');
    return this.#zeros > 0 ? `${hex}+${this.#zeros}` : hex;
  }
}

/** The digest of a whole content (see the header). */
export function fileDigest(content: string | Uint8Array): string {
  if (typeof content === 'string') return content.endsWith('\0') ? fileDigest(Buffer.from(content, 'utf8')) : sha256Hex(content);
  return new FileDigest().update(content).digest();
}

/** `hash` after taking `n` zero bytes, a block at a time. */
function hashZeros(hash: Hash, n: number): Hash {
  for (let left = n; left > 0; left -= ZERO_BLOCK.length) hash.update(ZERO_BLOCK.subarray(0, Math.min(left, ZERO_BLOCK.length)));
  return hash;
}

function lastNonZero(chunk: Uint8Array): number {
  let i = chunk.length - 1;
  while (i >= 0 && chunk[i] === 0) i--;
  return i;
}
