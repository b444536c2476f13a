// The view's pure helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relativeTime, initials, claimText, storageText, storageProblemTitle, errorMessage } from '../format.js';

test('format helpers', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(relativeTime('2026-01-01T12:05:00Z', now), 'in 5 minutes');
  assert.equal(relativeTime('2026-01-01T11:58:00Z', now), '2 minutes ago');
  assert.equal(relativeTime('2026-01-01T12:00:20Z', now), 'in less than a minute');
  assert.equal(relativeTime('2026-01-01T13:00:00Z', now), 'in 1 hour');
  assert.equal(relativeTime('nonsense', now), 'unknown');
  assert.equal(initials('Demo User'), 'DU');
  assert.equal(initials('', 'x'), 'x');
  assert.equal(claimText(['a']), '["a"]');
  assert.match(claimText(1767268800), /2026-01-01T12:00:00Z/);
});

test('where tokens are kept, in words', () => {
  assert.match(storageText('keystore'), /in the system keychain/);
  assert.match(storageText('file'), /in a file only you can read/);
  assert.match(storageText(undefined), /unknown/);
});

test('a storage problem, titled by its kind', () => {
  assert.match(storageProblemTitle('keystore_unavailable'), /keyring is unavailable/);
  assert.match(storageProblemTitle('store_unreadable'), /can’t be read/);
});

test('errors in words', () => {
  assert.equal(errorMessage({ kind: 'network', message: 'Offline.' }), 'Offline.');
  assert.equal(errorMessage('plain'), 'plain');
  assert.equal(errorMessage(undefined), 'Something went wrong.');
});
