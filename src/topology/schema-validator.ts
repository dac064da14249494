// The topology schema's validator. Compiling it with ajv costs most of a CLI start (~60 ms of
// ~200), so the build writes it out once as plain JavaScript (ajv's standalone code, see
// build-validator.ts) and this module loads that. The generated file records the schema it
// was made from (as JSON); when it is missing or was made from another schema (someone ran
// `tsc` alone after editing schema.ts), the schema is compiled here instead: slower, same result.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import { packageFile } from '../util/package-root.js';
import { topologySchema } from './schema.js';

export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** The generated module, next to this one in tsc's output (the CLI bundle loads it from there too). */
export const GENERATED_VALIDATOR = packageFile('dist/src/topology/schema-validator.generated.cjs');

/** The schema as JSON: what the generated validator must have been made from (compared as text: no crypto at start). */
export const SCHEMA_JSON = JSON.stringify(topologySchema);

const require = createRequire(import.meta.url);

/** ajv with the options the validator needs (`code.source` keeps the code for the build's standalone output). */
export function topologyAjv(): import('ajv').default {
  const Ajv = (require('ajv') as typeof import('ajv')).default;
  return new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true, strictTypes: false, code: { source: true } });
}

/** Where the validator came from (tests check the CLI uses the generated one). */
export let validatorSource: 'generated' | 'compiled' = 'generated';

function load(): SchemaValidator {
  try {
    const generated = require(fileURLToPath(GENERATED_VALIDATOR)) as { validate: SchemaValidator; schemaJson: string };
    if (generated.schemaJson === SCHEMA_JSON) return generated.validate;
  } catch {
    // Not built yet: compile below.
  }
  validatorSource = 'compiled';
  return topologyAjv().compile(topologySchema);
}

export const validateTopologySchema: SchemaValidator = load();
