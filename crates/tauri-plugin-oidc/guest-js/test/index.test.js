// The plugin's JavaScript API as published (dist-js/index.js, built from guest-js/index.ts), with the
// real `@tauri-apps/api/core` over a fake `window.__TAURI_INTERNALS__` standing in for IPC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from '../../dist-js/index.js';
import { installFake } from './fake-tauri.js';

test('each function calls its plugin command', async () => {
  const tauri = installFake({
    'plugin:oidc|get_state': { status: 'signed_out' },
    'plugin:oidc|sign_in': { status: 'waiting_for_browser' },
    'plugin:oidc|cancel_sign_in': { status: 'signed_out' },
    'plugin:oidc|sign_out': { status: 'signed_out' },
    'plugin:oidc|accounts': [],
    'plugin:oidc|switch_account': { status: 'signed_in' },
  });
  assert.equal((await oidc.getState()).status, 'signed_out');
  assert.equal((await oidc.signIn()).status, 'waiting_for_browser');
  await oidc.signIn('demo');
  await oidc.signIn({ acrValues: ['urn:okta:loa:2fa:any'], requireAcr: true, maxAge: 300 });
  await oidc.stepUp({ acr_values: ['urn:okta:loa:2fa:any'], max_age: 300 });
  await oidc.cancelSignIn();
  await oidc.signOut();
  await oidc.signOut({ allApps: true });
  await oidc.signIn({ addAccount: true, loginHint: 'alice@example.com' });
  assert.deepEqual(await oidc.accounts(), []);
  await oidc.switchAccount('alice@example.com');
  await oidc.signOut({ account: 'alice@example.com' });
  await oidc.signOut('0123456789abcdef');
  await oidc.signOut({ allAccounts: true });
  // `@tauri-apps/api`'s invoke sends `{}` for a command called without arguments.
  assert.deepEqual(tauri.calls, [
    ['plugin:oidc|get_state', {}],
    ['plugin:oidc|sign_in', {}],
    ['plugin:oidc|sign_in', { loginHint: 'demo' }],
    ['plugin:oidc|sign_in', { options: { acrValues: ['urn:okta:loa:2fa:any'], requireAcr: true, maxAge: 300 } }],
    ['plugin:oidc|sign_in', { stepUp: { acr_values: ['urn:okta:loa:2fa:any'], max_age: 300 } }],
    ['plugin:oidc|cancel_sign_in', {}],
    ['plugin:oidc|sign_out', {}],
    ['plugin:oidc|sign_out', { allApps: true }],
    ['plugin:oidc|sign_in', { options: { addAccount: true, loginHint: 'alice@example.com' } }],
    ['plugin:oidc|accounts', {}],
    ['plugin:oidc|switch_account', { id: 'alice@example.com' }],
    ['plugin:oidc|sign_out', { account: 'alice@example.com' }],
    ['plugin:oidc|sign_out', { account: '0123456789abcdef' }],
    ['plugin:oidc|sign_out', { allAccounts: true }],
  ]);
});

test('after a storage problem: try again, or start over', async () => {
  const tauri = installFake({
    'plugin:oidc|reopen_store': ({ startOver }) => ({ status: startOver ? 'signed_out' : 'storage_problem' }),
  });
  assert.equal((await oidc.retryStorage()).status, 'storage_problem');
  assert.equal((await oidc.startOver()).status, 'signed_out');
  assert.deepEqual(tauri.calls, [
    ['plugin:oidc|reopen_store', { startOver: false }],
    ['plugin:oidc|reopen_store', { startOver: true }],
  ]);
});

test('fetchApi sends only a path', async () => {
  const tauri = installFake({ 'plugin:oidc|fetch_api': ({ path }) => ({ status: 200, body: { path } }) });
  assert.deepEqual(await oidc.fetchApi('/api/messages'), { status: 200, body: { path: '/api/messages' } });
  await oidc.fetchApi('/api/whoami', { account: 'alice@example.com' });
  for (const bad of ['https://evil.example.com/', '//evil.example.com/x', 'api/messages', 42]) {
    await assert.rejects(oidc.fetchApi(bad), /start with a single/);
  }
  assert.deepEqual(tauri.calls[1], ['plugin:oidc|fetch_api', { path: '/api/whoami', account: 'alice@example.com' }]);
  assert.equal(tauri.calls.length, 2, 'bad paths never reach Rust');
});

test('subscribe hands Rust a channel and passes on what comes through it', async () => {
  const tauri = installFake({ 'plugin:oidc|subscribe': { status: 'signed_out' } });
  const seen = [];
  const current = await oidc.subscribe((state) => seen.push(state.status));
  assert.equal(current.status, 'signed_out');
  // What reaches Rust is a channel: serialized as `__CHANNEL__:<id>` of a registered callback.
  const { onState } = tauri.calls[0][1];
  const [id] = [...tauri.callbacks.keys()];
  assert.equal(JSON.stringify(onState), JSON.stringify(`__CHANNEL__:${id}`));
  // Rust's `Channel::send` calls that callback with the message and its index.
  tauri.callbacks.get(id)({ index: 0, message: { status: 'signed_in' } });
  tauri.callbacks.get(id)({ index: 1, message: { status: 'signed_out' } });
  assert.deepEqual(seen, ['signed_in', 'signed_out']);
});

test('errors come as { kind, message }', async () => {
  installFake({ 'plugin:oidc|sign_in': new Error('The sign-in service can\'t be reached right now.') });
  const error = await oidc.signIn().catch((e) => e);
  assert.equal(error.kind, 'network');
});

test('without a Tauri core it says so', () => {
  delete globalThis.window;
  assert.throws(() => oidc.getState(), /no Tauri core API/);
});
