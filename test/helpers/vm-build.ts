// Builds (or finds) the cached VM disks: `node dist/test/helpers/vm-build.js [ifupdown|netplan…]`.
// The tests build them on demand too; this only lets CI or a developer warm the cache first.
import { debianDisk, vmUnavailable, type NetworkStack } from './vm.js';

const why = vmUnavailable();
if (why) {
  console.error(`cannot build VM disks: ${why}`);
  process.exit(1);
}
const stacks = (process.argv.slice(2).length ? process.argv.slice(2) : ['ifupdown', 'netplan']) as NetworkStack[];
for (const stack of stacks) {
  const d = debianDisk(stack);
  console.log(`${stack}: ${d.disk}${d.buildSeconds !== undefined ? ` (built in ${d.buildSeconds} s)` : ' (cached)'}`);
}
