// URLs of the topology (delivery.server, the mirrors, the proxy) read as every consumer reads
// them. The schema's patterns check the characters; this checks what they mean: a port that
// exists, and a host that is a DNS name or a plain dotted-quad address. Anything else is read one
// way by Node's URL parser (the WHATWG URL standard takes "0x7f.1" for 127.0.0.1 and refuses
// "1.2.3.999" or port 99999) and another way, or not at all, by iPXE, GRUB, apt, curl and the
// Debian installer, which get the text as it is written.
import type { FieldPath } from '../diagnostics/diagnostic.js';
import { msg, type Message } from '../diagnostics/messages.js';
import type { Topology } from './types.js';

const OCTET = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;
/**
 * A host the WHATWG URL parser reads as an IPv4 address: its last label is a number, decimal,
 * 0x-hex or 0-octal ("ends in a number checker", https://url.spec.whatwg.org/#ends-in-a-number-checker).
 */
const ENDS_IN_NUMBER = /(^|\.)([0-9]+|0x[0-9a-f]*)\.?$/i;
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** What is wrong with a host[:port] (as a URL or a registry location has it), or undefined. */
export function hostPortProblem(hostPort: string): string | undefined {
  const colon = hostPort.lastIndexOf(':');
  const host = colon < 0 ? hostPort : hostPort.slice(0, colon);
  const port = colon < 0 ? undefined : hostPort.slice(colon + 1);
  if (port !== undefined && !/^[1-9][0-9]{0,4}$/.test(port)) return `its port "${port}" is not a number from 1 to 65535 without leading zeros`;
  if (port !== undefined && Number(port) > 65535) return `its port ${port} is above 65535`;
  if (ENDS_IN_NUMBER.test(host)) {
    const parts = host.split('.');
    if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) {
      return `its host "${host}" is neither a DNS name nor an IPv4 address written a.b.c.d (four numbers 0–255 without leading zeros): Node would read it as another address, or not at all, while iPXE, GRUB and apt take it as written`;
    }
    return undefined;
  }
  if (host.length > 253 || !host.split('.').every((l) => LABEL.test(l))) {
    return `its host "${host}" is not a DNS name (labels of letters, digits and "-", separated by single dots, at most 63 characters each)`;
  }
  return undefined;
}

/** What is wrong with an http(s) URL the schema's pattern accepted, or undefined. */
export function urlProblem(url: string): string | undefined {
  const m = /^https?:\/\/([^/?#]*)/.exec(url);
  if (!m) return 'it is not an http:// or https:// URL';
  const problem = hostPortProblem(m[1]!);
  if (problem) return problem;
  try {
    new URL(url);
  } catch {
    return 'it is not a URL Node can read';
  }
  return undefined;
}

/** Every URL field of the topology, with its path. */
function urlFields(t: Topology): [FieldPath, string][] {
  const m = t.mirrors;
  const out: [FieldPath, string | undefined][] = [
    [['delivery', 'server'], t.delivery.server],
    [['mirrors', 'kubernetes', 'url'], m?.kubernetes?.url],
    [['mirrors', 'crio', 'url'], m?.crio?.url],
    [['mirrors', 'os', 'url'], m?.os?.url],
    [['mirrors', 'os', 'securityUrl'], m?.os?.securityUrl],
    [['mirrors', 'files'], m?.files],
    [['proxy', 'http'], t.proxy?.http],
    [['proxy', 'https'], t.proxy?.https],
  ];
  return out.filter((f): f is [FieldPath, string] => f[1] !== undefined);
}

export function checkUrls(t: Topology, error: (path: FieldPath, m: Message) => void): void {
  for (const [path, url] of urlFields(t)) {
    const problem = urlProblem(url);
    if (problem) error(path, msg.badUrl(path.join('.'), url, problem));
  }
  // Registry mirrors are host[:port][/path] without a scheme (containers-registries.conf(5)).
  for (const [registry, location] of Object.entries(t.mirrors?.registries ?? {})) {
    const keyProblem = hostPortProblem(registry);
    const problem = keyProblem ?? hostPortProblem(location.split('/')[0]!);
    if (problem) error(['mirrors', 'registries', registry], msg.badUrl(keyProblem ? 'mirrors.registries key' : `mirrors.registries["${registry}"]`, keyProblem ? registry : location, problem));
  }
}
