// Which Packer kubebake uses and where it comes from. Constants only, so the CLI can show them
// in its help without loading the downloader (OpenPGP, zip) at start-up.

/**
 * The Packer version kubebake uses: the one place it is pinned. Cache, PATH and download all
 * require exactly this version (see locatePacker). hashicorp/packer: tag v1.16.0 is commit
 * 856572ec8313eab942dce5bca8e623ce2171d7cb (2026-07-24), whose version/VERSION reads 1.16.0; it is
 * the newest tag in the stored repository (1.16.1, pinned before, has no tag there).
 */
export const PACKER_VERSION = '1.16.0';

/** HashiCorp's releases site; a mirror with the same layout can replace it. */
export const DEFAULT_RELEASES_URL = 'https://releases.hashicorp.com';

/** Environment variable naming a mirror of DEFAULT_RELEASES_URL (air-gapped sites). */
export const RELEASES_URL_ENV = 'KUBEBAKE_RELEASES_URL';
