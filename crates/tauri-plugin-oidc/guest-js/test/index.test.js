// The plugin's JavaScript API, with a fake Tauri core standing in for IPC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from '../index.js';

function fakeCore(answers = {}) {
  const calls = [];
  const channels = [];
  class Channel {
    constructor() {
      this.onmessage = () => {};
      channels.push(this);
    }
  }
  return {
    calls,
    channels,
    Channel,
    invoke: async (command, args) => {
      calls.push([command, args]);
      const answer = answers[command];
      if (answer instanceof Error) throw { kind: 'network', message: answer.message };
      return typeof answer === 'function' ? answer(args) : answer;
    },
  };
}

test('each function calls its plugin command', async () => {
  const core = fakeCore({
    'plugin:oidc|get_state': { status: 'signed_out' },
    'plugin:oidc|sign_in': { status: 'waiting_for_browser' },
    'plugin:oidc|cancel_sign_in': { status: 'signed_out' },
    'plugin:oidc|sign_out': { status: 'signed_out' },
  });
  oidc.useCore(core);
  assert.equal((await oidc.getState()).status, 'signed_out');
  assert.equal((await oidc.signIn()).status, 'waiting_for_browser');
  await oidc.signIn('demo');
  await oidc.cancelSignIn();
  await oidc.signOut();
  assert.deepEqual(core.calls, [
    ['plugin:oidc|get_state', undefined],
    ['plugin:oidc|sign_in', {}],
    ['plugin:oidc|sign_in', { loginHint: 'demo' }],
    ['plugin:oidc|cancel_sign_in', undefined],
    ['plugin:oidc|sign_out', undefined],
  ]);
});

test('after a storage problem: try again, or start over', async () => {
  const core = fakeCore({ 'plugin:oidc|reopen_store': ({ startOver }) => ({ status: startOver ? 'signed_out' : 'storage_problem' }) });
  oidc.useCore(core);
  assert.equal((await oidc.retryStorage()).status, 'storage_problem');
  assert.equal((await oidc.startOver()).status, 'signed_out');
  assert.deepEqual(core.calls, [
    ['plugin:oidc|reopen_store', { startOver: false }],
    ['plugin:oidc|reopen_store', { startOver: true }],
  ]);
});

test('fetchApi sends only a path', async () => {
  const core = fakeCore({ 'plugin:oidc|fetch_api': ({ path }) => ({ status: 200, body: { path } }) });
  oidc.useCore(core);
  assert.deepEqual(await oidc.fetchApi('/api/messages'), { status: 200, body: { path: '/api/messages' } });
  for (const bad of ['https://evil.example.com/', '//evil.example.com/x', 'api/messages', 42]) {
    await assert.rejects(oidc.fetchApi(bad), /start with a single/);
  }
  assert.equal(core.calls.length, 1, 'bad paths never reach Rust');
});

test('subscribe hands Rust a channel and passes on what comes through it', async () => {
  const core = fakeCore({ 'plugin:oidc|subscribe': { status: 'signed_out' } });
  oidc.useCore(core);
  const seen = [];
  const current = await oidc.subscribe((state) => seen.push(state.status));
  assert.equal(current.status, 'signed_out');
  assert.equal(core.calls[0][1].onState, core.channels[0]);
  core.channels[0].onmessage({ status: 'signed_in' });
  assert.deepEqual(seen, ['signed_in']);
});

test('errors come as { kind, message }', async () => {
  oidc.useCore(fakeCore({ 'plugin:oidc|sign_in': new Error('The sign-in service can\'t be reached right now.') }));
  const error = await oidc.signIn().catch((e) => e);
  assert.equal(error.kind, 'network');
});

test('without a Tauri core it says so', () => {
  oidc.useCore(null);
  assert.throws(() => oidc.getState(), /no Tauri core API/);
});
