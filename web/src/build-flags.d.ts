/**
 * Set by scripts/build-web.mjs (esbuild `define`): true only in the test build (dist/web-test/)
 * that the browser tests drive, false in the production page (dist/web/), whose bundle then
 * carries no test hooks (hooks.ts) at all.
 */
declare const __UWSB_TEST_HOOKS__: boolean;
