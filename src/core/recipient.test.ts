import { describe, test, assert } from '../../test/helpers/unit.ts';
import { explainVerdict, recipientVerdict, type RecipientFacts } from './recipient.ts';

const none: RecipientFacts = { managed: true, user: null, group: false, contacts: 0 };
const user = (over: Partial<NonNullable<RecipientFacts['user']>> = {}): RecipientFacts => ({
  ...none,
  user: { kind: 'user', role: 'primary', state: 'active', accessEnabled: true, ...over },
});

describe('recipientVerdict (R61 recipient validation)', () => {
  test('R61 valid: active user primary and alias, active public folder, group', () => {
    assert.deepEqual(recipientVerdict(user()), { valid: true, reason: 'active_user' });
    assert.deepEqual(recipientVerdict(user({ role: 'alias' })), { valid: true, reason: 'active_user' });
    assert.deepEqual(recipientVerdict(user({ kind: 'public_folder' })), { valid: true, reason: 'active_public_folder' });
    assert.deepEqual(recipientVerdict({ ...none, group: true }), { valid: true, reason: 'group' });
  });

  test('R61 not valid: flagged, deactivated, access off, contact only, unknown, unmanaged, invalid', () => {
    assert.deepEqual(recipientVerdict(user({ state: 'pending_deletion', accessEnabled: false })), { valid: false, reason: 'pending_deletion' });
    assert.deepEqual(recipientVerdict(user({ state: 'deactivated', accessEnabled: false, role: 'alias' })), { valid: false, reason: 'deactivated' });
    assert.deepEqual(recipientVerdict(user({ accessEnabled: false })), { valid: false, reason: 'access_disabled' });
    assert.deepEqual(recipientVerdict({ ...none, contacts: 2 }), { valid: false, reason: 'contact_only' });
    assert.deepEqual(recipientVerdict(none), { valid: false, reason: 'unknown' });
    assert.deepEqual(recipientVerdict({ ...user(), managed: false }), { valid: false, reason: 'unmanaged_domain' });
    assert.deepEqual(recipientVerdict(null), { valid: false, reason: 'invalid_address' });
  });

  test('R61 a user holding an address a contact also shows is decided by the user (R13)', () => {
    assert.equal(recipientVerdict({ ...user(), contacts: 1 }).valid, true);
    assert.equal(recipientVerdict({ ...user({ state: 'pending_deletion' }), contacts: 1 }).reason, 'pending_deletion');
  });

  test('explainVerdict names the verdict and its reason', () => {
    assert.equal(explainVerdict({ valid: false, reason: 'contact_only' }), 'not valid: only a directory contact shows it; contacts are not recipients');
    assert.match(explainVerdict({ valid: true, reason: 'group' }), /^valid: a group/);
  });
});
