// A mirror's signing key (mirrors.*.key or the file keyFile names), read as OpenPGP: what reaches a
// host is the key openpgp parsed, armoured again by openpgp, never the text of the topology. Text
// around or inside the armour (comments, headers, a here-document terminator followed by commands)
// goes nowhere. Loaded only for a topology that has a key (openpgp is ~0.5 MB of JavaScript).
import { armor, enums, readKeys } from 'openpgp';

/** One ASCII-armoured block: its header line, as RFC 9580 §6.2 spells it (openpgp reads only the first block). */
const BLOCK_START = /^-----BEGIN PGP [A-Z ,/0-9]+-----$/gm;

/** The key re-armoured, or why the text is no public key (a sentence to follow "the key is …"). */
export async function armoredPublicKey(text: string): Promise<{ armored: string } | { problem: string }> {
  const blocks = text.match(BLOCK_START) ?? [];
  if (blocks.length !== 1) return { problem: `${blocks.length} armoured blocks, not one (export all keys at once: gpg --armor --export KEY…)` };
  if (blocks[0] !== '-----BEGIN PGP PUBLIC KEY BLOCK-----') return { problem: `a ${blocks[0]!.replace(/^-----BEGIN PGP (.*)-----$/, '$1').toLowerCase()}, not a public key block` };
  let keys;
  try {
    keys = await readKeys({ armoredKeys: text });
  } catch (e) {
    return { problem: `not readable as OpenPGP (${String((e as Error).message ?? e).slice(0, 160)})` };
  }
  // openpgp also reads secret-key packets in a block labelled public: a private key must never reach a host.
  if (keys.some((k) => k.isPrivate())) return { problem: 'a private key: give the public key (gpg --armor --export KEY), and treat this private key as exposed' };
  const packets = keys.map((k) => k.write());
  const all = new Uint8Array(packets.reduce((n, p) => n + p.length, 0));
  packets.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  // With the CRC-24 checksum line (emitChecksum), as `gpg --armor --export` writes it.
  return { armored: armor(enums.armor.publicKey, all, undefined, undefined, undefined, true) };
}
