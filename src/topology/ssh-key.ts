// Whether an `access.sshAuthorizedKeys` line holds a public key sshd can read. The schema checks
// the line's shape ("<type> <base64> [comment]"); this reads the key blob itself, as OpenSSH's
// sshkey_from_blob does: a key sshd cannot read is a line it skips, and every day-2 command
// (first-boot status, logs, kubeadm token create) starts with ssh.
//
// A small reader of the wire formats instead of sshpk: validate loads neither sshpk nor
// node:crypto (test/cli/start.test.ts), and sshpk's line parser is lenient where sshd is not — it
// accepts the profiles' example key, whose base64 is 65 characters and cut short, by reading the
// comment's letters as key bytes when its strict read fails (sshpk 1.18 lib/formats/ssh.js,
// SSHKEY_RE2). Its strict reader of the blob (format "rfc4253") refuses it, as `ssh-keygen -l` does;
// the tests hold this reader to ssh-keygen.
//
// Formats: RFC 4253 §6.6 (ssh-rsa: string type, mpint e, mpint n), RFC 8709 §4 (ssh-ed25519: string
// type, string key of 32 bytes), RFC 5656 §3.1 (ecdsa-sha2-<curve>: string type, string curve,
// string Q, an uncompressed point 0x04 || X || Y), openssh/openssh-portable PROTOCOL.u2f @
// 0ef0f5a839831c213f24e3f2ae434765c607fb50 (sk-ssh-ed25519@openssh.com: string type, string key,
// string application; sk-ecdsa-sha2-nistp256@openssh.com: string type, string curve, ec_point Q,
// string application).

/** The key data of the example key in profiles/*.yaml and the README: 65 characters, deliberately not a key. */
export const EXAMPLE_KEY_DATA = 'AAAAC3NzaC1lZDI1NTE5AAAAIKubebakeExampleKeyReplaceMeWithYours0000';

/** Bytes of X and Y in an uncompressed point of each curve (RFC 5656 §10.1: nistp256, nistp384, nistp521). */
const CURVE_BYTES: Record<string, number> = { nistp256: 32, nistp384: 48, nistp521: 66 };

class Blob {
  #at = 0;
  constructor(readonly bytes: Buffer) {}
  /** An RFC 4251 `string`: uint32 length, then that many bytes. */
  string(what: string): Buffer {
    if (this.#at + 4 > this.bytes.length) throw new Error(`it ends before its ${what}`);
    const length = this.bytes.readUInt32BE(this.#at);
    if (this.#at + 4 + length > this.bytes.length) throw new Error(`its ${what} is cut short (${length} bytes announced, ${this.bytes.length - this.#at - 4} there)`);
    const s = this.bytes.subarray(this.#at + 4, this.#at + 4 + length);
    this.#at += 4 + length;
    return s;
  }
  /** An RFC 4251 `mpint` that must be positive. */
  positive(what: string): Buffer {
    const n = this.string(what);
    if (n.length === 0 || (n[0]! & 0x80) !== 0) throw new Error(`its ${what} is not a positive number`);
    return n;
  }
  end(): void {
    if (this.#at !== this.bytes.length) throw new Error(`${this.bytes.length - this.#at} bytes follow the key`);
  }
}

function point(blob: Blob, curve: string): void {
  const q = blob.string('point');
  const size = CURVE_BYTES[curve]!;
  if (q.length !== 1 + 2 * size || q[0] !== 0x04) throw new Error(`its point is not an uncompressed ${curve} point (${q.length} bytes)`);
}

function curveOf(blob: Blob, expected: string): string {
  const curve = blob.string('curve name').toString('latin1');
  if (curve !== expected) throw new Error(`its curve is "${curve}", not ${expected}`);
  return curve;
}

/** Reads the blob of a key of this type; throws with what is wrong. */
function readKey(type: string, blob: Blob): void {
  const ed25519 = (): void => {
    const key = blob.string('key');
    if (key.length !== 32) throw new Error(`its Ed25519 key is ${key.length} bytes, not 32`);
  };
  if (type === 'ssh-rsa') {
    blob.positive('exponent');
    blob.positive('modulus');
  } else if (type === 'ssh-ed25519') ed25519();
  else if (type.startsWith('ecdsa-sha2-')) point(blob, curveOf(blob, type.slice('ecdsa-sha2-'.length)));
  else if (type === 'sk-ssh-ed25519@openssh.com') {
    ed25519();
    blob.string('application');
  } else if (type === 'sk-ecdsa-sha2-nistp256@openssh.com') {
    point(blob, curveOf(blob, 'nistp256'));
    blob.string('application');
  } else throw new Error(`kubebake does not know key type ${type}`);
  blob.end();
}

/** What keeps sshd from reading this authorized_keys line's key, or undefined when it is a key. */
export function sshKeyProblem(line: string): string | undefined {
  const [type = '', data = ''] = line.split(' ');
  const bytes = Buffer.from(data, 'base64');
  // Node decodes leniently (it drops what does not fill a byte); sshd does not.
  if (bytes.toString('base64') !== data) return `its key data is not whole base64 (${data.length} characters: base64 comes in groups of 4, "=" only at the end)`;
  const blob = new Blob(bytes);
  try {
    const inner = blob.string('key type').toString('latin1');
    if (inner !== type) return `the key data is of type "${inner}", not ${type}`;
    readKey(type, blob);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}
