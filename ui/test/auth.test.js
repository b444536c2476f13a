// The Rust bridge, with a fake `invoke` and `listen` standing in for Tauri's IPC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuth, errorMessage } from '../auth.js';
import { relativeTime, initials, claimText, storageText } from '../format.js';

function fakeTauri(answers = {}) {
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

test('each action calls its command', async () => {
  const fake = fakeTauri({
    auth_state: { status: 'signed_out', notice: null },
    sign_in: { status: 'waiting_for_browser' },
    cancel_sign_in: { status: 'signed_out', notice: null },
    sign_out: { status: 'signed_out', notice: null },
  });
  const auth = createAuth(fake);
  assert.equal((await auth.state()).status, 'signed_out');
  assert.equal((await auth.signIn()).status, 'waiting_for_browser');
  await auth.cancelSignIn();
  await auth.signOut();
  assert.deepEqual(fake.calls.map(([c]) => c), ['auth_state', 'sign_in', 'cancel_sign_in', 'sign_out']);
});

test('callApi sends only a path and returns status and body', async () => {
  const fake = fakeTauri({ call_api: ({ path }) => ({ status: 200, body: { path } }) });
  const auth = createAuth(fake);
  assert.deepEqual(await auth.callApi('/api/messages'), { status: 200, body: { path: '/api/messages' } });
  assert.deepEqual(fake.calls, [['call_api', { path: '/api/messages' }]]);
  for (const bad of ['https://evil.example.com/', '//evil.example.com/x', 'api/messages', 42]) {
    await assert.rejects(auth.callApi(bad), /start with a single/);
  }
  assert.equal(fake.calls.length, 1, 'bad paths never reach Rust');
});

test('subscribe hands Rust a channel and passes on what comes through it', async () => {
  const fake = fakeTauri({ subscribe: { status: 'signed_out', notice: null } });
  const seen = [];
  const current = await createAuth(fake).subscribe((state) => seen.push(state.status));
  assert.equal(current.status, 'signed_out');
  assert.equal(fake.calls[0][0], 'subscribe');
  assert.equal(fake.calls[0][1].onState, fake.channels[0]);
  fake.channels[0].onmessage({ status: 'signed_in' });
  assert.deepEqual(seen, ['signed_in']);
});

test('a sign-in request passes its login hint', async () => {
  const fake = fakeTauri({ sign_in: { status: 'waiting_for_browser' } });
  const auth = createAuth(fake);
  await auth.signIn();
  await auth.signIn('demo');
  assert.deepEqual(fake.calls.map(([, args]) => args), [{}, { loginHint: 'demo' }]);
});

test('command errors become a message', async () => {
  const auth = createAuth(fakeTauri({ sign_in: new Error('The sign-in service can\'t be reached right now.') }));
  const error = await auth.signIn().catch((e) => e);
  assert.equal(errorMessage(error), 'The sign-in service can\'t be reached right now.');
  assert.equal(errorMessage(undefined), 'Something went wrong.');
});

test('without Tauri, createAuth says so', () => {
  assert.throws(() => createAuth(), /inside the app/);
});

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
