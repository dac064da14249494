import { join } from 'node:path';
import { problem, type Diagnostic } from '../diagnostics/diagnostic.js';
import { formatDiagnostics } from '../diagnostics/print.js';
import { msg, nextStepLine, PXE_SKIPPED_NOTE, removedFormsNote } from '../diagnostics/messages.js';
import { buildPlan, type ClusterPlan, type RenderPlan } from '../plan/plan.js';
import { IDENTITY_FILE, storePath } from '../store/secrets-store.js';
import { interrupted, writeTree, type WriteOutcome } from '../output/write.js';
import type { FileTree } from '../output/tree.js';
import { DELIVERY_FORMS, type DeliveryForm } from '../render/delivery/forms.js';
import { identityOf, lockOutput, renderCluster, type RenderProgress } from '../app/render-cluster.js';
import { EXIT, SIGNAL_EXIT } from './exit.js';
import { loadAndReport } from './validate.js';
import { say, usageError } from './say.js';
import { positionDiagnostics } from '../topology/position.js';

export interface RenderOptions {
  file: string;
  out: string;
  strict?: boolean;
  check?: boolean;
  force?: boolean;
  rotateToken?: boolean;
  delivery?: string;
  /** Refuse to make a new secrets store (commands for a cluster that exists). */
  requireStore?: boolean;
  /** Runs after the render verified and before anything is written; problems stop the render. */
  register?: (plan: RenderPlan) => Promise<Diagnostic[]>;
}


/**
 * `render cloud-init`: topology → plan (+ stored secrets) → files under <out>/<cluster>/, through
 * app/render-cluster.ts; here the options are parsed and what it says is printed.
 * SIGINT/SIGTERM stop before writing begins, or let the write finish.
 */
export async function runRenderCloudInit(opts: RenderOptions): Promise<number> {
  const delivery = await import('../render/delivery/index.js');
  const forms = parseDeliveryForms(opts.delivery ?? 'all');
  if ('diagnostics' in forms) {
    return usageError(forms.diagnostics[0]!);
  }
  const loaded = await loadAndReport(opts);
  if (!loaded.topology) return EXIT.invalid;
  const topology = loaded.topology;
  // A form the topology cannot have (formsFor): asked for by name, an input error; as part of
  // "all", left out with a note. Only the PXE tree can be missing (it needs delivery.server).
  if (delivery.formsFor(forms, topology.delivery.server).length < forms.length) {
    if (namesForm(opts.delivery, 'pxe')) {
      const needsServer = problem(msg.pxeNeedsServer(), { path: ['delivery', 'server'] });
      process.stderr.write(formatDiagnostics(positionDiagnostics(loaded.source, loaded.file, [needsServer]), loaded.source));
      return EXIT.invalid;
    }
    forms.splice(forms.indexOf('pxe'), 1);
    process.stderr.write(`${PXE_SKIPPED_NOTE}\n`);
  }
  const clusterDir = join(opts.out, topology.name);
  const plan = buildPlan(topology);
  const progress: RenderProgress = {
    waiting: waitingNote(clusterDir),
    storeWarnings: (warnings) => process.stderr.write(formatDiagnostics(warnings)),
    sizes: (sizes) => {
      process.stdout.write(`user-data sizes:\n${sizes.lines.join('\n')}\n`);
      for (const w of sizes.warnings) process.stderr.write(`warning: ${w}\n`);
    },
  };
  return withSignals(async (signal) => {
    const { check, force, rotateToken, requireStore, register } = opts;
    const r = await renderCluster({ topology, plan, clusterDir, forms, check, force, rotateToken, requireStore, register, signal, progress });
    const stopped = (): number => SIGNAL_EXIT[signal.reason as string]!;
    switch (r.kind) {
      case 'no-store':
        return fail([noStore(r.secretsDir)]);
      case 'failed':
        return fail(r.diagnostics);
      case 'unverified':
        // The problems point at the topology lines they come from.
        process.stderr.write(formatDiagnostics(positionDiagnostics(loaded.source, loaded.file, r.problems), loaded.source));
        return EXIT.invalid;
      case 'aborted':
        return stopped();
      case 'checked': {
        const code = report(r.outcome, clusterDir, true);
        if (code === EXIT.ok) noteRemovedForms(delivery, r.outcome, forms, opts.delivery, true);
        return code;
      }
      case 'written': {
        const secretsDir = join(clusterDir, 'secrets');
        reportCreated(r.created, secretsDir);
        const code = report(r.result, clusterDir, false);
        if (code === EXIT.ok) noteRemovedForms(delivery, r.result, forms, opts.delivery, false);
        if (code === EXIT.ok && opts.rotateToken && !opts.register) reportRotation(plan, join(secretsDir, storePath('token')));
        if (code === EXIT.ok) process.stdout.write(`${nextStepLine(join(clusterDir, 'README.md'))}\n`);
        return signal.aborted ? stopped() : code;
      }
    }
  });
}

type DeliveryModule = typeof import('../render/delivery/index.js');

/**
 * Parses --delivery: "all", "none" or a comma-separated list. libvirt's recipe attaches the
 * host's seed.iso, so it brings the ISO along. Returns a diagnostic for unknown names.
 * (Here, not in delivery/forms.ts: that file is the help text's and imports nothing.)
 */
