// The one root policy of the system tests (a setup file of the vitest project `system`): they
// really mount, unshare and create links, so they need root. In CI (CI or WORKSHOP_REQUIRE_ROOT set)
// a run without root fails loudly; elsewhere each file that needs root skips (`describe.skipIf(!isRoot)`)
// and this says why, once per file.
import { isRoot } from './workshop.ts';

if (!isRoot) {
  if (process.env['CI'] !== undefined || process.env['WORKSHOP_REQUIRE_ROOT'] !== undefined) {
    throw new Error('the system tests need root (they mount, unshare and create links): run them as root, e.g. sudo npm run test:system');
  }
  console.warn('system tests that need root are skipped: not running as root (run as root to run them)');
}
