// A fake of what a Tauri webview gives `@tauri-apps/api/core`: `window.__TAURI_INTERNALS__`, with the
// `invoke`, `transformCallback` and `unregisterCallback` that its `invoke` and `Channel` use. The
// plugin's built output runs unchanged against it, with the real `@tauri-apps/api` in between.

/**
 * @param {Record<string, unknown>} answers what each command answers: a value, a function of the
 *   arguments, or an Error (the command fails with `{ kind: 'network', message }`, as Rust's do)
 */
export function fakeInternals(answers = {}) {
  const calls = [];
  const callbacks = new Map();
  let nextId = 1;
  return {
    calls,
    callbacks,
    internals: {
      invoke: async (command, args) => {
        calls.push([command, args]);
        const answer = answers[command];
        if (answer instanceof Error) throw { kind: 'network', message: answer.message };
        return typeof answer === 'function' ? answer(args) : answer;
      },
      transformCallback: (callback) => {
        const id = nextId++;
        callbacks.set(id, callback);
        return id;
      },
      unregisterCallback: (id) => callbacks.delete(id),
    },
  };
}

/** Puts a fake in `window.__TAURI_INTERNALS__` of this process; returns it. */
export function installFake(answers) {
  const fake = fakeInternals(answers);
  globalThis.window = { __TAURI_INTERNALS__: fake.internals };
  return fake;
}
