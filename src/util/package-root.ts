// Files kubebake ships beside its code (the vendored cloud-init schemas, the generated topology
// validator) are found from the package root. The same code runs from tsc's output
// (dist/src/verify/…) and from the CLI bundle (dist/cli/…), at different depths below dist/, so a
// path relative to a module's own file would hold in one of them only.

/** `relative` (to the package root) as a file: URL, from the dist/ this module runs in. */
export function packageFile(relative: string): URL {
  const url = new URL(import.meta.url);
  const at = url.pathname.lastIndexOf('/dist/');
  if (at < 0) throw new Error(`kubebake runs from ${url.pathname}, which is not inside a build folder dist/ (run npm run build)`);
  return new URL(relative, new URL(url.pathname.slice(0, at + 1), url));
}
