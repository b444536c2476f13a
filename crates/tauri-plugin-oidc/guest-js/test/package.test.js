// The npm package as published: what `npm pack` puts in it, and a strict TypeScript app that imports it
// (guest-js/test/consumer.ts) type-checked against the packed tarball, offline: the tarball is
// unpacked into a temporary app's node_modules, next to this folder's @tauri-apps/api (its peer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = join(root, 'node_modules/typescript/bin/tsc');

function pack(args) {
  const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', ...args], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out)[0];
}

test('npm pack holds the built API, its types and nothing else', () => {
  const files = pack(['--dry-run']).files.map((f) => f.path).sort();
  assert.deepEqual(files, ['README.md', 'dist-js/index.cjs', 'dist-js/index.d.ts', 'dist-js/index.js', 'package.json']);
});

// The tsconfig of a Vite + TypeScript app as create-tauri-app makes it, and a stricter Node-style one.
const configs = {
  vite: {
    target: 'ES2020', useDefineForClassFields: true, module: 'ESNext', lib: ['ES2020', 'DOM', 'DOM.Iterable'],
    skipLibCheck: true, moduleResolution: 'bundler', allowImportingTsExtensions: true, isolatedModules: true,
    moduleDetection: 'force', noEmit: true, strict: true, noUnusedLocals: true, noUnusedParameters: true,
    noFallthroughCasesInSwitch: true,
  },
  nodenext: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ESNext', 'DOM'],
    skipLibCheck: false, noEmit: true, strict: true, types: [],
  },
};

/** A temporary app with the packed package and consumer.ts; tsc's exit status and output. */
function typeCheck(tarball, config, { withoutTypes = false } = {}) {
  const app = mkdtempSync(join(tmpdir(), 'oidc-consumer-'));
  try {
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: config, include: ['src'] }));
    mkdirSync(join(app, 'src'));
    cpSync(join(root, 'guest-js/test/consumer.ts'), join(app, 'src/main.ts'));
    mkdirSync(join(app, 'node_modules/@tauri-apps'), { recursive: true });
    symlinkSync(join(root, 'node_modules/@tauri-apps/api'), join(app, 'node_modules/@tauri-apps/api'), 'dir');
    execFileSync('tar', ['-xzf', tarball, '-C', app]);
    cpSync(join(app, 'package'), join(app, 'node_modules/tauri-plugin-oidc-api'), { recursive: true });
    if (withoutTypes) rmSync(join(app, 'node_modules/tauri-plugin-oidc-api/dist-js/index.d.ts'));
    const run = spawnSync(process.execPath, [tsc, '-p', app], { encoding: 'utf8' });
    return { status: run.status, output: run.stdout + run.stderr };
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
}

test('a strict TypeScript app imports the packed package with its types', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-pack-'));
  try {
    const tarball = join(dir, pack(['--pack-destination', dir]).filename);
    for (const [name, config] of Object.entries(configs)) {
      await t.test(`tsconfig: ${name}`, () => {
        const { status, output } = typeCheck(tarball, config);
        assert.equal(status, 0, output);
      });
    }
    await t.test('the same app without the package\'s .d.ts does not type-check', () => {
      const { status, output } = typeCheck(tarball, configs.vite, { withoutTypes: true });
      assert.notEqual(status, 0);
      assert.match(output, /TS7016/, output);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
