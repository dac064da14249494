// The exit codes live with the diagnostics (src/diagnostics/exit.ts), so that day-2 modules below
// the CLI (upgrade/apply.ts) return the same codes without importing the CLI.
export { EXIT, SIGNAL_EXIT } from '../diagnostics/exit.js';
