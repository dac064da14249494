// Every user-facing message in one place, worded as the rule plus the fix (after Butane).
// Each function returns the parts of a Diagnostic that describe the problem; the caller adds
// severity and position.

export interface Message { code: string; message: string; hint?: string }

const list = (xs: readonly string[]): string => xs.map((x) => `"${x}"`).join(', ');
/** Kubernetes minors as runs: ["1.30", "1.31", "1.32", "1.35"] → "1.30–1.32, 1.35". */
function minorList(minors: readonly string[]): string {
  const runs: string[][] = [];
  for (const m of minors) {
    const last = runs.at(-1);
    if (last && Number(m.split('.')[1]) === Number(last.at(-1)!.split('.')[1]) + 1) last.push(m);
    else runs.push([m]);
  }
  return runs.map((r) => (r.length > 1 ? `${r[0]}–${r.at(-1)}` : r[0])).join(', ');
}
const octal = (mode: number): string => mode.toString(8).padStart(4, '0');
const STORE_DAMAGED_HINT =
  'restore the secrets folder from its backup; or, to start a NEW cluster identity (every node must be ' +
  're-provisioned), move the folder away and run again. kubebake never regenerates part of it.';
const TOKEN_HINT =
  'restore it from backup, or run with --rotate-token to make a new bootstrap token (the token is not part ' +
  'of the cluster identity; nodes not yet joined need the re-rendered user-data)';
/** Who holds an output folder's lock (output/lock.ts). */
export interface LockOwner { pid: number; host: string; started: string }
const ownerText = (o: LockOwner): string => ` (pid ${o.pid} on ${o.host}, since ${o.started})`;
const MANIFEST_HINT = "this file is kubebake's own record; do not edit it";
const OVERWRITE_HINT = 'change the topology instead and move the file away, or re-run with --force to overwrite';
const handEdited = (path: string, why: string, hint: string): Message => ({ code: 'output.hand-edited', message: `${path} ${why}; kubebake will not replace it`, hint });
/** What an API refusal means for the admin credentials, by HTTP status. */
const API_REFUSED_HINTS: Record<number, string> = {
  401: "the API does not accept the stored admin certificate: it is not signed by this cluster's CA (another cluster's store?) or has expired (render again to renew it)",
  403: 'the admin certificate is not allowed to do this: kubeadm binds its group kubeadm:cluster-admins to cluster-admin at init; check that binding',
  409: 'a token with this ID exists already; run the command again for a new one',
};
const RENDER_BUG_HINT = 'this is a kubebake bug: report it with the topology';
/** What serve says to do when the cluster was never rendered into -o. */
const renderFirst = (file: string, out: string): string => `run \`kubebake render cloud-init -f ${file} -o ${out}\` first`;
const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;

/** A catalogue message with its words passed through `f` (packer/release.ts hides a mirror's credentials so). */
export const rewordedMessage = (m: Message, f: (text: string) => string): Message => ({ ...m, message: f(m.message), ...(m.hint !== undefined && { hint: f(m.hint) }) });

