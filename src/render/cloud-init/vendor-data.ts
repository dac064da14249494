// The cluster's NoCloud vendor-data: kubebake's runtime for first-boot hosts (manifest/runtime.ts),
// the same document for every host, so each host's user-data keeps only what is its own.
//
// How cloud-init 22.4 combines it with user-data (/usr/lib/python3/dist-packages/cloudinit/):
// - stages.py Init._consume_vendordata reads it when `vendor_data: {enabled: true}` (settings.py
//   CFG_BUILTIN's default; kubebake's user-data leaves it alone) and runs the same part handlers.
// - helpers.py ConfigMerger._get_instance_configs lists the user's cloud_config first, then
//   vendor2 and vendor; util.py mergemanydict merges each into the result with that config's own
//   `merge_how`/`merge_type` (mergers/__init__.py dict_extract_mergers), else the defaults
//   "list()+dict()+str()", whose dict merger (mergers/m_dict.py, no_replace) keeps a key the
//   user-data already has: a vendor `write_files` is dropped when user-data has `write_files`.
// - But `merge_how` alone does not reach that merge: handlers/cloud_config.py
//   (_extract_mergers) pops it from the document while it merges the vendor-data's parts, so
//   vendor-cloud-config.txt no longer has it. dict_extract_mergers pops ONE key per call
//   (`merge_how`, else `merge_type`): with both, `merge_how` steers the part merge and is gone,
//   `merge_type` is written to vendor-cloud-config.txt and steers the merge under user-data.
//   (upstream cloud-init main has the same code; canonical/cloud-init#2979 and #6268 describe the
//   dropped lists, PR #6933 proposed appending vendor lists by default and was closed.)
// - list(prepend) (mergers/m_list.py) puts the vendor's files BEFORE the host's: cc_write_files
//   writes them in order, so a file of the host's own (a control plane's bootstrap.sh) replaces
//   the runtime's, as it does on a baked image. dict(no_replace, recurse_list): every other key
//   stays the user-data's; only lists present in both are combined.
// test/render-cloud-init/vendor-merge.test.ts runs cloud-init's own handler and merge code on it,
// and test/e2e/first-boot.test.ts boots hosts with it.
import type { VendorRuntime } from '../../manifest/runtime.js';
import { GENERATED } from '../../util/generated.js';
import { toYaml11 } from '../../util/yaml.js';
import { writeFileEntry } from './user-data.js';

/** How vendor-data's lists join user-data's (see the top of this file for why both keys). */
export const VENDOR_MERGE = 'list(prepend)+dict(no_replace,recurse_list)+str()';

/** The vendor-data as cloud-init parses it; an empty document when a baked image carries the runtime. */
export function vendorDataObject(runtime: VendorRuntime | undefined): Record<string, unknown> {
  if (!runtime) return {};
  return { merge_how: VENDOR_MERGE, merge_type: VENDOR_MERGE, write_files: runtime.files.map(writeFileEntry) };
}

/**
 * The vendor-data document. Without a runtime (image: baked) it is an empty cloud-config, still
 * written for every host and carried by every delivery form, so that every form has the same four
 * NoCloud files and an HTTP seed answers vendor-data instead of a 404.
 */
export function renderVendorData(runtime: VendorRuntime | undefined): string {
  const head = `#cloud-config\n# ${GENERATED}\n`;
  if (!runtime) return `${head}# image: baked - kubebake's runtime is in the image, nothing to add\n{}\n`;
  return `${head}# kubebake's runtime (runner, helpers, shared steps; digest ${runtime.digest.slice(0, 12)}), the same for every host of the cluster\n${toYaml11(vendorDataObject(runtime), { indentSeq: false })}`;
}
