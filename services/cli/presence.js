#!/usr/bin/env node
// The `presence` bin (package.json "bin"): runs the CLI from its TypeScript source through tsx's
// CommonJS hook, in this process (signals and exit codes are the CLI's own, no child in between).
// Source rather than dist/: `npx presence …` then works from a clone right after `npm ci`, with
// no `make build` first (tsx is installed by `npm ci` with the dev dependencies, as for the tests).
'use strict';
require('tsx/cjs/api').register();
require('./main.ts');
