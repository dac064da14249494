// cloud-init's own JSON schema (vendored unchanged, see cloud-init-schemas/SOURCE.md) applied at
// render time. Compiling all of it costs about half a second; only the modules whose keys
// kubebake writes are compiled, with upstream's rule that no other top-level key is allowed.
import { readFileSync } from 'node:fs';
import Ajv04, { type ErrorObject, type ValidateFunction } from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { packageFile } from '../util/package-root.js';

const SCHEMA_URL = packageFile('src/verify/cloud-init-schemas/schema-cloud-config-v1.json');

interface Upstream { $defs: Record<string, { properties?: Record<string, unknown> }>; allOf: { $ref: string }[]; properties: Record<string, unknown> }

let compiled: { keys: Set<string>; validate: ValidateFunction } | undefined;

function compile(keys: readonly string[]): { keys: Set<string>; validate: ValidateFunction } {
  const upstream = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Upstream;
  const wanted = new Set(keys);
  const defOf = (ref: string): string => ref.replace('#/$defs/', '');
  const allOf = upstream.allOf.filter(({ $ref }) => Object.keys(upstream.$defs[defOf($ref)]?.properties ?? {}).some((k) => wanted.has(k)));
  const ajv = new Ajv04.default({ strict: false, allErrors: true });
  addFormats.default(ajv as never);
  const validate = ajv.compile({ ...upstream, allOf, additionalProperties: false });
  return { keys: wanted, validate };
}

export interface SchemaProblem { path: string; message: string }

/** Problems cloud-init's schema finds in a #cloud-config object (as it would parse it back). */
export function checkCloudConfig(config: Record<string, unknown>): SchemaProblem[] {
  const keys = Object.keys(config);
  // An empty document (a baked cluster's vendor-data) has nothing to check; with no module
  // selected the schema's allOf would be empty, which JSON Schema does not allow.
  if (!keys.length) return [];
  if (!compiled || keys.some((k) => !compiled!.keys.has(k))) compiled = compile([...new Set([...(compiled?.keys ?? []), ...keys])]);
  if (compiled.validate(config)) return [];
  return (compiled.validate.errors ?? []).map((e: ErrorObject) => ({ path: e.instancePath || '/', message: e.message ?? e.keyword }));
}
