// Checks that the committed build output (dist-js/ and api-iife.js, which the Rust build and the npm
// package use as they are) is what `npm run build` makes from guest-js/ now: builds into a temporary
// folder with the same rollup config and compares byte for byte.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = mkdtempSync(join(tmpdir(), 'tauri-plugin-oidc-build-'));
try {
  execFileSync(process.execPath, [join(root, 'node_modules/rollup/dist/bin/rollup'), '-c', '--silent'], {
    cwd: root,
    env: { ...process.env, OIDC_BUILD_DIR: out },
    stdio: 'inherit',
  });
  const built = ['api-iife.js', ...readdirSync(join(out, 'dist-js')).map((f) => `dist-js/${f}`)].sort();
  const committed = ['api-iife.js', ...readdirSync(join(root, 'dist-js')).map((f) => `dist-js/${f}`)].sort();
  const stale = [];
  for (const file of new Set([...built, ...committed])) {
    const a = join(root, file);
    const b = join(out, file);
    if (!existsSync(a) || !existsSync(b) || !readFileSync(a).equals(readFileSync(b))) stale.push(file);
  }
  if (stale.length) {
    console.error(
      `tauri-plugin-oidc: the committed build output is not what guest-js/ builds into: ${stale.join(', ')}.\n` +
        'Run `npm run build` in crates/tauri-plugin-oidc and commit dist-js/ and api-iife.js.',
    );
    process.exitCode = 1;
  } else {
    console.log(`tauri-plugin-oidc: dist-js/ and api-iife.js are up to date (${built.join(', ')}).`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