export const msg = {
  // --- the output writer (output/write-plan.ts, output/ledger.ts, output/lock.ts): a file kubebake did not write is never replaced silently; the ledger (.kubebake-manifest.json) keeps its user-facing name "manifest"
  ledgerNotOurs: (path: string): Message => ({ code: 'output.manifest', message: `${path} is not a kubebake manifest; every existing file is treated as not written by kubebake`, hint: MANIFEST_HINT }),
  ledgerForeignPaths: (path: string, count: number, shown: string): Message => ({
    code: 'output.manifest',
    message: `${path} lists ${count} path(s) kubebake never writes (${shown}); they are ignored, nothing outside the output is touched`,
    hint: MANIFEST_HINT,
  }),
  folderWhereFile: (path: string): Message => handEdited(path, 'is a folder where kubebake writes a file', 'move the folder away'),
  notRegularOutput: (path: string, link: boolean): Message =>
    handEdited(path, `is ${link ? 'a symbolic link' : 'not a regular file'}; kubebake writes only regular files`, 'remove it, or re-run with --force to replace it'),
  editedOutput: (path: string, ours: boolean): Message => handEdited(path, ours ? 'was edited since kubebake wrote it' : 'was not written by kubebake', OVERWRITE_HINT),
  staleEdited: (path: string): Message => handEdited(path, 'is no longer produced but was edited by hand', 'move it away if you still need it, or re-run with --force to remove it'),
  linkWhereFolder: (path: string): Message => handEdited(path, 'is a symbolic link; kubebake never writes through links inside its output', 'replace the link with a real folder (or remove it)'),
  fileWhereFolder: (path: string): Message => handEdited(path, 'is a file where kubebake needs a folder', 'move the file away'),
  lockHeld: (lockFile: string, owner: LockOwner | undefined, waitEnv: string): Message => ({
    code: 'output.locked',
    message: owner ? `another kubebake${ownerText(owner)} is writing into this folder; its lock is ${lockFile}` : `${lockFile} exists and cannot be read`,
    hint: `wait for it to finish (or set ${waitEnv} to wait longer); if no such process exists any more, remove ${lockFile}`,
  }),
  serveLocked: (lockFile: string, owner: LockOwner | undefined): Message => ({
    code: 'output.locked',
    message: `another kubebake serve${owner ? ownerText(owner) : ''} already serves this cluster: stop it first (if no such process exists any more, remove ${lockFile})`,
  }),
  upgradeLocked: (dir: string, owner: LockOwner | undefined): Message => ({
    code: 'output.locked',
    message: `${dir} is in use by another kubebake${owner ? ownerText(owner) : ''}: let it finish first`,
  }),
  /** Not printed: the signal that stopped the write decides the exit code (render.ts). */
  writeInterrupted: (dir: string): Message => ({ code: 'output.interrupted', message: `the write into ${dir} was stopped by a signal before it changed anything`, hint: 'run the same command again' }),

  // --- the secrets store (src/store/, plan/secrets-check.ts): messages name files, never their contents
  storeDamaged: (path: string, what: string): Message => ({ code: 'secrets.damaged', message: `${path} ${what}`, hint: STORE_DAMAGED_HINT }),
  storeMissing: (path: string, replaceable: boolean): Message => ({ code: 'secrets.damaged', message: `${path} is missing`, hint: replaceable ? TOKEN_HINT : STORE_DAMAGED_HINT }),
  storeMalformed: (path: string, what: string, replaceable: boolean): Message => ({ code: 'secrets.damaged', message: `${path} is not ${what}`, hint: replaceable ? TOKEN_HINT : STORE_DAMAGED_HINT }),
  storeIo: (dir: string, why: string): Message => ({ code: 'secrets.io', message: `cannot use the secrets folder ${dir}: ${why}`, hint: 'check the folder and its permissions' }),
  storeCaExpired: (path: string, at: string): Message => ({
    code: 'secrets.expired',
    message: `${path} expired on ${at}`,
    hint: 'an expired CA cannot be fixed by re-rendering: renew it on the cluster and put the new files here, or move the folder away to create a NEW cluster identity',
  }),
  storeOtherCluster: (dir: string, identityFile: string, stored: string, theirs: string, ours: string, fields: string): Message => ({
    code: 'secrets.identity',
    message: `the secrets in ${dir} belong to cluster "${stored}" (${theirs}), not to this topology's (${ours})`,
    hint:
      'if this is another cluster, give it its own output folder (-o) or another name, so it gets its own CA and token; ' +
      `if it is the same cluster and its ${fields} really changed, write the new value into ${identityFile}`,
  }),
  storeRenewed: (path: string, expired: string, until: string): Message => ({
    code: 'secrets.admin-renewed',
    message: `${path} expired on ${expired}; issued a new one from the cluster CA for the same key, valid until ${until}`,
    hint: 'admin.conf changes with it; hand the new admin.conf to whoever uses kubectl',
  }),
  storeReadable: (path: string, mode: number, want: number): Message => ({
    code: 'secrets.permissions',
    message: `${path} is accessible to other users (mode ${octal(mode)})`,
    hint: `chmod ${want.toString(8)} ${path}`,
  }),
  storeForeignOwner: (path: string, owner: number, me: number): Message => ({
    code: 'secrets.unsafe',
    message: `${path} belongs to user ${owner}, not to you (user ${me}): its owner can read and replace the cluster's keys, so kubebake does not use it`,
    hint: `if you trust user ${owner}, take it over: chown -R ${me} ${path}; otherwise move the output folder away and render into a folder of your own (-o): the secrets made there are a NEW cluster identity`,
  }),
  storeWritable: (path: string, mode: number): Message => ({
    code: 'secrets.unsafe',
    message: `${path} can be written by ${mode & 0o020 ? 'its group' : ''}${(mode & 0o022) === 0o022 ? ' and ' : ''}${mode & 0o002 ? 'every user' : ''} (mode ${octal(mode)}): they could replace the cluster's keys, so kubebake does not use it`,
    hint: `chmod go-w ${path}`,
  }),
  storeLink: (path: string): Message => ({
    code: 'secrets.unsafe',
    message: `${path} is a symbolic link; kubebake never follows links inside the secrets store`,
    hint: `put the real file or folder there instead of the link (e.g. cp -a --remove-destination "$(readlink -f ${path})" ${path})`,
  }),
  storeNotRegular: (path: string): Message => ({
    code: 'secrets.unsafe',
    message: `${path} is not a regular file; the secrets store holds only files and folders`,
    hint: 'move it away and restore the file from the store\'s backup',
  }),

  // --- reading and parsing -------------------------------------------------------------
  notAFile: (): Message => ({ code: 'io.not-a-file', message: 'this is not a regular file', hint: 'pass the path of a topology YAML file with -f' }),
  unreadable: (why: string): Message => ({ code: 'io.unreadable', message: `cannot read the topology file (${why})`, hint: 'check the path passed with -f and its permissions' }),
  notUtf8: (offset: number, utf16: boolean): Message => ({
    code: 'io.not-utf8',
    message: utf16
      ? 'the topology is UTF-16 text; kubebake reads UTF-8'
      : `the topology is not UTF-8 text (the byte at offset ${offset} cannot be decoded)`,
    hint: utf16 ? 'save the file as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)' : 'save the file as UTF-8; check that -f names a YAML topology, not a binary or Latin-1 file',
  }),
  tooLarge: (size: number, max: number): Message => ({
    code: 'io.too-large',
    message: `the topology file is ${size} bytes; kubebake reads at most ${max}`,
    hint: 'a cluster topology is a few kilobytes; check that -f names the right file',
  }),
  yamlSyntax: (code: string, text: string): Message => ({
    code: `yaml.${code.toLowerCase().replace(/_/g, '-')}`,
    // The library's advice to its programmer ("please use YAML.parseAllDocuments()") is not the operator's.
    message: `YAML: ${text.replace(/ at line \d+, column \d+.*$/s, '').replace(/; please use YAML\.parseAllDocuments\(\)$/, '')}`,
    hint:
      code === 'DUPLICATE_KEY'
        ? 'each key may appear once per mapping; remove or merge the repeated one'
        : /closing .quote/.test(text)
          ? 'add the closing quote: a quoted value must end with the quote it starts with'
          : /end with an? [}\]]/.test(text)
            ? 'close the "{" or "[" of the entry above with "}" or "]"; a flow collection continued on the next line must be indented more than its key'
            : code === 'BAD_INDENT' || code === 'MISSING_CHAR'
              ? 'check the indentation: nested fields are indented by the same number of spaces'
              : code === 'TAB_AS_INDENT'
                ? 'YAML forbids tabs for indentation; use spaces'
                : code === 'TAG_RESOLVE_FAILED'
                  ? 'a topology uses no YAML tags: remove the tag (the "!name" before the value) and write the plain value'
                : code === 'MULTIPLE_DOCS'
                  ? 'put one cluster in one file; remove the extra "---" document'
                  : 'fix the YAML syntax at this position',
  }),
  yamlUnparsable: (why: string): Message => ({
    code: 'yaml.unparsable',
    message: `YAML: the document cannot be read (${why.slice(0, 200)})`,
    hint: 'avoid deep nesting and large numbers of aliases; a topology needs neither',
  }),
  notAMapping: (): Message => ({
    code: 'topology.not-a-mapping',
    message: 'the topology must be a YAML mapping (apiVersion: …, kind: Cluster, …)',
    hint: 'start from `kubebake schema` or profiles/default.yaml',
  }),

  // --- shape (JSON Schema) ----------------------------------------------------------------
  unknownField: (key: string, known: readonly string[], guess?: string): Message => ({
    code: 'schema.unknown-field',
    message: `unknown field "${key}"`,
    hint: guess ? `did you mean "${guess}"?` : known.length ? `allowed fields here: ${known.join(', ')}` : 'remove it',
  }),
  missingField: (key: string): Message => ({ code: 'schema.missing-field', message: `missing required field "${key}"`, hint: `add "${key}:" here (see \`kubebake schema\`)` }),
  notOneOf: (field: string, got: string, allowed: readonly string[], guess?: string): Message => ({
    code: 'schema.enum',
    message: `${field || 'value'} "${got}" is not one of ${list(allowed)}`,
    hint: guess ? `did you mean "${guess}"?` : `use one of ${list(allowed)}`,
  }),
  /** `written` is the value as it appears in the file (YAML reads 1.30 as the number 1.3). */
  wrongType: (field: string, want: string, got: unknown, written?: string): Message => ({
    code: 'schema.type',
    message: `${field || 'value'} must be ${want === 'object' ? 'a mapping' : want === 'array' ? 'a list' : want === 'integer' ? 'an integer' : `a ${want}`}, not ${
      written !== undefined && typeof got === 'number' ? `number ${written}` : describe(got)
    }`,
    hint:
      want === 'string' && typeof got === 'number'
        ? `quote it so YAML keeps it text: "${written ?? String(got)}"`
        : (want === 'integer' || want === 'number') && typeof got === 'string' && /^-?[0-9]+(\.[0-9]+)?$/.test(got)
          ? `remove the quotes: ${got}`
          : want === 'array'
            ? 'write a list: one "- item" per line'
            : want === 'object'
              ? 'write nested "key: value" lines, indented'
              : undefined,
  }),
  badFormat: (field: string, got: string, description?: string): Message => ({
    code: 'schema.format',
    message: `${field || 'value'} "${got.length > 80 ? got.slice(0, 77) + '…' : got}" is not valid`,
    hint: description ?? 'see `kubebake schema` for the expected format',
  }),
  schemaOther: (field: string, text: string): Message => ({ code: 'schema.invalid', message: `${field || 'value'} ${text}` }),

  // --- cross-field rules ---------------------------------------------------------------------
  duplicate: (what: string, value: string, firstHost: string, firstIndex: number): Message => ({
    code: `duplicate-${what.toLowerCase()}`,
    // For a name, "already used by host <the same name>" would say nothing: point at the entry.
    message:
      what === 'name'
        ? `host name "${value}" is already used by hosts[${firstIndex}]`
        : `${what} "${value}" is already used by host "${firstHost}" (hosts[${firstIndex}])`,
    hint: `every host needs its own ${what}`,
  }),
  outsideSubnet: (what: string, ip: string, subnet: string): Message => ({
    code: 'address-outside-subnet',
    message: `${what} ${ip} is outside the node subnet ${subnet}`,
    hint: `use an address in ${subnet}, or widen network.nodeSubnet`,
  }),
  reservedAddress: (ip: string, which: string, what = 'a host'): Message => ({
    code: 'address-reserved',
    message: `${ip} is the ${which} address of the node subnet and cannot be ${what}`,
    hint: 'pick a usable address inside the subnet',
  }),
  hostBits: (field: string, cidr: string, network: string): Message => ({
    code: 'cidr-host-bits',
    message: `${field} ${cidr} has host bits set: it is not a network address`,
    hint: `did you mean "${network}"?`,
  }),
  addressClash: (ip: string, other: string): Message => ({
    code: 'address-clash',
    message: `${ip} is also ${other}`,
    hint: 'give every host, the gateway and the VIP distinct addresses',
  }),
  subnetsOverlap: (a: string, aCidr: string, b: string, bCidr: string): Message => ({
    code: 'subnet-overlap',
    message: `${a} ${aCidr} overlaps ${b} ${bCidr}`,
    hint: 'node, pod and service networks must be disjoint, or packets are routed to the wrong place',
  }),
  podSubnetTooSmall: (cidr: string, nodes: number): Message => ({
    code: 'pod-subnet-too-small',
    message: `pod subnet ${cidr} has room for fewer than ${nodes} nodes (kubeadm gives each node a /24)`,
    hint: 'use a /16, e.g. 10.244.0.0/16',
  }),
  serviceSubnetTooLarge: (cidr: string): Message => ({
    code: 'service-subnet-too-large',
    message: `service subnet ${cidr} is larger than the /12 kube-apiserver accepts`,
    hint: 'use 10.96.0.0/12 or smaller',
  }),
  apiEndpointNone: (): Message => ({
    code: 'api-endpoint-missing',
    message: 'apiEndpoint needs either loadBalancer (a load-balancer host name) or vip (an address shared by the load balancers)',
    hint: 'add "loadBalancer: <name of your load-balancer host>"',
  }),
  apiEndpointBoth: (): Message => ({
    code: 'api-endpoint-ambiguous',
    message: 'apiEndpoint sets both loadBalancer and vip; the API must be reached exactly one way',
    hint: 'keep vip to share the endpoint between load balancers, or loadBalancer for a single one',
  }),
  lbNotFound: (name: string, lbs: readonly string[], guess?: string): Message => ({
    code: 'api-endpoint-unknown-host',
    message: `apiEndpoint.loadBalancer "${name}" is not a load-balancer host`,
    hint: guess ? `did you mean "${guess}"?` : lbs.length ? `load-balancer hosts: ${lbs.join(', ')}` : 'add a host with role: load-balancer',
  }),
  noLoadBalancer: (): Message => ({
    code: 'no-load-balancer',
    message: 'the API endpoint needs at least one host with role: load-balancer',
    hint: 'add a host with role: load-balancer (HAProxy runs there)',
  }),
  unusedLoadBalancer: (name: string, used: string): Message => ({
    code: 'unused-load-balancer',
    message: `load balancer "${name}" is not used: the API endpoint is "${used}" alone`,
    hint: 'to share the endpoint between load balancers, replace apiEndpoint.loadBalancer with apiEndpoint.vip',
  }),
  noControlPlane: (): Message => ({ code: 'no-control-plane', message: 'the cluster has no host with role: control-plane', hint: 'add at least one (three for fault tolerance)' }),
  etcdQuorum: (n: number): Message => ({
    code: 'etcd-quorum',
    // Even counts are the mistake: n and n-1 members tolerate the same number of failures.
    message:
      n === 2
        ? '2 control planes are not fault tolerant: etcd needs floor(n/2)+1 = 2 members up, so losing either one stops the cluster'
        : `${n} control planes tolerate no more failures than ${n - 1}: etcd needs floor(n/2)+1 = ${Math.floor(n / 2) + 1} members up, so losing ${n - Math.floor(n / 2)} stops the cluster`,
    hint: `use an odd number of control planes (${n === 2 ? 3 : `${n - 1} or ${n + 1}`}), or accept the risk with "overrides: [{check: etcd-quorum, reason: …}]"`,
  }),
  overridden: (check: string, reason: string): Message => ({ code: `${check}.overridden`, message: `check ${check} is overridden: ${reason}` }),
  unusedOverride: (check: string): Message => ({
    code: 'unused-override',
    message: `override of ${check} is not needed: the topology passes that check`,
    hint: 'remove the override so a future mistake is not hidden',
  }),
  singleControlPlane: (): Message => ({
    code: 'single-control-plane',
    message: 'one control plane is not fault tolerant: losing it stops the cluster',
    hint: 'use three control planes for high availability',
  }),
  singleLoadBalancer: (name: string): Message => ({
    code: 'single-load-balancer',
    message: `the API endpoint is one load balancer ("${name}"): a single point of failure`,
    hint: 'add a second load-balancer host and share apiEndpoint.vip between them (keepalived)',
  }),
  vipWithoutPair: (): Message => ({
    code: 'vip-without-pair',
    message: 'apiEndpoint.vip is kept by only one load balancer, so it fails over to nothing',
    hint: 'add a second host with role: load-balancer',
  }),
  nodePortRange: (port: number): Message => ({
    code: 'nodeport-range',
    message: `nodePort ${port} is outside the NodePort range 30000-32767`,
    hint: 'Kubernetes only opens NodePorts in 30000-32767 (--service-node-port-range)',
  }),
  ingressNoWorkers: (name: string): Message => ({
    code: 'ingress-no-workers',
    message: `ingress "${name}" targets workers, but the cluster has no worker`,
    hint: 'add a worker, or set "targets: control-planes"',
  }),
  ingressSelectorEmpty: (name: string, targets: string, selector: Record<string, string>): Message => ({
    code: 'ingress-selector-empty',
    message: `ingress "${name}" has a nodeSelector that none of its ${targets} match (${Object.entries(selector).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})`,
    hint: 'give the hosts meant to take ingress traffic these labels (labels: under each host), or change the nodeSelector',
  }),
  ingressManyBackends: (name: string, targets: string, backends: number): Message => ({
    code: 'ingress-many-backends',
    message: `ingress "${name}" sends to all ${backends} ${targets}: every load balancer health-checks each of them every 5 s, and its user-data lists them all`,
    hint: 'any node forwards a NodePort, so a few are enough: label a few hosts (e.g. node-role.kubernetes.io/ingress: "") and add nodeSelector: { node-role.kubernetes.io/ingress: "" } to the frontend',
  }),
  portClash: (port: number, other: string): Message => ({
    code: 'port-clash',
    message: `port ${port} is already used on the load balancer by ${other}`,
    hint: 'every frontend on the load balancer needs its own port',
  }),
  ingressNameReserved: (name: string): Message => ({
    code: 'ingress-name-reserved',
    message: `ingress name "${name}" is the name of the API frontend kubebake generates in haproxy.cfg; HAProxy refuses two frontends with one name`,
    hint: 'choose another name, e.g. "https" or "web"',
  }),
  systemAccount: (user: string): Message => ({
    code: 'admin-user-reserved',
    message: `adminUser "${user}" is a system account or group that every host already has`,
    hint: 'choose a personal login name, e.g. kubeadmin',
  }),
  tokenTtl: (ttl: string): Message => ({
    code: 'token-ttl',
    message: ttl === '' ? 'bootstrap.tokenTTL is empty; kubeadm rejects an empty duration' : `bootstrap.tokenTTL "${ttl}" is longer than kubeadm accepts (at most 2562047h, Go's largest duration)`,
    hint: 'use a duration like 24h or 2h30m, or 0 for a token that never expires',
  }),
  reservedHostName: (name: string): Message => ({
    code: 'host-name-reserved',
    message: `host name "${name}" is reserved: /etc/hosts maps it to the loopback address on every host`,
    hint: 'choose another name, e.g. worker1',
  }),
  badMac: (mac: string, why: string): Message => ({
    code: 'mac-not-unicast',
    message: `MAC ${mac} is ${why}; network-config would match no NIC`,
    hint: 'copy the NIC\'s own address (ip link, or the VM\'s settings), e.g. 52:54:00:12:34:56',
  }),
  badInstallDisk: (disk: string, why: string): Message => ({
    code: 'install-disk-not-a-disk',
    message: `installDisk ${disk} is ${why}; the installer erases and partitions a whole disk`,
    hint: 'name the disk: /dev/sda, /dev/nvme0n1, or a link such as /dev/disk/by-id/wwn-0x5000c500a1b2c3d4 (ls -l /dev/disk/by-id/ on the machine)',
  }),
  installDiskLinkOnUbuntu: (disk: string): Message => ({
    code: 'install-disk-link-ubuntu',
    message: `installDisk ${disk}: Ubuntu's installer is told the disk by autoinstall's storage match "path", which compares the disk's kernel name (/dev/sda), never a /dev/disk link`,
    hint: 'give the kernel name the link points to (readlink -f on the machine), e.g. /dev/sda or /dev/nvme0n1',
  }),
  loopbackInterface: (): Message => ({
    code: 'interface-loopback',
    message: 'interface "lo" is the loopback interface; the node address and the VIP need a real NIC',
    hint: 'name the NIC that carries the node subnet, e.g. ens18 or eth0',
  }),
  duplicateTaint: (key: string, effect: string, first: number): Message => ({
    code: 'duplicate-taint',
    message: `taint ${key}:${effect} repeats taints[${first}]; Kubernetes requires taints to be unique by key and effect and would refuse the node`,
    hint: 'keep one of them (a different effect for the same key is fine)',
  }),
  serviceSubnetTooSmall: (cidr: string): Message => ({
    code: 'service-subnet-too-small',
    message: `serviceSubnet ${cidr} has no 10th address, which kubeadm gives to cluster DNS`,
    hint: 'use a /28 or larger; the default is 10.96.0.0/12',
  }),
  badDnsServer: (ip: string, why: string): Message => ({
    code: 'dns-server',
    message: `DNS server ${ip} is ${why}`,
    hint: 'use your network\'s resolvers (often the gateway), e.g. 10.20.0.1',
  }),
  duplicateName: (what: string, name: string): Message => ({ code: 'duplicate-name', message: `${what} name "${name}" is used twice`, hint: 'names must be unique' }),
  crioMinor: (crio: string, k8s: string): Message => ({
    code: 'crio-minor-mismatch',
    message: `CRI-O ${crio} does not match Kubernetes ${k8s}: CRI-O's minor version must equal Kubernetes' minor`,
    hint: `remove kubernetes.crio to get the matching ${k8s.split('.').slice(0, 2).join('.')} release`,
  }),
  unsupportedKubernetes: (v: string, supported: readonly string[]): Message => ({
    code: 'unsupported-kubernetes',
    message: `Kubernetes ${v} is not supported by this kubebake`,
    hint: `supported minors: ${supported.join(', ')}`,
  }),
  kubernetesEol: (minor: string): Message => ({
    code: 'kubernetes-eol',
    message: `Kubernetes ${minor} is past its upstream end of life and gets no security fixes`,
    hint: 'move to one of the three newest minors',
  }),
  osEol: (os: string, eol: { ended: string; successor: string; note?: string }): Message => ({
    code: 'os-eol',
    message: `${os} is past its standard support (it ended ${eol.ended}${eol.note ? `; ${eol.note}` : ''})`,
    hint: `use ${eol.successor} for new clusters`,
  }),
  cgroupV1Kubelet: (os: string, minor: string): Message => ({
    code: 'os-cgroup-v1',
    message: `${os} boots with cgroup v1, and the kubelet of Kubernetes ${minor} refuses to start on cgroup v1 (failCgroupV1 defaults to true from 1.35)`,
    hint: 'use ubuntu-22.04 or later (cgroup v2), or Kubernetes 1.34 on this OS',
  }),
  cniKernel: (cni: string, version: string, minKernel: string, os: string, kernel: string): Message => ({
    code: 'cni-kernel',
    message: `${cni} ${version} documents Linux ${minKernel} or later; ${os} ships ${kernel}`,
    hint: 'use flannel on this OS, or a newer OS (ubuntu-22.04 ships 5.15)',
  }),
  cniUntested: (cni: string, version: string, minor: string, range: [string, string]): Message => ({
    code: 'cni-untested-kubernetes',
    message: `${cni} ${version} is tested against Kubernetes ${range[0]}–${range[1]}, not ${minor}`,
    hint: `set cni.version to a ${cni} release tested against ${minor}, or a Kubernetes minor in that range`,
  }),
  cniNoTestedRelease: (cni: string, minor: string, testedMinors: readonly string[]): Message => ({
    code: 'cni-untested-kubernetes-refused',
    message: `no ${cni} release kubebake knows is tested against Kubernetes ${minor}, and kubebake installs ${cni} only where it is`,
    hint: `${cni} releases tested against Kubernetes ${minorList(testedMinors)} exist: use one of those minors, or the calico or flannel CNI`,
  }),
  cniVersionUntested: (cni: string, version: string, minor: string, range: [string, string] | undefined, pinned: string | undefined): Message => ({
    code: 'cni-version-untested',
    message: range
      ? `${cni} ${version} is tested against Kubernetes ${range[0]}–${range[1]}, not ${minor}`
      : `${cni} ${version} is not a release whose tested Kubernetes minors kubebake knows`,
    hint: pinned ? `remove cni.version: kubebake installs ${cni} ${pinned}, tested against ${minor}` : `remove cni.version, and use a Kubernetes minor a ${cni} release is tested against`,
  }),
  crioEol: (minor: string): Message => ({
    code: 'crio-eol',
    message: `CRI-O ${minor} is past its end of life (the CRI-O project maintains 1.34–1.37)`,
    hint: 'move to a maintained Kubernetes minor: CRI-O follows it',
  }),
  weave: (): Message => ({
    code: 'cni-weave-unmaintained',
    message: 'Weave Net is unmaintained (Weaveworks shut down in 2024, its repositories are archived)',
    hint: 'use calico (default), flannel or cilium',
  }),
  notANode: (field: string): Message => ({
    code: 'lb-not-a-node',
    message: `${field} on a load-balancer host would be ignored: load balancers are not Kubernetes nodes`,
    hint: `remove ${field} from this host`,
  }),
  assignedMac: (name: string, mac: string): Message => ({
    code: 'host-mac-assigned',
    message: `host "${name}" names neither mac nor interface: its network-config matches the NIC with MAC ${mac}, which kubebake assigned (a name pattern would give every NIC of the host the same address)`,
    hint: `give the VM's NIC that MAC (the libvirt and Proxmox recipes do), or add the real one: mac: "<its MAC>", or interface: <its name>, e.g. ens18`,
  }),
  vipNeedsInterface: (name: string): Message => ({
    code: 'vip-needs-interface',
    message: `load balancer "${name}" shares the API VIP but names no interface for keepalived to put it on`,
    hint: 'add "interface: <NIC name>", e.g. interface: ens18',
  }),
  clusterTooLarge: (hosts: number, max: number): Message => ({
    code: 'cluster-too-large',
    message: `${hosts} hosts: Kubernetes supports at most ${max} nodes in one cluster (kubernetes.io, "Considerations for large clusters")`,
    hint: 'split the hosts into several clusters',
  }),
  noSshKeys: (): Message => ({
    code: 'no-ssh-keys',
    message: 'access.sshAuthorizedKeys is empty: password SSH is off, so nobody can log in to the hosts',
    hint: 'add your public key, e.g. the line in ~/.ssh/id_ed25519.pub',
  }),
  sshKeyUnreadable: (problem: string, example: boolean): Message => ({
    code: 'ssh-key-unreadable',
    message: example
      ? `this is kubebake's example key from the profiles and README, not a real key: ${problem}; sshd skips the line, so nobody logs in with it`
      : `this is not an SSH public key sshd can read: ${problem}; sshd skips the line, so nobody logs in with it`,
    hint: 'put your public key here, the whole line of e.g. ~/.ssh/id_ed25519.pub (ssh-keygen -t ed25519 makes one): every day-2 command starts with ssh',
  }),
  badUrl: (field: string, url: string, problem: string): Message => ({
    code: 'url.invalid',
    message: `${field} "${url.length > 80 ? url.slice(0, 77) + '…' : url}" is not usable: ${problem}`,
    hint: 'write the URL as every tool reads it alike: http(s)://, a DNS name or a plain IPv4 address like 10.2.47.5, and a port from 1 to 65535 if any',
  }),
  pxeNeedsServer: (): Message => ({
    code: 'pxe-needs-server',
    message: '--delivery pxe: the PXE tree needs delivery.server, the URL hosts fetch their seeds and boot files from',
    hint: 'add "delivery: { server: http://<address of the machine running kubebake serve>:8080 }" to the topology, or leave pxe out of --delivery',
  }),

  // --- the render-time check (src/verify/): what kubebake produced, so every hint says "bug"
  renderNotCloudConfig: (host: string, why: string | undefined): Message => ({
    code: 'render.cloud-config-yaml',
    message: `${host}'s user-data is not a #cloud-config YAML document${why ? `: ${why}` : ''}`,
    hint: RENDER_BUG_HINT,
  }),
  renderSchema: (host: string, at: string, what: string): Message => ({ code: 'render.cloud-config-schema', message: `${host}'s user-data at ${at}: ${what} (cloud-init's schema)`, hint: RENDER_BUG_HINT }),
  renderKubeadm: (host: string, what: string): Message => ({ code: 'render.kubeadm-fields', message: `${host}'s kubeadm configuration: ${what} (kubeadm's field tables)`, hint: RENDER_BUG_HINT }),
  renderKeyLeak: (host: string, role: string): Message => ({ code: 'render.key-leak', message: `${host} (${role}) would receive a private key`, hint: 'this is a kubebake bug: nothing was written' }),

  // --- mirrors -------------------------------------------------------------------------------
  keyFileUnreadable: (path: string, why: string): Message => ({
    code: 'mirrors.key-file',
    message: `cannot read the signing key file ${path} (${why})`,
    hint: 'keyFile is relative to the topology file; or give the key inline with key: |',
  }),
  mirrorsPartial: (upstream: string[]): Message => ({
    code: 'mirrors.partial',
    message: `mirrors is set, but these still come from the internet: ${upstream.join('; ')}`,
    hint: 'add the missing mirrors (kubebake manifest lists what each must hold), or accept that the cluster reaches them (through proxy:)',
  }),
  debianNoSecurityMirror: (codename: string): Message => ({
    code: 'mirrors.no-security',
    message: `mirrors.os replaces the image's apt sources, and Debian's security updates (${codename}-security) live in a separate archive: these hosts would get none`,
    hint: 'add mirrors.os.securityUrl: a mirror of https://security.debian.org/debian-security/ (path ending in "/")',
  }),
  keyAndKeyFile: (): Message => ({
    code: 'mirrors.key-file',
    message: 'key and keyFile are both given: which key signs this mirror?',
    hint: 'keep one of them',
  }),
  keyFileNotArmored: (path: string): Message => ({
    code: 'mirrors.key-file',
    message: `${path} is not an ASCII-armored OpenPGP public key`,
    hint: 'give the repository\'s Release.key as published (-----BEGIN PGP PUBLIC KEY BLOCK-----)',
  }),
  keyNotPublic: (where: string, problem: string): Message => ({
    code: 'mirrors.key',
    message: `${where} is no OpenPGP public key: it is ${problem}`,
    hint: 'give the key that signs the repository, as `gpg --armor --export KEY` prints it or as the repository publishes it (Release.key)',
  }),

  // --- command-line options: printed by src/cli/say.ts as "kubebake: <message>" (and "  hint: <hint>"), exit 2
  nodeTooOld: (min: string, version: string): Message => ({ code: 'usage.node-version', message: `needs Node.js ${min} or newer; this is ${version} (install a current Node.js LTS)` }),
  unknownDeliveryForm: (unknown: readonly string[], known: readonly string[]): Message => ({
    code: 'usage.delivery',
    message: `--delivery: unknown delivery form ${unknown.join(', ') || '(empty)'}: use all, none, or a list of ${known.join(', ')}`,
  }),
  badListen: (text: string): Message => ({ code: 'usage.listen', message: `--listen ${JSON.stringify(text)}: expected ADDR:PORT, e.g. 0.0.0.0:8080 or [::]:8080` }),
  badApiServer: (text: string | undefined, port: number): Message => ({
    code: 'usage.server',
    message: `--server: "${text}" is not an https://host:port URL (e.g. https://10.0.0.11:${port})`,
  }),
  badApiTimeout: (text: string | undefined): Message => ({ code: 'usage.timeout', message: `--timeout: "${text}" is not a number of seconds between 1 and 600` }),
  /** `typical`: the middle example, near the option's default (status --timeout 30m, upgrade's 10m). */
  badDuration: (flag: string, text: string | undefined, typical: string): Message => ({
    code: 'usage.duration',
    message: `${flag} ${JSON.stringify(text)}: expected a duration such as 90s, ${typical} or 1h30m`,
  }),
  badDrainTimeout: (text: string | undefined): Message => ({ code: 'usage.drain-timeout', message: `--drain-timeout: "${text}" is not a duration such as 90s, 10m or 1h` }),
  badWarnDays: (text: string | undefined): Message => ({ code: 'usage.warn-days', message: `--warn-days: "${text}" is not a whole number of days between 0 and 3650` }),
  badParallel: (text: string | undefined): Message => ({ code: 'usage.parallel', message: `--parallel ${text}: give a whole number of images, 1 or more` }),
  unknownImages: (unknown: readonly string[], cluster: string, images: readonly string[]): Message => ({
    code: 'usage.only',
    message: `--only ${unknown.join(', ')}: no such image in cluster "${cluster}"`,
    hint: `its images are ${images.join(', ')}`,
  }),
  unknownReinstallHosts: (unknown: readonly string[], cluster: string): Message => ({
    code: 'usage.reinstall',
    message: `--reinstall ${unknown.map((h) => JSON.stringify(h)).join(', ')}: no such host in cluster ${cluster} (give host names from hosts[], comma-separated)`,
  }),
  badMirrorUrl: (): Message => ({ code: 'usage.from', message: '--from: an http(s) URL ending in "/" (a files mirror laid out as mirror/files/)' }),
  sshConfigMissing: (path: string): Message => ({ code: 'usage.ssh-config', message: `--ssh-config: ${path} does not exist` }),
  statusNoServer: (): Message => ({ code: 'usage.server', message: 'the topology has no delivery.server: give the server with --server http://ADDR:PORT' }),

  // --- command outcomes and progress: printed by src/cli/say.ts as "kubebake: <message>" (and "  hint: <hint>").
  // Text from a remote server comes escaped (escapeControl) from the caller.
  signalStopping: (sig: string): Message => ({ code: 'signal.stopping', message: `${sig} received; stopping safely (send it again to stop at once)` }),
  waitingForLock: (dir: string, owner: LockOwner | undefined): Message => ({
    code: 'output.waiting',
    message: `waiting for another render into ${dir}${owner ? ` (pid ${owner.pid})` : ''} to finish…`,
  }),
  serveNoSecrets: (dir: string, file: string, out: string): Message => ({ code: 'serve.no-secrets', message: `no secrets in ${dir}: ${renderFirst(file, out)}` }),
  serveNoReportSecret: (dir: string, secretFile: string, file: string, out: string): Message => ({
    code: 'serve.no-report-secret',
    message: `${dir} has no ${secretFile} yet (the hosts' report keys come from it): ${renderFirst(file, out)}`,
  }),
  serveCannotLock: (dir: string, why: string): Message => ({ code: 'serve.cannot-lock', message: `cannot lock ${dir}: ${why}` }),
  serveCannotListen: (address: string, why: string): Message => ({ code: 'serve.cannot-listen', message: `cannot listen on ${address}: ${why}` }),
  bundleFetchFailed: (url: string, why: string): Message => ({ code: 'bundle.fetch', message: `cannot fetch ${url}: ${why}` }),
  statusUnreachable: (server: string, why: string): Message => ({
    code: 'status.unreachable',
    message: `cannot get the status from ${server}: ${why} (is \`kubebake serve\` running there?)`,
  }),
  statusOtherCluster: (server: string, served: string, cluster: string): Message => ({
    code: 'status.other-cluster',
    message: `${server} serves cluster ${JSON.stringify(served)}, not ${cluster}`,
  }),
  statusNotReady: (cluster: string, timeout: string): Message => ({ code: 'status.not-ready', message: `cluster ${cluster} is not ready after ${timeout} (--timeout)` }),
  packerMissingSettings: (builder: string, variables: readonly string[], readme: string): Message => ({
    code: 'packer.missing-settings',
    message: `the ${builder} builder needs settings that are never written to a file:\n${variables.map((v) => `  PKR_VAR_${v} is not set`).join('\n')}`,
    hint: `export them (see ${readme}), then run again`,
  }),

  // --- a command for a rendered cluster without the cluster's secrets: printed as a diagnostic (print.ts)
  noStore: (dir: string): Message => ({
    code: 'secrets.missing',
    message: `no secrets store in ${dir}: this command is for a cluster kubebake rendered before`,
    hint: 'render the cluster first (kubebake render cloud-init -f <topology> -o <out>), or pass the -o folder it was rendered into',
  }),

  // --- the running cluster's API (api/kube-api.ts) --------------------------------------------
  apiNotThisCluster: (origin: string, code: string, why: string): Message => ({
    code: 'api.unreachable',
    message: `the server at ${origin} is not this cluster's API: its certificate does not check against the cluster CA in the secrets store (${code}: ${why})`,
    hint: 'point --server at a control plane or load balancer of this cluster (its certificate must be signed by secrets/pki/ca.crt and name the address)',
  }),
  apiUnreachable: (origin: string, code: string, why: string, apiPort: number): Message => ({
    code: 'api.unreachable',
    message: `cannot reach the Kubernetes API at ${origin} (${code || 'error'}: ${why})`,
    hint: `is the cluster up and the endpoint reachable from here? Use --server https://<control-plane-ip>:${apiPort} to go to a control plane directly`,
  }),
  apiRefused: (origin: string, what: string, status: number, detail: string): Message => ({
    code: 'api.refused',
    message: `the Kubernetes API at ${origin} refused to ${what}: HTTP ${status}${detail ? `: ${detail}` : ''}`,
    hint: API_REFUSED_HINTS[status] ?? 'see the API server log on the control plane for the cause',
  }),

  // --- obtaining the pinned Packer (packer/release.ts). The code says the kind of failure:
  // packer.not-found (a release file answered 404), packer.checksum-mismatch (the zip's sha256 is
  // not the signed one), packer.bad-signature, packer.network (unreachable, or an unexpected
  // status), packer.unsupported-platform, packer.bad-release (signed files that are malformed),
  // packer.filesystem (the cache cannot be written), packer.invalid-option, packer.aborted.
  packerBadVersion: (version: string, pinned: string): Message => ({ code: 'packer.invalid-option', message: `"${version}" is not a Packer version`, hint: `give a release version such as ${pinned}` }),
  packerNoBuild: (version: string, target: string, sumsName: string, zipName: string): Message => ({
    code: 'packer.unsupported-platform',
    message: `Packer ${version} has no build for ${target}: ${sumsName} does not list ${zipName}`,
    hint: `install Packer ${version} for this machine by other means and put it on PATH, or run kubebake on a supported platform`,
  }),
  packerNoPlatform: (target: string): Message => ({
    code: 'packer.unsupported-platform',
    message: `HashiCorp publishes no Packer build for ${target}`,
    hint: 'install Packer by other means (e.g. built from source) and put it on PATH, with exactly the version kubebake pins',
  }),
  /** `mirror`: the releases URL when it is not HashiCorp's own. */
  packerChecksumMismatch: (zip: string, actual: string, sumsName: string, expected: string, mirror: string | undefined, officialUrl: string): Message => ({
    code: 'packer.checksum-mismatch',
    message: `${zip} has sha256 ${actual}, but the signed ${sumsName} says ${expected}`,
    hint: mirror
      ? `the mirror at ${mirror} serves a corrupted or altered file; re-sync it from ${officialUrl} and try again`
      : 'the download was corrupted or altered on the way; try again, and if it persists check any proxy between here and the server',
  }),
  packerWrongVersion: (binary: string, found: string | undefined, version: string): Message => ({
    code: 'packer.bad-release',
    message: `${binary} reports ${found ? `version ${found}` : 'no version'}, not ${version}`,
    hint: 'the release files do not match their names; report this to whoever maintains the releases server or mirror',
  }),
  packerSumsMalformed: (where: string, why: string): Message => ({
    code: 'packer.bad-release',
    message: `${where}: ${why}`,
    hint: 'the checksum file is malformed; report this to whoever maintains the releases server or mirror',
  }),
  packerKeyUnreadable: (why: string): Message => ({
    code: 'packer.invalid-option',
    message: `a trusted release key cannot be read: ${why}`,
    hint: 'pass armored OpenPGP public keys ("-----BEGIN PGP PUBLIC KEY BLOCK-----")',
  }),
  packerBadSignature: (what: string, why: string): Message => ({
    code: 'packer.bad-signature',
    message: `the signature of ${what} does not verify against the trusted release key (${why})`,
    hint: 'do not use these files: they are not what HashiCorp signed. A mirror must serve the original SHA256SUMS and SHA256SUMS.sig unchanged; fix or re-sync the mirror and try again',
  }),
  packerUrlNotUrl: (value: string, env: string, officialUrl: string): Message => ({
    code: 'packer.invalid-option',
    message: `the releases URL "${value}" is not a URL`,
    hint: `set ${env} to a mirror of ${officialUrl}, e.g. https://mirror.example.org/hashicorp`,
  }),
  packerUrlNotHttp: (value: string, env: string, officialUrl: string): Message => ({
    code: 'packer.invalid-option',
    message: `the releases URL "${value}" is not http(s)`,
    hint: `set ${env} to an http(s) mirror of ${officialUrl} (plain http is acceptable: the files are verified by signature)`,
  }),
  packerCacheUnwritable: (where: string, why: string): Message => ({
    code: 'packer.filesystem',
    message: `cannot write the Packer cache at ${where}: ${why}`,
    hint: 'check its permissions and free space, or choose another cache directory (XDG_CACHE_HOME)',
  }),
  packerHttpStatus: (url: string, status: number, statusText = ''): Message => ({
    code: 'packer.network',
    message: `${url} answered HTTP ${status} ${statusText}`.trim(),
    hint: 'try again later; if this is a mirror or proxy, check its logs',
  }),
  /** `mirror`: the releases URL when it is not HashiCorp's own. */
  packerNotFound: (url: string, version: string, mirror: string | undefined, officialUrl: string): Message => ({
    code: 'packer.not-found',
    message: `${url} was not found (HTTP 404)`,
    hint: mirror
      ? `check that Packer ${version} exists, and that the mirror ${mirror} carries packer/${version}/ with its SHA256SUMS, SHA256SUMS.sig and zip files`
      : `check that Packer ${version} exists on ${officialUrl}/packer/`,
  }),
  packerInterrupted: (version: string): Message => ({ code: 'packer.aborted', message: `the download of Packer ${version} was interrupted`, hint: 'run the command again to resume from scratch' }),
  packerUnreachable: (url: string, cause: string, version: string, env: string, officialUrl: string): Message => ({
    code: 'packer.network',
    message: `cannot download ${url} (${cause})`,
    hint: `without internet access, set ${env} to a mirror of ${officialUrl} (same packer/<version>/ layout), or put Packer ${version} on PATH`,
  }),
  packerTooLarge: (url: string, limit: number): Message => ({ code: 'packer.bad-release', message: `${url} is larger than ${limit} bytes`, hint: 'this is not a Packer release file; check the releases URL' }),
  packerZipUnusable: (why: string): Message => ({
    code: 'packer.bad-release',
    message: `the Packer zip cannot be unpacked: ${why}`,
    hint: 'the signed checksum matched, so the release itself is unusable; report it, and install Packer on PATH meanwhile',
  }),
  packerNotText: (what: string): Message => ({ code: 'packer.bad-release', message: `${what} is not UTF-8 text`, hint: 'check the releases URL: it does not serve a Packer release' }),

  // --- day 2: nodes in and out ---------------------------------------------------------------
  nodeStillInTopology: (name: string): Message => ({
    code: 'node.still-in-topology',
    message: `${name} is still a host of the topology: the topology is what the load balancers, every render and every later command follow, so a node leaves it first`,
    hint: `delete this host from hosts, then run the command again; to put a fresh machine in its place under the same name, use kubebake node replace ${name}`,
  }),
  nodeNotInTopology: (name: string, hosts: string[]): Message => ({
    code: 'node.not-in-topology',
    message: `${name} is not a host of the topology (hosts: ${hosts.join(', ')})`,
    hint: 'node replace keeps a host of the topology under its name; to take a node out for good, delete it from hosts and run kubebake node remove',
  }),
  nodeNotInCluster: (name: string, nodes: string[]): Message => ({
    code: 'node.not-in-cluster',
    message: `the cluster has no Node ${name} (its Nodes: ${nodes.join(', ') || 'none'}), and no earlier render has a host ${name}`,
    hint: 'check the name (kubectl get nodes); nothing was changed',
  }),
  nodeNotALoadBalancer: (name: string): Message => ({
    code: 'node.load-balancer',
    message: `${name} is a load balancer: it is no Node of the cluster and holds no etcd member`,
    hint: 'to take a load balancer out, delete it from the topology (and its keepalived peer settings), render, and switch the machine off; to replace it, boot a new machine from its re-rendered seed',
  }),
  roleMismatch: (name: string, cluster: string, topology: string): Message => ({
    code: 'node.role-mismatch',
    message: `${name} is a ${cluster} in the running cluster but a ${topology} in the topology`,
    hint: 'a replacement keeps the role; to change a node\'s role, remove it (delete it from hosts, kubebake node remove) and add a new host',
  }),
  lastControlPlane: (name: string): Message => ({
    code: 'etcd.last-member',
    message: `${name} is the last control plane of the running cluster: its etcd member holds the whole cluster state, and without it there is no cluster to come back to`,
    hint: 'add a control plane first (add it to the topology, kubebake token create, kubebake lb update, boot it), wait until it is Ready, then take this one out',
  }),
  quorumAlreadyLost: (members: number, down: string[]): Message => ({
    code: 'etcd.quorum-lost',
    message: `etcd has lost its quorum already: of ${members} control planes only ${members - down.length} ${members - down.length === 1 ? 'is' : 'are'} healthy (not Ready, or etcd not ready: ${down.join(', ')}), and a member removal needs ${Math.floor(members / 2) + 1}`,
    hint: 'bring the control planes that are down back first; if they are gone for good, restore etcd from a snapshot (kubernetes.io, "Operating etcd clusters for Kubernetes", Restoring an etcd cluster)',
  }),
  quorumWouldBeLost: (name: string, left: number, quorum: number, down: string[]): Message => ({
    code: 'etcd.quorum',
    message: `taking ${name} out would stop the cluster: etcd would keep ${left} member${left === 1 ? '' : 's'} and needs ${quorum} of ${left === 1 ? 'it' : 'them'} healthy, but ${down.join(', ')} ${down.length === 1 ? 'is' : 'are'} not (Node not Ready, or its etcd pod not ready)`,
    hint: `bring ${down.join(', ')} back to Ready first; or, if ${down.length === 1 ? 'it is' : 'they are'} gone for good, take ${down.length === 1 ? 'it' : 'them'} out first (kubebake node remove, or node replace), then ${name}`,
  }),
  replaceInitNode: (name: string): Message => ({
    code: 'node.replace-init',
    message: `${name} is the topology's first control plane: its seed runs kubeadm init, so a fresh ${name} would start a second, empty cluster instead of joining this one`,
    hint: `move another control plane above ${name} in hosts (its first boot is done, so it never runs kubeadm init again; a re-render changes its seed, not the running machine), then run node replace ${name}: it then joins like any other`,
  }),
  drainUnmanaged: (node: string, pods: string[]): Message => ({
    code: 'drain.unmanaged',
    message: `${node} runs pods that no controller would recreate elsewhere: ${pods.join(', ')} (kubectl drain refuses them too)`,
    hint: 'move or delete them yourself, or pass --evict-unmanaged to evict them (they are then gone for good); the node is cordoned (kubectl uncordon to undo)',
  }),
  drainTimedOut: (node: string, blocked: string[]): Message => ({
    code: 'drain.timed-out',
    message: `${node} was not drained within --drain-timeout; still there: ${blocked.join('; ')}`,
    hint: 'a PodDisruptionBudget allows no disruption now: scale the workload up or wait until its other pods are ready, then run the command again (or raise --drain-timeout); the node stays cordoned (kubectl uncordon to undo)',
  }),
  sshFailed: (host: string, address: string, user: string, why: string, leaving: boolean): Message => ({
    code: 'ssh.failed',
    message: `cannot run commands on ${host} (${address}) as ${user} over SSH with sudo: ${why}`,
    hint: leaving
      ? `kubebake uses your OpenSSH client and its configuration (keys, ssh-agent, known_hosts; --ssh-config FILE for another one): check with ssh ${user}@${address}; if ${host} is dead for good, switch it off for certain and pass --unreachable (its etcd member is then removed from another control plane)`
      : `kubebake uses your OpenSSH client and its configuration (keys, ssh-agent, known_hosts; --ssh-config FILE for another one): check with ssh ${user}@${address} sudo -n true; nothing was changed`,
  }),
  remoteFailed: (host: string, what: string, status: number | null, output: string): Message => ({
    code: 'remote.failed',
    message: `${what} on ${host} failed (${status === null ? 'no answer in time' : `exit ${status}`})${output ? `: ${output}` : ''}`,
    hint: `see the output above; once the cause is fixed, run the command again: every step is safe to repeat`,
  }),
  haproxyRefused: (host: string, output: string): Message => ({
    code: 'lb.haproxy-check',
    message: `HAProxy on ${host} refuses the new haproxy.cfg (haproxy -c): ${output}; it runs on with its old configuration`,
    hint: 'this HAProxy is older or built otherwise than the one the topology\'s OS ships (kubebake renders for that one); check haproxy -v on the load balancer',
  }),
  etcdMemberStays: (name: string, peer: string, on: string): Message => ({
    code: 'etcd.member-stays',
    message: `the etcd member of ${name} (${peer}) is still in the etcd cluster after its removal on ${on}`,
    hint: `see the output above; remove it by hand on a control plane: crictl exec <etcd container> etcdctl … member list, then member remove <ID>`,
  }),
  noHealthyControlPlane: (name: string): Message => ({
    code: 'etcd.no-peer',
    message: `no other control plane is Ready to check that the etcd member of ${name} is gone`,
    hint: 'bring a control plane back first',
  }),

  // --- day 2: certificates ----------------------------------------------------------------------
  certExpired: (what: string, when: string, renew: string): Message => ({
    code: 'certs.expired',
    message: `${what} expired on ${when}`,
    hint: renew,
  }),
  certExpiring: (what: string, days: number, when: string, renew: string): Message => ({
    code: 'certs.expiring',
    message: `${what} expires in ${days} day${days === 1 ? '' : 's'} (${when})`,
    hint: renew,
  }),
  certUnchecked: (what: string, why: string, apiPort: number): Message => ({
    code: 'certs.unchecked',
    message: `${what} could not be checked: ${why}`,
    hint: `is the control plane up and reachable from here? --server https://<address>:${apiPort} checks one API server; the other certificates are reported all the same`,
  }),
  certForeign: (what: string, why: string): Message => ({
    code: 'certs.foreign',
    message: `${what} is not signed by this cluster's CA (${why})`,
    hint: 'point --server at a control plane of this cluster, or check that -o names this cluster\'s output folder',
  }),
} as const;

