#!/usr/bin/env node
// Thin launcher: the CLI is compiled and bundled into dist/cli/ by `npm install` (prepare) or `npm run build`.
import '../dist/cli/main.js';
