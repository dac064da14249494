/** Seconds of a Go duration as the topology schema allows it ("0", "24h", "2h30m", "90s"); undefined for "". */
export function durationSeconds(text: string): number | undefined {
  if (text === '0') return 0;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!m || text === '') return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}
