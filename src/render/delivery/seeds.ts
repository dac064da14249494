// What every delivery form carries: each host's three NoCloud files, exactly as rendered (the
// render hands them over with its tree: render/cloud-init/cluster.ts).

/** A host's NoCloud files. Its user-data is complete on its own (kubebake writes no vendor-data). */
export interface HostSeed { host: string; userData: string; metaData: string; networkConfig: string }

/**
 * The NoCloud file names, as cloud-init looks for them on a cidata volume or under a seed URL
 * (cloud-init 22.4 sources/DataSourceNoCloud.py: network-config and vendor-data are optional).
 */
export const SEED_FILES = ['user-data', 'meta-data', 'network-config'] as const;
export type SeedFile = (typeof SEED_FILES)[number];

/**
 * user-data holds join material (and a control plane's keys): every copy of it is 0600, in
 * whatever form it travels.
 */
export const SEED_MODES: Record<SeedFile, number> = { 'user-data': 0o600, 'meta-data': 0o644, 'network-config': 0o644 };

const FIELD: Record<SeedFile, keyof Omit<HostSeed, 'host'>> = { 'user-data': 'userData', 'meta-data': 'metaData', 'network-config': 'networkConfig' };

export const seedContent = (seed: HostSeed, file: SeedFile): string => seed[FIELD[file]];

/**
 * Every timestamp inside an ISO or tar kubebake writes: a fixed instant, so the same files give
 * the same bytes on every render (the date itself means nothing).
 */
export const DELIVERY_EPOCH = new Date('2000-01-01T00:00:00Z');
