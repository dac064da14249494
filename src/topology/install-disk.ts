// hosts[].installDisk: the disk a PXE installer erases and installs to. Read by the topology rules
// (what a bad value is) and by the installers' renderers (how each installer is told), so both
// agree on what a name means.
//
// Whole-disk names only. Linux names a partition by the disk's name plus a number ("sda1"), with
// "p" between when the disk's name ends in a digit ("nvme0n1p1", "mmcblk0p1"); udev's stable
// links name a partition "<disk link>-part<N>", and by-uuid/by-label/by-partuuid/by-partlabel name
// filesystems and partitions, never a disk (systemd rules.d/60-persistent-storage.rules.in @
// 0377c44b22dd2479fa68e328f42b25aa69723c8d: `.PART_SUFFIX="-part%n"`, the by-uuid/by-label links
// come from ID_FS_*). So a value is a kernel disk name `/dev/<name>`, or a link under
// /dev/disk/by-id/ or /dev/disk/by-path/ that does not end in -part<N>.

export type InstallDiskKind = 'kernel' | 'by-id' | 'by-path';

/** A kernel name of a partition: sda1, vdb2, xvda1, hda3; nvme0n1p1, mmcblk0p2, loop0p1. */
const PARTITION = /^(?:(?:s|v|xv|h)d[a-z]+[0-9]+|(?:nvme[0-9]+n[0-9]+|mmcblk[0-9]+|loop[0-9]+|md[0-9]+)p[0-9]+)$/;

export function installDiskKind(path: string): { kind: InstallDiskKind } | { why: string } {
  const segments = path.split('/').slice(2);
  if (segments.some((s) => s === '.' || s === '..')) return { why: 'not a plain path ("." or ".." in it)' };
  if (segments.length === 1) {
    if (PARTITION.test(segments[0]!)) return { why: 'a partition, not a whole disk' };
    return { kind: 'kernel' };
  }
  const [disk, dir, link] = segments;
  if (disk === 'disk' && (dir === 'by-id' || dir === 'by-path') && link !== undefined && segments.length === 3) {
    if (/-part[0-9]+$/.test(link)) return { why: 'a partition\'s link (-part<N>), not a whole disk\'s' };
    return { kind: dir };
  }
  if (disk === 'disk' && dir && /^by-(uuid|label|partuuid|partlabel)$/.test(dir)) return { why: `a ${dir.slice(3)} link, which names a filesystem or partition, not a disk` };
  return { why: 'neither a kernel disk name nor a /dev/disk/by-id or /dev/disk/by-path link' };
}
