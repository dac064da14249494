// The kubeadm configuration checked as kubeadm decodes it: strictly, against the field tables of
// its API version (kubeadm-fields.ts). An unknown or misspelled field, a value of the wrong type,
// or a kind the version does not have fails `kubeadm init/join` at first boot; here it fails the
// render instead. Other groups in the file (KubeletConfiguration) are not checked.
import { parseAllDocuments } from 'yaml';
import { KUBEADM_FIELDS } from './kubeadm-fields.js';

export interface KubeadmProblem {
  /** Field path in the config, e.g. nodeRegistration.criSocket ('' for a whole document). */
  field: string;
  message: string;
}

const DURATION = /^-?(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/;

const kindOf = (v: unknown): string =>
  v === null || v === undefined ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v;

function check(value: unknown, type: string, field: string, structs: Record<string, Record<string, string>>, out: KubeadmProblem[]): void {
  const wrong = (goType = type): void => void out.push({ field, message: `cannot unmarshal ${kindOf(value)} into field ${field} of type ${goType}` });
  if (type === 'any') return;
  if (type.startsWith('[]')) {
    if (!Array.isArray(value)) return wrong();
    value.forEach((v, i) => check(v, type.slice(2), `${field}[${i}]`, structs, out));
    return;
  }
  if (type.startsWith('map[string]')) {
    if (kindOf(value) !== 'object') return wrong();
    for (const [k, v] of Object.entries(value as object)) check(v, type.slice('map[string]'.length), `${field}.${k}`, structs, out);
    return;
  }
  switch (type) {
    case 'string':
    case 'time':
      return typeof value === 'string' ? undefined : wrong('string');
    case 'duration':
      return typeof value === 'string' && DURATION.test(value) ? undefined : void out.push({ field, message: `${field}: invalid duration ${JSON.stringify(value)}` });
    case 'bool':
      return typeof value === 'boolean' ? undefined : wrong();
    case 'int':
      return Number.isInteger(value) ? undefined : wrong('int32');
  }
  const fields = structs[type];
  if (!fields) throw new Error(`kubeadm field table: no struct ${type}`);
  if (kindOf(value) !== 'object') return wrong();
  for (const [k, v] of Object.entries(value as object)) {
    const path = field ? `${field}.${k}` : k;
    if (!(k in fields)) out.push({ field: path, message: `unknown field "${path}"` });
    else if (v !== null) check(v, fields[k]!, path, structs, out);
  }
}

/** Problems kubeadm's strict decoding would find in a kubeadm configuration file. */
export function checkKubeadmConfig(text: string): KubeadmProblem[] {
  const out: KubeadmProblem[] = [];
  for (const doc of parseAllDocuments(text, { version: '1.1' })) {
    if (doc.errors.length) {
      out.push({ field: '', message: `not YAML: ${doc.errors[0]!.message}` });
      continue;
    }
    const value = doc.toJS() as Record<string, unknown> | null;
    if (value === null) continue;
    const { apiVersion, kind, ...body } = value;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      out.push({ field: '', message: 'a document without apiVersion and kind' });
      continue;
    }
    if (!apiVersion.startsWith('kubeadm.k8s.io/')) continue;
    const api = KUBEADM_FIELDS[apiVersion];
    if (!api?.kinds.includes(kind)) {
      out.push({ field: '', message: `no kind "${kind}" is registered for version "${apiVersion}"` });
      continue;
    }
    check(body, kind, '', api.structs, out);
  }
  return out;
}
