#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` (or `npm start`) produces dist/.
// CommonJS on purpose (bin/package.json): libuv sizes its thread pool once, when first used, and
// loading an ES module entry already uses it; only a CommonJS entry runs before that.
/* global process, require */
'use strict';
// sharp makes thumbnails on that pool (one slot per thumb_concurrency, the CPU count by default);
// eight more threads for files, so serving and fsyncs never wait behind image work. Workers
// started by --workers inherit the variable.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- import() would be too late
process.env.UV_THREADPOOL_SIZE ??= String(require('node:os').availableParallelism() + 8);
import('../dist/cli/main.js');
