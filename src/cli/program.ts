// commander wiring only: flags → calls → print → exit code. Each command's code is imported when
// it runs, so `--help` and `validate` do not load the PKI, OpenPGP or Packer modules.
// Exit codes: 0 ok, 1 invalid input (or a failed build), 2 usage error.
import { Command, CommanderError } from 'commander';
import { PACKER_VERSION, RELEASES_URL_ENV } from '../packer/pin.js';

import { DiagnosticError } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import { formatDiagnostics } from '../diagnostics/print.js';
import { EXIT } from './exit.js';
import { usageError } from './say.js';
import { DELIVERY_FORMS } from '../render/delivery/forms.js';
import { API_SERVER_PORT } from '../topology/facts/kubeadm.js';

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('kubebake')
    .description('Generate an unattended, highly available Kubernetes cluster from one topology file.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  $ kubebake validate -f cluster.yaml          check a topology, errors point at the line
  $ kubebake render cloud-init -f cluster.yaml  write out/<cluster>/hosts/*/user-data …
  $ kubebake render packer -f cluster.yaml      write Packer templates for baked images
  $ kubebake bake images -f cluster.yaml        build those images with a verified Packer
  $ kubebake serve -f cluster.yaml              serve PXE seeds, receive progress, live page at /
  $ kubebake status -f cluster.yaml             each host's progress, from the running server
  $ kubebake schema > kubebake.schema.json      JSON Schema for your editor`,
    );

  program
    .command('validate')
    .description('Check a topology file: shape, then cross-field rules (quorum, subnets, versions…).')
    .requiredOption('-f, --file <topology.yaml>', 'topology file')
    .option('--strict', 'treat warnings as errors')
    .option('--json', 'print diagnostics as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ kubebake validate -f profiles/default.yaml
  $ kubebake validate -f cluster.yaml --strict   # warnings (single load balancer, EOL versions…) fail too

Exit codes: 0 valid, 1 invalid, 2 usage error.`,
    )
    .action(async (opts) => setExit(await (await import('./validate.js')).runValidate(opts)));

  program
    .command('schema')
    .description('Print the topology JSON Schema (for editors and yaml-language-server).')
    .addHelpText(
      'after',
      `
Examples:
  $ kubebake schema > kubebake.schema.json
  # then, first line of cluster.yaml:
  # yaml-language-server: $schema=./kubebake.schema.json`,
    )
    .action(async () => setExit((await import('./schema.js')).runSchema()));

  const render = program.command('render').description('Render artifacts from a topology (cloud-init, packer).');
  const renderOptions = (cmd: Command): Command =>
    cmd
      .requiredOption('-f, --file <topology.yaml>', 'topology file')
      .option('-o, --out <dir>', 'output root; files go to <dir>/<cluster>/', 'out')
      .option('--strict', 'treat warnings as errors')
      .option('--check', 'validate and render in memory, write nothing')
      .option('--force', 'replace files that were edited by hand since kubebake wrote them');
  renderOptions(render.command('cloud-init'))
    .description('Write per-host NoCloud data (user-data, meta-data, network-config), secrets, admin.conf and haproxy.cfg.')
    .option('--rotate-token', 'issue a new bootstrap token (the PKI is kept)')
    .option('--delivery <forms>', `delivery forms besides the NoCloud files: all, none, or a list of ${DELIVERY_FORMS.join(',')}`, 'all')
    .addHelpText(
      'after',
      `
Examples:
  $ kubebake render cloud-init -f profiles/seed.yaml
  $ kubebake render cloud-init -f cluster.yaml -o /srv/kubebake --rotate-token
  $ kubebake render cloud-init -f cluster.yaml --delivery iso,proxmox

Besides each host's four NoCloud files it writes out/<cluster>/README.md (hosts, what to attach
where, sizes) and the delivery forms: hosts/<host>/seed.iso (a cidata CD), tar bundles, vSphere
guestinfo, Proxmox snippets + qm script, libvirt virt-install script.

Secrets (bootstrap token, cluster CAs) are created once in <out>/<cluster>/secrets/ (0600) and
reused, so rendering again gives byte-identical files.`,
    )
    .action(async (opts) => setExit(await (await import('./render.js')).runRenderCloudInit(opts)));
  renderOptions(render.command('packer'))
    .description('Write Packer templates that bake OS prep, CRI-O and the kube packages into images.')
    .addHelpText(
      'after',
      `
Examples:
  $ kubebake render packer -f cluster.yaml
  $ ls out/<cluster>/packer/    # README.md and one folder per image: node-<os>, load-balancer-<os>`,
    )
    .action(async (opts) => setExit(await (await import('./packer.js')).runRenderPacker(opts)));

  program
    .command('token')
    .description('Manage bootstrap tokens of a running cluster.')
    .command('create')
    .description("Register a fresh bootstrap token in the running cluster (through its API, with the stored admin credentials) and re-render the hosts' user-data with it.")
    .requiredOption('-f, --file <topology.yaml>', 'topology file')
    .option('-o, --out <dir>', 'output root the cluster was rendered into', 'out')
    .option('--server <url>', 'the API to talk to (default: https://<apiEndpoint>)')
    .option('--timeout <seconds>', 'bound for the API call', '15')
    .option('--delivery <forms>', 'delivery forms to re-render, as for render cloud-init', 'all')
    .option('--force', 'replace files that were edited by hand since kubebake wrote them')
    .addHelpText(
      'after',
      `
The first token dies after bootstrap.tokenTTL (24h by default). Nodes booted later, and baked
images used to scale out, join with the token this command registers: it creates the token's
Secret in kube-system (as kubeadm token create does), stores it in <out>/<cluster>/secrets/token
and re-renders every host, so the new user-data carries it. Nothing changes if the API refuses.

Examples:
  $ kubebake token create -f cluster.yaml
  $ kubebake token create -f cluster.yaml --server https://10.0.0.11:${API_SERVER_PORT}

Exit codes: 0 registered and rendered, 1 invalid input or the API refused / was unreachable, 2 usage error.`,
    )
    .action(async (opts) => setExit(await (await import('./token.js')).runTokenCreate(opts)));

  // --- upgrade: plan and apply (src/cli/upgrade.ts) ---
  const upgrade = program.command('upgrade').description("Upgrade the running cluster to the topology's kubernetes.version, one minor at a time.");
  const upgradeOptions = (cmd: Command): Command =>
    cmd
      .requiredOption('-f, --file <topology.yaml>', 'topology file, with the kubernetes.version to upgrade to')
      .option('-o, --out <dir>', 'output root the cluster was rendered into', 'out')
      .option('--server <url>', 'the API to talk to (default: https://<apiEndpoint>)')
      .option('--timeout <seconds>', 'bound for each API call', '15')
      .option('--strict', 'treat warnings as errors');
  upgradeOptions(upgrade.command('plan'))
    .description('Read what the cluster runs (Node versions, kubeadm-config) and print the upgrade: order, packages, what to mirror; refuse what upstream refuses.')
    .option('--json', 'print the plan as JSON')
    .addHelpText(
      'after',
      `
Refuses (exit 1, with the reason and the fix): skipping a minor, a downgrade, a kubelet further
behind than the version skew policy allows, a CNI release not tested with the target minor.

Examples:
  $ kubebake upgrade plan -f cluster.yaml
  $ kubebake upgrade plan -f cluster.yaml --server https://10.0.0.11:${API_SERVER_PORT} --json

Exit codes: 0 the plan is possible (or nothing to do), 1 refused or invalid input, 2 usage error.`,
    )
    .action(async (opts) => setExit(await (await import('./upgrade.js')).runUpgradePlan(opts)));
  upgradeOptions(upgrade.command('apply'))
    .description('Carry the plan out one node at a time: cordon, drain (Eviction API), the upgrade step over SSH, wait until Ready at the new version, uncordon.')
    .option('--dry-run', 'print every action and each node\'s script; change nothing')
    .option('--ssh-config <file>', 'ssh_config for reaching the nodes (ssh -F); default: your own ssh setup')
    .option('--drain-timeout <duration>', 'bound for draining one node (a PodDisruptionBudget that blocks)', '10m')
    .option('--step-timeout <duration>', "bound for one node's upgrade step", '30m')
    .option('--node-timeout <duration>', 'bound for a node to come back Ready at the new version', '10m')
    .addHelpText(
      'after',
      `
Nodes are reached with the system's ssh as the topology's admin user (access.adminUser), whose key
is in access.sshAuthorizedKeys; the step runs with sudo through the node's first-boot runner
(status file, log, progress reports to kubebake serve). Progress is kept in
<out>/<cluster>/upgrade/state.json: run the same command again after a failure or Ctrl-C and it
continues where it stopped.

Examples:
  $ kubebake upgrade apply -f cluster.yaml --dry-run
  $ kubebake upgrade apply -f cluster.yaml
  $ kubebake upgrade apply -f cluster.yaml --ssh-config ~/.ssh/lab.conf --drain-timeout 20m

Exit codes: 0 every node runs the new version, 1 refused or invalid input, 2 usage error,
3 a node's action failed (node, action and cause named), 4 a bounded wait ran out.`,
    )
    .action(async (opts) => setExit(await (await import('./upgrade.js')).runUpgradeApply(opts)));
  // --- day 2: nodes in and out, load balancers, certificates --------------------------------
  const nodeOptions = (cmd: Command): Command =>
    cmd
      .requiredOption('-f, --file <topology.yaml>', 'topology file')
      .option('-o, --out <dir>', 'output root the cluster was rendered into', 'out')
      .option('--server <url>', 'the API to talk to (default: https://<apiEndpoint>)')
      .option('--timeout <seconds>', 'bound for each API call', '15')
      .option('--ssh-config <file>', 'ssh -F: an OpenSSH configuration to reach the hosts with (default: your ~/.ssh/config)')
      .option('--drain-timeout <duration>', 'bound for draining the node (90s, 10m, 1h)', '10m')
      .option('--evict-unmanaged', 'also evict pods no controller recreates (kubectl drain --force)')
      .option('--unreachable', 'the machine is gone: do not reset it; remove its etcd member from another control plane')
      .option('--delivery <forms>', 'delivery forms to re-render, as for render cloud-init', 'all')
      .option('--force', 'replace files that were edited by hand since kubebake wrote them');
  const node = program.command('node').description('Take nodes out of a running cluster, or replace them with fresh machines.');
  nodeOptions(node.command('remove').argument('<name>', 'the node (already deleted from the topology\'s hosts)'))
    .description('Take a node out for good: load balancers updated, drain, kubeadm reset, its etcd member gone, Node deleted, output re-rendered.')
    .addHelpText(
      'after',
      `
The topology stays the source of truth: delete the host from hosts first (kubebake refuses a
node that is still there), then run this. In order: every host it needs answers over SSH (your
OpenSSH client, the topology's admin user, sudo); the load balancers get the topology's
haproxy.cfg (haproxy -c, then a reload that keeps connections); the node is cordoned and drained
through the Eviction API (PodDisruptionBudgets respected, bounded by --drain-timeout); kubeadm
reset runs on it; a control plane's etcd member is checked gone from another control plane (and
removed there if reset could not); the Node is deleted; the output is rendered again. Refused
before anything changes: the last control plane, and a removal that would cost etcd its quorum.
Every step is safe to repeat: run the command again after fixing what stopped it.

Examples:
  $ kubebake node remove worker3 -f cluster.yaml
  $ kubebake node remove cp3 -f cluster.yaml --ssh-config ~/.ssh/lab.conf --drain-timeout 20m

Exit codes: 0 done, 1 refused or failed (the message names the step and the cause), 2 usage error,
4 the drain did not finish within --drain-timeout (the pods still there and why are named).`,
    )
    .action(async (name, opts) => setExit(await (await import('./node.js')).runNodeRemove(name, opts)));
  nodeOptions(node.command('replace').argument('<name>', 'the node (a host of the topology)'))
    .description('Take a node out as node remove does, then register a fresh token and re-render: its new seed boots the machine that takes its place.')
    .addHelpText(
      'after',
      `
For rolling replacement onto new images: bake images, then replace the nodes one by one, each
after the one before is Ready again. The host keeps its name in the topology (its address may
change); its new seed has a fresh bootstrap token and so a new instance-id. The first control
plane of the topology (its seed runs kubeadm init) cannot be replaced until another control plane
is listed before it.

Examples:
  $ kubebake node replace worker1 -f cluster.yaml
  $ kubebake node replace cp2 -f cluster.yaml --unreachable    # its machine died

Exit codes: as node remove.`,
    )
    .action(async (name, opts) => setExit(await (await import('./node.js')).runNodeReplace(name, opts)));

  program
    .command('lb')
    .description('Manage the load balancers of a running cluster.')
    .command('update')
    .description("Give every load balancer the topology's haproxy.cfg over SSH: checked with haproxy -c, installed, HAProxy reloaded without dropping connections.")
    .requiredOption('-f, --file <topology.yaml>', 'topology file')
    .option('--ssh-config <file>', 'ssh -F: an OpenSSH configuration to reach the hosts with (default: your ~/.ssh/config)')
    .addHelpText(
      'after',
      `
Run it after adding a control plane to the topology (before booting it: its backend stays down
until its /readyz answers) or changing an ingress frontend. node remove and node replace run it
themselves.

Examples:
  $ kubebake lb update -f cluster.yaml

Exit codes: 0 every load balancer serves the topology's haproxy.cfg, 1 one could not be reached or refused it (the others keep theirs), 2 usage error.`,
    )
    .action(async (opts) => setExit(await (await import('./lb.js')).runLbUpdate(opts)));

  program
    .command('certs')
    .description("Check a running cluster's certificates.")
    .command('check')
    .description('When the certificates run out: the stored CAs and admin certificate, and each API server\'s serving certificate (TLS handshake).')
    .requiredOption('-f, --file <topology.yaml>', 'topology file')
    .option('-o, --out <dir>', 'output root the cluster was rendered into', 'out')
    .option('--server <url>', `check only this API server (default: every control plane at <address>:${API_SERVER_PORT})`)
    .option('--timeout <seconds>', 'bound for each TLS handshake', '15')
    .option('--warn-days <days>', 'warn about certificates that expire within this many days', '30')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
kubeadm's CAs last 10 years, the certificates it makes 1 year; kubeadm renews them on every
upgrade. A cluster never upgraded needs kubeadm certs renew all on each control plane within the
year (README, "Certificates"). Kubelet certificates are not checked: their client certificates
rotate themselves, their serving certificates are self-signed and not verified by the API server.

Examples:
  $ kubebake certs check -f cluster.yaml
  $ kubebake certs check -f cluster.yaml --server https://10.20.0.11:${API_SERVER_PORT} --warn-days 60 --json

Exit codes: 0 every certificate has more than --warn-days left, 1 one could not be checked
(unreachable, not this cluster's) or invalid input, 2 usage error, 5 one expires within
--warn-days, 6 one has expired.`,
    )
    .action(async (opts) => setExit(await (await import('./certs.js')).runCertsCheck(opts)));

  program
    .command('bake')
    .description('Build artifacts with external tools.')
    .command('images')
    .description('Render the Packer templates, then packer init, validate and build each image.')
    .requiredOption('-f, --file <topology.yaml>', 'topology file')
    .option('-o, --out <dir>', 'output root; templates go to <dir>/<cluster>/packer/', 'out')
    .option('--strict', 'treat warnings as errors')
    .option('--force', 'replace template files that were edited by hand since kubebake wrote them')
    .option('--only <image...>', 'bake only these images (folder names under packer/)')
    .option('--dry-run', 'run packer init and validate only; build nothing')
    .option('--parallel <n>', 'images baked at once', '2')
    .option('--force-build', 'pass -force to packer build (replaces a previous build\'s artifacts)')
    .option('--packer-version <version>', 'exact Packer version to find or fetch', PACKER_VERSION)
    .option('--release-url <url>', `HashiCorp releases site or mirror (default $${RELEASES_URL_ENV}, else releases.hashicorp.com)`)
    .addHelpText(
      'after',
      `
Packer is taken from the cache, or PATH when it is exactly the pinned version, or downloaded and
checked against HashiCorp's signed SHA256SUMS. Each bake makes a one-time SSH key pair for the
build user and deletes it afterwards.

Examples:
  $ kubebake bake images -f cluster.yaml --dry-run
  $ kubebake bake images -f cluster.yaml --only node-ubuntu-24-04
  $ ${RELEASES_URL_ENV}=https://mirror.internal/hashicorp kubebake bake images -f cluster.yaml

Exit codes: 0 every image built, 1 invalid input or a failed build, 2 usage error.`,
    )
    .action(async (opts) => setExit(await (await import('./packer.js')).runBakeImages(opts)));

  program
    .command('serve')
    .description("Serve the cluster's PXE tree and seeds, receive the hosts' progress reports, show them live.")
    .requiredOption('-f, --file <topology.yaml>', 'topology file')
    .option('-o, --out <dir>', 'output root the cluster was rendered into', 'out')
    .option('--listen <addr:port>', "address to listen on (default: delivery.server's address and port, else 127.0.0.1:8080)")
    .option('--reinstall <hosts>', 'arm these hosts (comma-separated) to install again on their next network boot')
    .addHelpText(
      'after',
      `
Serves <out>/<cluster>/pxe/ read-only (seeds, iPXE and GRUB scripts, boot/ kernels), takes each
host's step reports (POST /report/<host>, with the host's own key) and cloud-init's phone_home,
and shows the cluster coming up: live page at /, JSON at /api/status, events at /events. State
is kept in <out>/<cluster>/serve-state/. Render first; set delivery.server so hosts report.

A host's iPXE/GRUB script installs it by default only until its installer fetched its config;
after that its network boots go to the local disk. --reinstall arms a host again (kept in the state).

Examples:
  $ kubebake serve -f cluster.yaml
  $ kubebake serve -f cluster.yaml -o /srv/kubebake --listen 10.2.47.5:8080
  $ kubebake serve -f cluster.yaml --reinstall worker3,worker4`,
    )
    .action(async (opts) => setExit(await (await import('./serve.js')).runServe(opts)));

  program
    .command('status')
    .description('Print each host\'s progress from a running `kubebake serve` (progress bars, or --json).')
    .requiredOption('-f, --file <topology.yaml>', 'topology file')
    .option('--server <url>', 'the server (default: the topology\'s delivery.server)')
    .option('--json', 'print the status as JSON')
    .option('--wait', 'poll until the cluster is ready or a host failed')
    .option('--timeout <duration>', 'bound for --wait (90s, 30m, 1h30m)', '60m')
    .addHelpText(
      'after',
      `
Examples:
  $ kubebake status -f cluster.yaml
  $ kubebake status -f cluster.yaml --server http://127.0.0.1:8080 --json
  $ kubebake status -f cluster.yaml --wait --timeout 45m && kubectl --kubeconfig out/lab/admin.conf get nodes

Exit codes: 0 the server answered (with --wait: the cluster is ready), 1 invalid topology or no
answer, 2 usage error, 3 a host failed, 4 --wait timed out before the cluster was ready.`,
    )
    .action(async (opts) => setExit(await (await import('./status.js')).runStatus(opts)));
  program
    .command('manifest')
    .description('List every artefact the cluster needs from outside: packages, images, files, cloud image, Packer.')
    .requiredOption('-f, --file <topology.yaml>', 'topology file')
    .option('--json', 'print the manifest as JSON')
    .option('--strict', 'treat warnings as errors')
    .addHelpText('after', `
Examples:
  $ kubebake manifest -f profiles/airgap.yaml
  $ kubebake manifest -f cluster.yaml --json > artefacts.json`)
    .action(async (opts) => setExit(await (await import('./manifest.js')).runManifest(opts)));

  program
    .command('bundle')
    .description('Write the air-gap bundle: a tar with the manifest, a script that fills a mirror on a connected machine, and checksums.')
    .requiredOption('-f, --file <topology.yaml>', 'topology file')
    .requiredOption('-o, --out <dir>', 'folder for <cluster>-bundle.tar')
    .option('--fetch', 'download the files first boot fetches (CNI manifests, Cilium CLI) into the bundle')
    .option('--from <url>', 'fetch them from this files mirror instead of upstream (implies --fetch)')
    .option('--strict', 'treat warnings as errors')
    .addHelpText('after', `
Examples:
  $ kubebake bundle -f profiles/airgap.yaml -o out/ --fetch
  $ tar -xf out/airgap-bundle.tar && ./fill-mirror.sh   # on a connected machine`)
    .action(async (opts) => setExit(await (await import('./manifest.js')).runBundle(opts)));
  return program;
}

/** The oldest Node.js kubebake runs on (package.json `engines`): process.getBuiltinModule, crypto.hash. */
export const MIN_NODE = '20.16.0';

/** Why this Node.js cannot run kubebake, or undefined when it can. */
export function unsupportedNode(version: string): string | undefined {
  const have = version.replace(/^v/, '').split('.').map(Number);
  const need = MIN_NODE.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    if ((have[i] ?? 0) > need[i]!) return undefined;
    if ((have[i] ?? 0) < need[i]!) return msg.nodeTooOld(MIN_NODE, version).message;
  }
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  // npm only warns about `engines`: an older Node would fail later, midway and obscurely.
  if (unsupportedNode(process.version)) return usageError(msg.nodeTooOld(MIN_NODE, process.version));
  let code: number = EXIT.ok;
  const program = buildProgram((c) => (code = c));
  program.exitOverride();
  for (const cmd of allCommands(program)) cmd.exitOverride();
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are successes; everything else commander rejects is usage.
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    // The one place a DiagnosticError (I/O that could not go on) that no command caught becomes
    // output and an exit code. Anything else thrown is a bug.
    if (e instanceof DiagnosticError) {
      process.stderr.write(formatDiagnostics(e.diagnostics));
      return e.exitCode;
    }
    process.stderr.write(`kubebake: internal error: ${(e as Error).message}\nPlease report this with the topology that caused it.\n`);
    return EXIT.internal;
  }
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}
