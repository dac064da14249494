import { topologySchema } from '../topology/schema.js';
import { EXIT } from './exit.js';

export function runSchema(): number {
  process.stdout.write(JSON.stringify(topologySchema, null, 2) + '\n');
  return EXIT.ok;
}
