// Builds the plugin's JavaScript API from guest-js/index.ts, as the official Tauri plugins do:
// - dist-js/index.js (ESM), dist-js/index.cjs (CJS) and dist-js/index.d.ts: the npm package, with
//   `@tauri-apps/api` left to the app (a peer dependency);
// - api-iife.js: the script build.rs hands to Tauri for apps with `withGlobalTauri`. It bundles
//   `@tauri-apps/api/core` (whose `invoke` and `Channel` talk to `window.__TAURI_INTERNALS__`) and sets
//   `window.__TAURI__.oidc` to every export.
// Both outputs are committed, so building the Rust crate never needs Node. OIDC_BUILD_DIR (used by
// scripts/check-built.js) builds into another folder instead of this one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const root = process.env.OIDC_BUILD_DIR ?? '.';
const input = 'guest-js/index.ts';
const globalName = '__TAURI_PLUGIN_OIDC__';

// A warning (an unresolved import, a type error reported by the TypeScript plugin) fails the build.
const onwarn = (warning) => {
  throw Object.assign(new Error(warning.message), warning);
};

export default [
  {
    input,
    output: [
      { file: join(root, pkg.exports.import), format: 'esm' },
      { file: join(root, pkg.exports.require), format: 'cjs' },
    ],
    plugins: [typescript({ declaration: true, declarationDir: join(root, 'dist-js') })],
    external: [/^@tauri-apps\/api(\/|$)/, ...Object.keys(pkg.peerDependencies ?? {})],
    onwarn,
  },
  {
    input,
    output: {
      file: join(root, 'api-iife.js'),
      format: 'iife',
      name: globalName,
      // Tauri runs this script only with `withGlobalTauri`, after its own global script made
      // `window.__TAURI__`; the check keeps it harmless anywhere else.
      banner: "if ('__TAURI__' in window) {",
      footer: `Object.defineProperty(window.__TAURI__, 'oidc', { value: ${globalName} }) }`,
    },
    plugins: [typescript(), nodeResolve()],
    onwarn,
  },
];
