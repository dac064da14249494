// hosts/<host>/user-data.gz: the host's user-data, gzip-compressed, for platforms that cap
// user-data below what a first-boot host's is (EC2: 16 KB). cloud-init unpacks gzip user-data
// from every datasource before it parses it (cloud-init 22.4 user_data.py convert_string:
// `bdata = util.decomp_gzip(bdata, decode=False)`, the same on upstream main), so the file is
// attached as it is, in place of user-data.
import { gzipSync } from 'node:zlib';
import { digestOf, sha256Hex, type ContentDigest } from '../../util/digest.js';
import type { HostSeed } from './seeds.js';

/** As ISO9660_FORMAT (iso9660.ts): part of every file's key; change it with any change to the bytes. */
export const GZIP_FORMAT = 'kubebake-gzip/1 level 9';

/** gzip at level 9 with header time 0 and no file name: the same text gives the same bytes (on one zlib build). */
export const gzipText = (text: string): Buffer => gzipSync(Buffer.from(text, 'utf8'), { level: 9 });

export const gzipUserData = (seed: HostSeed): Uint8Array => gzipText(seed.userData);

/** A digest of everything the file's bytes depend on. */
export const gzipKey = (seed: HostSeed, digest: ContentDigest = sha256Hex): string => digestOf([GZIP_FORMAT, digest(seed.userData)]);