export function parseDeliveryForms(value: string): DeliveryForm[] | { diagnostics: Diagnostic[] } {
  const words = value.split(',').map((w) => w.trim()).filter(Boolean);
  if (words.length === 1 && words[0] === 'all') return [...DELIVERY_FORMS];
  if (words.length === 1 && words[0] === 'none') return [];
  const unknown = words.filter((w) => !(DELIVERY_FORMS as readonly string[]).includes(w));
  if (unknown.length || !words.length) return { diagnostics: [problem(msg.unknownDeliveryForm(unknown, DELIVERY_FORMS))] };
  const set = new Set(words as DeliveryForm[]);
  if (set.has('libvirt')) set.add('iso');
  return DELIVERY_FORMS.filter((f) => set.has(f));
}

/** Whether --delivery lists the form by name (not through "all"). */
const namesForm = (value: string | undefined, form: DeliveryForm): boolean => (value ?? '').split(',').some((w) => w.trim() === form);

/**
 * Files of forms this --delivery leaves out are removed like any file a render no longer makes
 * (the output is what the last render asked for, so no stale seed carries old join material):
 * never silently. Counts per form, from the paths the writer removed.
 */
function noteRemovedForms(d: DeliveryModule, outcome: WriteOutcome, forms: readonly DeliveryForm[], delivery: string | undefined, check: boolean): void {
  if (!('removed' in outcome)) return;
  const counts = new Map<DeliveryForm, number>();
  for (const path of outcome.removed) {
    const form = d.formOfPath(path);
    if (form && !forms.includes(form)) counts.set(form, (counts.get(form) ?? 0) + 1);
  }
  if (counts.size) process.stderr.write(`${removedFormsNote(d.DELIVERY_FORMS.filter((f) => counts.has(f)).map((f) => [f, counts.get(f)!] as const), delivery, check)}\n`);
}

/**
 * Runs `fn` with SIGINT/SIGTERM turned into an abort signal: the render stops before it changes
 * anything, or finishes the write it began, then exits 130/143. A second signal exits at once
 * (the writer's pending ledger lets the next run finish the job).
 */
export async function withSignals(fn: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(SIGNAL_EXIT[sig]);
    say(msg.signalStopping(sig));
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Says that this render waits for another one into `dir`. */
const waitingNote =
  (dir: string): RenderProgress['waiting'] =>
  (o) =>
    say(msg.waitingForLock(dir, o));

function fail(diagnostics: Diagnostic[]): number {
  process.stderr.write(formatDiagnostics(diagnostics));
  return EXIT.invalid;
}

/**
 * A running cluster does not know a token made after its `kubeadm init`: say how to register it
 * on a control plane. The token travels on ssh's standard input and is read by the root shell
 * that sudo starts, so it is on no command line that sudo logs (sudo logs `sh -c '…$(head -n 1)…'`)
 * and never printed.
 */
function reportRotation(plan: ClusterPlan, tokenFile: string): void {
  const cp = plan.nodes.find((n) => n.initNode)!;
  process.stderr.write(
    `new bootstrap token in ${tokenFile}; nodes booted from the new user-data join with it.\n` +
      `If the cluster is already running, register the token there first:\n` +
      `  ssh ${plan.access.adminUser}@${cp.ip} "sudo sh -c 'kubeadm token create \\"\\$(head -n 1)\\" --ttl ${plan.bootstrap.tokenTTL}'" < ${tokenFile}\n`,
  );
}

export const noStore = (dir: string): Diagnostic => problem(msg.noStore(dir), { file: dir });

/** Names what the secrets store gained (file names only: secrets are never printed). */
function reportCreated(created: string[], dir: string): void {
  if (created.includes(storePath('ca.key'))) process.stderr.write(`created cluster secrets in ${dir} (keep them safe; never commit them)\n`);
  else for (const file of created.filter((f) => f !== IDENTITY_FILE)) process.stderr.write(`created ${join(dir, file)}\n`);
}

function report(outcome: WriteOutcome, dir: string, check: boolean): number {
  if (interrupted(outcome)) return EXIT.invalid;
  if ('diagnostics' in outcome) return fail(outcome.diagnostics);
  if (outcome.warnings.length) process.stderr.write(formatDiagnostics(outcome.warnings));
  const { written, unchanged, removed } = outcome;
  process.stdout.write(
    check
      ? `check: ${written.length + unchanged.length} files under ${dir} (${written.length} would be written${removed.length ? `, ${removed.length} removed` : ''})\n`
      : `${dir}: ${written.length} written, ${unchanged.length} unchanged${removed.length ? `, ${removed.length} removed` : ''}\n`,
  );
  return EXIT.ok;
}

/** Writes a rendered tree (or, with --check, only checks it), holding the folder's lock. */
export async function emit(tree: FileTree, dir: string, opts: RenderOptions): Promise<number> {
  if (opts.check) return report(await writeTree(dir, tree, { dryRun: true }), dir, true);
  return withSignals(async (signal) => {
    // A folder that cannot be locked throws a DiagnosticError, printed at the CLI's edge.
    const release = await lockOutput(dir, waitingNote(dir));
    try {
      const outcome = await writeTree(dir, tree, { force: opts.force, signal });
      if (interrupted(outcome)) return SIGNAL_EXIT[signal.reason as string]!;
      const code = report(outcome, dir, false);
      return signal.aborted ? SIGNAL_EXIT[signal.reason as string]! : code;
    } finally {
      await release();
    }
  });
}
