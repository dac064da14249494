// #cloud-config for one host: a serialisation of its manifest (after Cluster API's per-section
// layout). Nothing is decided here: files, steps and join material come from the manifest.
//
// Most of a host's user-data is the same as its role peers' (96–99 %), so each part is
// serialised once per distinct value and the document is assembled from those parts; a test
// checks the assembly is byte-identical to serialising the whole object at once.
import type { HostManifest, HostFile } from '../../manifest/host-manifest.js';
import { HOST_PATHS } from '../../plan/host-paths.js';
import { GENERATED } from '../../util/generated.js';
import { toYaml11 } from '../../util/yaml.js';

// Sequences start at their key's column: two bytes less on every line of every file.
const yaml = (value: unknown): string => toYaml11(value, { indentSeq: false });

interface WriteFile { path: string; content: string; permissions?: string }

// cloud-init writes files 0644 unless told otherwise (cc_write_files DEFAULT_PERMS).
const entry = (f: HostFile): WriteFile =>
  f.mode === '0644' ? { path: f.path, content: f.content } : { path: f.path, content: f.content, permissions: f.mode };

/** Every file the host gets, in the manifest's order. */
export const writeFiles = (m: HostManifest): WriteFile[] => m.files.map(entry);

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

const RUNCMD = { runcmd: [[HOST_PATHS.firstboot]] };
// On a baked host the runner comes from the image: without it, say so where the operator looks.
const RUNCMD_IMAGE = {
  runcmd: [
    [
      'sh',
      '-c',
      `[ -x ${HOST_PATHS.firstboot} ] && exec ${HOST_PATHS.firstboot}; install -d ${HOST_PATHS.stateDir}; ` +
        `echo 'failed: image-check: ${HOST_PATHS.firstboot} is missing: not a kubebake image (bake one, or set image: first-boot)' > ${HOST_PATHS.status}; exit 1`,
    ],
  ],
};
const runcmd = (m: HostManifest): object => (m.runtime === 'image' ? RUNCMD_IMAGE : RUNCMD);

/** The whole #cloud-config as one object (what cloud-init parses the document back into). */
export function userDataObject(m: HostManifest): object {
  return { ...head(m), ...accounts(m), write_files: writeFiles(m), ...runcmd(m) };
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
    return `${comment(m)}${yaml(head(m))}${accountsText}write_files:\n${files.join('')}${this.#part(`runcmd:${m.runtime}`, () => yaml(runcmd(m)))}`;
  }
}

/** One host's user-data, serialised whole (tests compare the assembled form against it). */
export function renderUserData(m: HostManifest): string {
  return `${comment(m)}${yaml(userDataObject(m))}`;
}
