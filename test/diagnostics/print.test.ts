import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { formatDiagnostics } from '../../src/diagnostics/print.js';

const source = Array.from({ length: 40 }, (_, i) => `  - name: host${i}`).join('\n');
const at = (i: number, code = 'host-mac-assigned', severity: Diagnostic['severity'] = 'warning'): Diagnostic => ({
  severity, code, path: ['hosts', i], file: 'c.yaml', line: i + 1, col: 5, length: 4, message: `host "host${i}" names neither mac nor interface`,
});

test('a kind seen many times is shown five times and the rest counted, naming where the next ones are', () => {
  const ds = [...Array.from({ length: 30 }, (_, i) => at(i)), { ...at(31, 'ip-outside-subnet', 'error'), message: '10.3.0.5 is outside the node subnet' }];
  const out = formatDiagnostics(ds, source);
  assert.equal(out.match(/names neither mac/g)?.length, 5);
  assert.match(out, /^warning\[host-mac-assigned\]: 25 more like the above \(hosts\[5\], hosts\[6\], hosts\[7\], …\); --json lists every one$/m);
  // Another kind is still shown in full, with its source line, and the totals count everything.
  assert.match(out, /error\[hosts\[31\]\][\s\S]*32 \|   - name: host31/);
  assert.match(out, /\n1 error, 30 warnings\n$/);
});

test('five or fewer of a kind are all shown, none counted', () => {
  const out = formatDiagnostics(Array.from({ length: 5 }, (_, i) => at(i)), source);
  assert.equal(out.match(/names neither mac/g)?.length, 5);
  assert.doesNotMatch(out, /more like the above/);
});
