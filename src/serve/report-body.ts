// The body of a host's progress report, as the report helper (steps/report.ts) sends it:
// `key=value` lines (event, step, rc), then for a failure `log:` and the last log lines. Anything
// else is refused: the parser is the server's first line against a hostile client.
import { looksLikeKeyMaterial } from '../diagnostics/escape.js';
import { TOKEN_IN_TEXT } from '../plan/pki.js';
import { REPORT_LINE_CHARS, REPORT_LOG_LINES } from '../steps/report.js';
import type { ReportEvent } from './state.js';

const EVENTS = new Set(['boot', 'start', 'end', 'fail']);

/**
 * A log line as the server keeps and publishes it (/api/status, the live page, its own log, none
 * of them authenticated): bootstrap tokens and lines that look like key material are hidden.
 */
export const redactLogLine = (line: string): string =>
  looksLikeKeyMaterial(line) ? '(line not shown: it looks like key material)' : line.replace(TOKEN_IN_TEXT, '<token hidden>');
const PRINTABLE = /^[\t\n\x20-\x7e]*$/;

/** A report event, or why the body is not one. `steps`: the host's own steps. */
export function parseReport(body: string, steps: readonly string[]): ReportEvent | { error: string } {
  if (!PRINTABLE.test(body)) return { error: 'the body must be printable ASCII text' };
  const lines = body.replace(/\n$/, '').split('\n');
  const fields = new Map<string, string>();
  let log: string[] | undefined;
  for (const [n, line] of lines.entries()) {
    if (line === 'log:') {
      log = lines.slice(n + 1);
      break;
    }
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq) : '';
    if (!['event', 'step', 'rc'].includes(key)) return { error: `line ${n + 1}: expected event=, step=, rc= or log:` };
    if (fields.has(key)) return { error: `line ${n + 1}: ${key} given twice` };
    fields.set(key, line.slice(eq + 1));
  }
  const event = fields.get('event') ?? '';
  if (!EVENTS.has(event)) return { error: 'event must be boot, start, end or fail' };
  if (event === 'boot') return { event };
  const step = fields.get('step') ?? '';
  if (!steps.includes(step)) return { error: `step ${JSON.stringify(step.slice(0, 64))} is not one of this host's steps` };
  if (event === 'start' || event === 'end') return { event, step };
  const rcText = fields.get('rc') ?? '';
  if (rcText !== '' && !/^[0-9]{1,3}$/.test(rcText)) return { error: 'rc must be an exit status (0-255)' };
  const rc = rcText === '' ? undefined : Number(rcText);
  if (rc !== undefined && rc > 255) return { error: 'rc must be an exit status (0-255)' };
  const kept = (log ?? []).filter((l) => l.trim() !== '').slice(-REPORT_LOG_LINES).map((l) => redactLogLine(l.slice(0, REPORT_LINE_CHARS)));
  return { event: 'fail', step, rc, log: kept };
}