/** One line on stderr when --delivery all cannot include the PXE tree. */
export const PXE_SKIPPED_NOTE = 'note: no PXE tree (pxe/): the topology has no delivery.server (e.g. http://10.2.47.5:8080); add it to render pxe/';

/**
 * One line on stderr when a render removed (with --check: would remove) files of delivery forms
 * its --delivery left out: they were written by an earlier render, and the output keeps only what
 * this render asked for.
 */
export const removedFormsNote = (counts: readonly (readonly [string, number])[], delivery: string | undefined, check: boolean): string => {
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  const files = `${check ? 'would remove' : 'removed'} ${total} file${total === 1 ? '' : 's'}`;
  // "all" leaves out only the PXE tree, and only without delivery.server (PXE_SKIPPED_NOTE says so).
  if (delivery === undefined || delivery.trim() === 'all') return `note: ${files} of the PXE tree (pxe/), which needs delivery.server`;
  return `note: ${files} of delivery forms --delivery ${delivery} leaves out (${counts.map(([f, n]) => `${f}: ${n}`).join(', ')}); render with --delivery all (the default) to keep every form`;
};

/** A render's last line: where the operator reads on (the cluster README, under the -o folder as given). */
export const nextStepLine = (readme: string): string => `next: read ${readme} (boot order, what to attach where, day-2 commands)`;

