// What kubebake prints comes partly from its input (override reasons, unknown keys, values, file
// paths, source lines in code frames). Printed raw, a control character in it drives the terminal
// (an escape sequence can rewrite the screen or the title) and a private key pasted into the
// wrong field would be echoed. So everything shown passes through here.

/** C0 and C1 controls, DEL, the line/paragraph separators and the bidirectional overrides. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escapeChar = (c: string): string => {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
};

/** Makes text safe for a terminal; `multiLine` keeps newlines (and tabs) as they are. */
export function escapeControl(text: string, multiLine = false): string {
  return text.replace(multiLine ? CONTROL : CONTROL_OR_NEWLINE, escapeChar);
}

/**
 * Key material as people paste it: a PEM or OpenSSH private key header, the base64 of
 * "openssh-key-v1" that starts an OpenSSH key body, or a bare base64 line of PEM width (public
 * key lines carry their type first, "ssh-ed25519 AAAA…", and so do not match).
 */
const KEY_MATERIAL = /PRIVATE KEY|b3BlbnNzaC1rZXktdjE|^[\s"'-]*[A-Za-z0-9+/]{60,}={0,2}["']?\s*$/m;

export const looksLikeKeyMaterial = (text: string): boolean => KEY_MATERIAL.test(text);

const HIDDEN = '(not shown: it looks like private key material)';

/** A message safe to print: quoted values that look like key material are hidden, controls escaped. */
export function safeMessage(text: string): string {
  let out = text.replace(/"(?:[^"\\]|\\.)*"/g, (q) => (looksLikeKeyMaterial(q) ? `"${HIDDEN}"` : q));
  if (looksLikeKeyMaterial(out)) out = `a value ${HIDDEN}`;
  return escapeControl(out);
}

/** A source line for a code frame, or undefined when it must not be shown. */
export function safeSourceLine(line: string): string | undefined {
  return looksLikeKeyMaterial(line) ? undefined : escapeControl(line, true); // tabs stay: the caret line lines up with them
}
