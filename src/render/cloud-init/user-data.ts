// #cloud-config for one host: a serialisation of its manifest (after Cluster API's per-section
// layout). Nothing is decided here: files, steps and join material come from the manifest.
//
// Most of a host's user-data is the same as its role peers' (96–99 %), so each part is
// serialised once per distinct value and the document is assembled from those parts; a test
// checks the assembly is byte-identical to serialising the whole object at once.
import type { HostManifest, HostFile } from '../../manifest/host-manifest.js';
import { HOST_PATHS, unitName } from '../../plan/host-paths.js';
import { GENERATED } from '../../util/generated.js';
import { toYaml11 } from '../../util/yaml.js';

// Sequences start at their key's column: two bytes less on every line of every file.
const yaml = (value: unknown): string => toYaml11(value, { indentSeq: false });

interface WriteFile { path: string; content: string; permissions?: string }

// cloud-init writes files 0644 unless told otherwise (cc_write_files DEFAULT_PERMS).
export const writeFileEntry = (f: HostFile): WriteFile =>
  f.mode === '0644' ? { path: f.path, content: f.content } : { path: f.path, content: f.content, permissions: f.mode };

/** Every file the host gets, in the manifest's order. */
export const writeFiles = (m: HostManifest): WriteFile[] => m.files.map(writeFileEntry);

function head(m: HostManifest): object {
  return { hostname: m.node.name, ...(m.node.fqdn ? { fqdn: m.node.fqdn } : {}) };
}

function accounts(m: HostManifest): object {
  return {
    prefer_fqdn_over_hostname: false,
    // kubebake writes /etc/hosts itself; cloud-init must not replace it.
    manage_etc_hosts: false,
    // Password locked and root login off are cloud-init's defaults (cloud-init 22.4
    // distros/__init__.py: "'lock_passwd' defaults to True"; config/cc_ssh.py: disable_root True).
    users: [
      {
        name: m.admin.adminUser,
        groups: ['sudo'],
        shell: '/bin/bash',
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        ssh_authorized_keys: m.admin.sshAuthorizedKeys,
      },
    ],
    ssh_pwauth: false,
  };
}

const { firstbootUnit, stateDir, status } = HOST_PATHS;
const unit = unitName(firstbootUnit);
// runcmd only hands over to the unit (config/firstboot-unit.ts), which systemd runs again after
// a reboot; `enable --now` waits for it, so `cloud-init status --wait` still means "first boot done".
const RUNCMD = { runcmd: [['systemctl', 'enable', '--now', unit]] };
// On a baked host the runner and its unit come from the image: without them, say so where the operator looks.
const RUNCMD_IMAGE = {
  runcmd: [
    [
      'sh',
      '-c',
      `if [ -f ${firstbootUnit} ]; then exec systemctl enable --now ${unit}; fi; install -d ${stateDir}; ` +
        `echo 'failed: image-check: ${firstbootUnit} is missing: not a kubebake image, or one baked by an older kubebake (bake one, or set image: first-boot)' > ${status}; exit 1`,
    ],
  ],
};
const runcmd = (m: HostManifest): object => (m.runtime === 'image' ? RUNCMD_IMAGE : RUNCMD);

/**
 * cloud-init's phone_home (cc_phone_home) POSTs form data (here instance_id and hostname) when the
 * final stage reaches it, after runcmd: `kubebake serve` records it as "cloud-init finished".
 * Two tries, 3 s apart (its default is 10): a server that is down must not hold up the boot.
 */
const phoneHome = (m: HostManifest): object =>
  m.phoneHome ? { phone_home: { url: m.phoneHome, post: ['instance_id', 'hostname'], tries: 2 } } : {};

/** The whole #cloud-config as one object (what cloud-init parses the document back into). */
export function userDataObject(m: HostManifest): object {
  return { ...head(m), ...accounts(m), write_files: writeFiles(m), ...runcmd(m), ...phoneHome(m) };
}

const comment = (m: HostManifest): string => `#cloud-config\n# ${GENERATED}\n# host ${m.node.name} (${m.node.role})\n`;

/** Serialises user-data; parts already serialised for another host are reused from `cache`. */
export class UserDataWriter {
  readonly #parts = new Map<string, string>();
  readonly #accounts = new WeakMap<object, string>();

  #part(key: string, make: () => string): string {
    let text = this.#parts.get(key);
    if (text === undefined) this.#parts.set(key, (text = make()));
    return text;
  }

  render(m: HostManifest): string {
    let accountsText = this.#accounts.get(m.admin);
    if (accountsText === undefined) this.#accounts.set(m.admin, (accountsText = yaml(accounts(m))));
    // A one-entry write_files list, without its key line: the entry as it appears in the whole list.
    const files = writeFiles(m).map((f) =>
      this.#part(`${f.path}\0${f.permissions}\0${f.content}`, () => yaml({ write_files: [f] }).slice('write_files:\n'.length)),
    );
    return `${comment(m)}${yaml(head(m))}${accountsText}write_files:\n${files.join('')}${this.#part(`runcmd:${m.runtime}`, () => yaml(runcmd(m)))}${m.phoneHome ? yaml(phoneHome(m)) : ''}`;
  }
}

/** One host's user-data, serialised whole (tests compare the assembled form against it). */
export function renderUserData(m: HostManifest): string {
  return `${comment(m)}${yaml(userDataObject(m))}`;
}
