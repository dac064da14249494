/** Cases of test/bad/ that are valid but warn: they exist to show that --strict fails on them. */
export const WARNING_ONLY: readonly string[] = ['unused-override', 'kubernetes-eol', 'vip-single-lb', 'calico-old-kernel', 'debian-mirror-no-security', 'ssh-key-example', 'ssh-key-cut-short', 'debian-12-eol'];
