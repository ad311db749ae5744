/**
 * The test runner and assertions for unit tests that live beside PURE code (src/core): they import
 * them from here, so that src/core itself names no `node:*` module (DESIGN convention 1, checked by
 * test/core-purity.test.ts and by the before-stop hook's grep).
 */
export { test, describe, before, after, beforeEach, afterEach } from 'node:test';
export { default as assert } from 'node:assert/strict';
