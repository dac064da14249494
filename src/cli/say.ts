// The CLI's one printer of a catalogue message in its short form, for what is not a diagnostic
// about the topology (print.ts formats those, with their path and source line): an option's value,
// a command's outcome, a progress line. Byte for byte as kubebake has always said them:
//   kubebake: <message>
//     hint: <hint>          (only when the message has a hint)
// Nothing is escaped here: text from outside (a server's answer) is escaped where it is passed in.
import type { Message } from '../diagnostics/messages.js';
import { EXIT } from './exit.js';

/** Writes `m` to stderr. */
export function say(m: Pick<Message, 'message' | 'hint'>): void {
  process.stderr.write(`kubebake: ${m.message}\n${m.hint === undefined ? '' : `  hint: ${m.hint}\n`}`);
}

/** Says what is wrong with an option's value (or how the command was called); EXIT.usage. */
export function usageError(m: Pick<Message, 'message' | 'hint'>): number {
  say(m);
  return EXIT.usage;
}
