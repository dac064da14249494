// Which Packer kubebake uses and where it comes from. Constants only, so the CLI can show them
// in its help without loading the downloader (OpenPGP, zip) at start-up.

/**
 * The Packer version kubebake uses: the one place it is pinned. Cache, PATH and download all
 * require exactly this version (see locatePacker).
 */
export const PACKER_VERSION = '1.16.1';

/** HashiCorp's releases site; a mirror with the same layout can replace it. */
export const DEFAULT_RELEASES_URL = 'https://releases.hashicorp.com';

/** Environment variable naming a mirror of DEFAULT_RELEASES_URL (air-gapped sites). */
export const RELEASES_URL_ENV = 'KUBEBAKE_RELEASES_URL';
