// The three builds export the same API: dist-js/index.js (ESM), dist-js/index.cjs (CJS), and the global
// script api-iife.js that build.rs hands to Tauri, run here as a webview would run it: a script in a
// window whose `__TAURI__` (Tauri's own global script) and `__TAURI_INTERNALS__` already exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import * as esm from '../../dist-js/index.js';
import { fakeInternals } from './fake-tauri.js';

const script = readFileSync(new URL('../../api-iife.js', import.meta.url), 'utf8');
const exported = Object.keys(esm).sort();

/** A fresh window (a vm context whose global is `window`) that has run api-iife.js. */
function webview({ answers, withGlobalTauri = true } = {}) {
  const fake = fakeInternals(answers);
  const window = vm.createContext({});
  window.window = window;
  window.__TAURI_INTERNALS__ = fake.internals;
  if (withGlobalTauri) window.__TAURI__ = { core: {} };
  vm.runInContext(script, window, { filename: 'api-iife.js' });
  return { window, ...fake };
}

test('the package exports the eleven functions, in ESM and in CJS alike', () => {
  assert.deepEqual(exported, [
    'accounts', 'cancelSignIn', 'fetchApi', 'getState', 'retryStorage', 'signIn', 'signOut', 'startOver',
    'stepUp', 'subscribe', 'switchAccount',
  ]);
  const cjs = createRequire(import.meta.url)('../../dist-js/index.cjs');
  assert.deepEqual(Object.keys(cjs).sort(), exported);
  for (const name of exported) assert.equal(typeof cjs[name], 'function', name);
});

test('window.__TAURI__.oidc has every export of the package', () => {
  const { window } = webview();
  const oidc = window.__TAURI__.oidc;
  assert.deepEqual(Object.keys(oidc).sort(), exported);
  for (const name of exported) assert.equal(typeof oidc[name], 'function', name);
  assert.ok(window.__TAURI__.core, "Tauri's own global API stays");
});

test('window.__TAURI__.oidc calls the plugin through __TAURI_INTERNALS__', async () => {
  const { window, calls, callbacks } = webview({
    answers: { 'plugin:oidc|get_state': { status: 'signed_out' }, 'plugin:oidc|subscribe': { status: 'restoring' } },
  });
  const { getState, subscribe, fetchApi } = window.__TAURI__.oidc;
  assert.equal((await getState()).status, 'signed_out');
  const seen = [];
  assert.equal((await subscribe((state) => seen.push(state.status))).status, 'restoring');
  const [id] = [...callbacks.keys()];
  callbacks.get(id)({ index: 0, message: { status: 'signed_in' } });
  assert.deepEqual(seen, ['signed_in']);
  await assert.rejects(fetchApi('//evil.example.com/'), /start with a single/);
  assert.deepEqual(
    calls.map(([command, args]) => [command, JSON.parse(JSON.stringify(args))]),
    [['plugin:oidc|get_state', {}], ['plugin:oidc|subscribe', { onState: `__CHANNEL__:${id}` }]],
  );
});

test('without withGlobalTauri (no window.__TAURI__) the script does nothing', () => {
  const { window } = webview({ withGlobalTauri: false });
  assert.equal(window.__TAURI__, undefined);
});
