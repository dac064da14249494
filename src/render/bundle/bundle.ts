// The air-gap bundle: one tar (tar-stream, reproducible) with the artefact inventory (as
// manifest.json), the script that fills a mirror on a connected machine, the mirror/ layout the
// topology's `mirrors` point at, the files kubebake's first boot downloads (when they were
// fetched), and a checksum list of it all.
import type { ArtifactInventory } from '../../manifest/inventory.js';
import { byPath } from '../../output/tree.js';
import { sha256Hex } from '../../util/digest.js';
import { buildTar, type TarEntry } from '../delivery/tar.js';
import { HASHICORP_RELEASE_KEY } from '../../packer/hashicorp-key.js';
import { FILL_SCRIPT, HASHICORP_KEY_FILE, renderFillScript } from './fill-script.js';

/** Entries carry this time, so one inventory gives one byte-identical bundle. */
const BUNDLE_MTIME = new Date(0);

function mirrorReadme(m: ArtifactInventory): string {
  return `# Mirror for cluster ${m.cluster} (filled by ../${FILL_SCRIPT})

Serve this folder over HTTP(S) on the site and point the topology's \`mirrors\` at it:

| folder | topology field | what |
|---|---|---|
| kubernetes/ | mirrors.kubernetes.url | ${m.repositories.kubernetes.upstream} (signed indexes as published, pinned .debs) |
| cri-o/ | mirrors.crio.url | ${m.repositories['cri-o'].upstream} |
| files/ | mirrors.files | CNI manifests${m.files.some((f) => f.path.includes('cilium-cli')) ? ', the Cilium CLI' : ''} and the cloud image |
| images/ | mirrors.registries | OCI archives: \`skopeo copy oci-archive:images/<file>.tar docker://<registry mirror>/<image>\` |
| packer/ | — | Packer ${m.packer.version} (its SHA256SUMS and the signature the script checked against HashiCorp's key) and ${m.packer.plugin.source} ${m.packer.plugin.version} (PACKER_PLUGIN_PATH=packer/plugins) |

The OS packages (${m.packages.filter((p) => p.repository === 'os').map((p) => p.name).join(', ')}) come from a mirror of the
${m.os} archive itself (mirrors.os), e.g. made with debmirror or apt-mirror.

mirror/SHA256SUMS, written by the script, lists every file it fetched.
`;
}

/** The bundle tar. `fetched`: files already downloaded, by their path under mirror/files/. */
export async function buildBundle(m: ArtifactInventory, fetched: ReadonlyMap<string, Uint8Array> = new Map()): Promise<Uint8Array> {
  const entries: TarEntry[] = [
    { path: 'manifest.json', content: JSON.stringify(m, null, 2) + '\n', mode: 0o644 },
    { path: FILL_SCRIPT, content: renderFillScript(m), mode: 0o755 },
    { path: HASHICORP_KEY_FILE, content: HASHICORP_RELEASE_KEY, mode: 0o644 },
    { path: 'mirror/README.md', content: mirrorReadme(m), mode: 0o644 },
    ...[...fetched].map(([path, content]): TarEntry => ({ path: `mirror/files/${path}`, content, mode: 0o644 })),
  ];
  const sums = [...entries]
    .sort(byPath)
    .map((e) => `${sha256Hex(e.content)}  ${e.path}\n`)
    .join('');
  return buildTar([...entries, { path: 'SHA256SUMS', content: sums, mode: 0o644 }], BUNDLE_MTIME);
}