const names = (xs: readonly { node: string; version?: string }[]): string => xs.map((x) => `${x.node} (${x.version ? `v${x.version.replace(/^v/, '')}` : 'version unknown'})`).join(', ');

/** Day 2: `kubebake upgrade plan|apply` (the drain's and SSH's messages are msg's, shared with node remove/replace). */
export const upgradeMsg = {
  /** A failed action on a node: the node and the action before what went wrong. */
  onNode: (node: string, action: string, m: Message): Message => ({ ...m, message: `${node}, ${action}: ${m.message}` }),
  downgrade: (running: string, target: string): Message => ({
    code: 'upgrade.downgrade',
    message: `kubernetes.version ${target} is older than the ${running} the cluster runs: kubebake does not downgrade (kubeadm's policy allows one minor back at most, and kubebake's pinned, held packages have no tested way back)`,
    hint: `set kubernetes.version to ${running} (or a newer patch or the next minor) in the topology`,
  }),
  skipsMinor: (running: string, target: string): Message => ({
    code: 'upgrade.skips-minor',
    message: `Kubernetes ${running} → ${target} skips a minor: kube-apiserver must not skip minor versions (version skew policy), and kubeadm upgrades one minor at a time`,
    hint: `upgrade one minor at a time: set kubernetes.version to the newest ${running.split('.')[0]}.${Number(running.split('.')[1]) + 1} patch, run kubebake upgrade apply, then bump again`,
  }),
  kubeletNewerThanTarget: (kubelets: readonly { node: string; version: string }[], target: string): Message => ({
    code: 'upgrade.kubelet-newer',
    message: `kubelet newer than the target ${target} on ${names(kubelets)}: a kubelet must not be newer than kube-apiserver (version skew policy)`,
    hint: 'set kubernetes.version to at least the newest kubelet version the cluster runs',
  }),
  apiServerSpread: (apiServers: readonly { node: string; version?: string }[]): Message => ({
    code: 'upgrade.apiserver-skew',
    message: `the control plane's kube-apiservers are more than one minor apart: ${names(apiServers)} (the version skew policy allows one)`,
    hint: 'bring the older control planes to the version of the others by hand (kubeadm upgrade node on each) before planning another upgrade',
  }),
  kubeletTooOld: (kubelets: readonly { node: string; version: string }[], target: string, max: number): Message => ({
    code: 'upgrade.kubelet-too-old',
    message: `kubelet too old for Kubernetes ${target} on ${names(kubelets)}: a kubelet may be at most ${max} minor versions older than kube-apiserver (version skew policy; kubeadm's MaximumAllowedMinorVersionKubeletSkew)`,
    hint: 'first bring those nodes to the version the control plane runs: set kubernetes.version to it and run kubebake upgrade apply (it upgrades nodes that lag), then bump again',
  }),
  cniUntested: (plugin: string, version: string, range: readonly [string, string], target: string): Message => ({
    code: 'upgrade.cni-untested',
    message: `${plugin} ${version} is tested against Kubernetes ${range[0]}–${range[1]}, not ${target.split('.').slice(0, 2).join('.')}: the cluster network would run an untested combination after the upgrade`,
    hint: `upgrade to a Kubernetes minor ${plugin} ${version} is tested against (${range[0]}–${range[1]}), or choose a cni.version tested against the target (kubebake's version table in the README)`,
  }),
  noKubeadmConfig: (server: string): Message => ({
    code: 'upgrade.no-kubeadm-config',
    message: `the API at ${server} has no ConfigMap kube-system/kubeadm-config with a ClusterConfiguration: this is not a cluster kubeadm made, or the API refused to show it`,
    hint: 'point --server at this cluster\'s API (a control plane or the load balancer)',
  }),
  clusterVersionUnreadable: (text: string): Message => ({
    code: 'upgrade.no-cluster-version',
    message: `kubeadm's ClusterConfiguration has no kubernetesVersion kubebake can read (${JSON.stringify(text.slice(0, 40))})`,
    hint: 'check kube-system/kubeadm-config: kubectl -n kube-system get configmap kubeadm-config -o yaml',
  }),
  hostsNotNodes: (hosts: readonly string[]): Message => ({
    code: 'upgrade.host-not-a-node',
    message: `${hosts.join(', ')} ${hosts.length === 1 ? 'is a host' : 'are hosts'} of the topology but not ${hosts.length === 1 ? 'a Node' : 'Nodes'} of the cluster: kubebake cannot upgrade what never joined`,
    hint: 'boot and join them first (they then install the topology\'s version), or remove them from the topology',
  }),
  nodesNotHosts: (nodes: readonly string[]): Message => ({
    code: 'upgrade.node-not-a-host',
    message: `${nodes.join(', ')} ${nodes.length === 1 ? 'is a Node' : 'are Nodes'} of the cluster but not in the topology: kubebake cannot reach ${nodes.length === 1 ? 'it' : 'them'} and would leave ${nodes.length === 1 ? 'it' : 'them'} behind`,
    hint: 'add them to the topology (with their address), or remove them from the cluster first (kubectl drain, kubectl delete node)',
  }),
  nodesNotReady: (nodes: readonly string[]): Message => ({
    code: 'upgrade.node-not-ready',
    message: `${nodes.join(', ')} ${nodes.length === 1 ? 'is' : 'are'} not Ready: an upgrade starts from a healthy cluster (kubeadm's preflight checks that every control plane is Ready)`,
    hint: 'bring them back (kubectl describe node shows why), or remove them from the cluster and the topology',
  }),
  stepFailed: (node: string, reason: string): Message => ({
    code: 'upgrade.step-failed',
    message: `${node}: the upgrade step failed: ${reason}`,
    hint: `fix the cause (the node's /var/log/kubebake/firstboot.log has the whole run), then run kubebake upgrade apply again: it continues with ${node}`,
  }),
  stepTimedOut: (node: string, seconds: number): Message => ({
    code: 'upgrade.step-timeout',
    message: `${node}: the upgrade step did not finish within ${seconds} s`,
    hint: `look at ${node}'s /var/log/kubebake/firstboot.log; run kubebake upgrade apply again to continue (the step resumes, it does not start twice)`,
  }),
  nodeNotBack: (node: string, target: string, seen: string, seconds: number): Message => ({
    code: 'upgrade.node-not-back',
    message: `${node} did not come back Ready at v${target} within ${seconds} s (last seen: ${seen})`,
    hint: `look at the kubelet on ${node} (journalctl -u kubelet); once it is Ready, run kubebake upgrade apply again to continue (${node} stays cordoned until then)`,
  }),
  applyNotDone: (node: string, cluster: string, target: string): Message => ({
    code: 'upgrade.apply-first',
    message: `${node}: kubeadm upgrade node would keep the control plane at v${cluster}: kubeadm-config says v${cluster}, and the first control plane's kubeadm upgrade apply v${target} has not happened`,
    hint: 'run kubebake upgrade apply, which upgrades the first control plane (kubeadm upgrade apply) before the others',
  }),
} as const;
