if ('__TAURI__' in window) {
var __TAURI_PLUGIN_OIDC__ = (function (exports) {
    'use strict';

    /******************************************************************************
    Copyright (c) Microsoft Corporation.

    Permission to use, copy, modify, and/or distribute this software for any
    purpose with or without fee is hereby granted.

    THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH
    REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY
    AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT,
    INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM
    LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR
    OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR
    PERFORMANCE OF THIS SOFTWARE.
    ***************************************************************************** */
    /* global Reflect, Promise, SuppressedError, Symbol, Iterator */


    function __classPrivateFieldGet(receiver, state, kind, f) {
        if (kind === "a" && !f) throw new TypeError("Private accessor was defined without a getter");
        if (typeof state === "function" ? receiver !== state || !f : !state.has(receiver)) throw new TypeError("Cannot read private member from an object whose class did not declare it");
        return kind === "m" ? f : kind === "a" ? f.call(receiver) : f ? f.value : state.get(receiver);
    }

    function __classPrivateFieldSet(receiver, state, value, kind, f) {
        if (typeof state === "function" ? receiver !== state || true : !state.has(receiver)) throw new TypeError("Cannot write private member to an object whose class did not declare it");
        return (state.set(receiver, value)), value;
    }

    typeof SuppressedError === "function" ? SuppressedError : function (error, suppressed, message) {
        var e = new Error(message);
        return e.name = "SuppressedError", e.error = error, e.suppressed = suppressed, e;
    };

    // Copyright 2019-2024 Tauri Programme within The Commons Conservancy
    // SPDX-License-Identifier: Apache-2.0
    // SPDX-License-Identifier: MIT
    var _Channel_instances, _Channel_onmessage, _Channel_nextMessageIndex, _Channel_pendingMessages, _Channel_messageEndIndex, _Channel_deliver;
    /**
     * Invoke your custom commands.
     *
     * This package is also accessible with `window.__TAURI__.core` when [`app.withGlobalTauri`](https://v2.tauri.app/reference/config/#withglobaltauri) in `tauri.conf.json` is set to `true`.
     * @module
     */
    /**
     * A key to be used to implement a special function
     * on your types that define how your type should be serialized
     * when passing across the IPC.
     * @example
     * Given a type in Rust that looks like this
     * ```rs
     * #[derive(serde::Serialize, serde::Deserialize)
     * enum UserId {
     *   String(String),
     *   Number(u32),
     * }
     * ```
     * `UserId::String("id")` would be serialized into `{ String: "id" }`
     * and so we need to pass the same structure back to Rust
     * ```ts
     * import { SERIALIZE_TO_IPC_FN } from "@tauri-apps/api/core"
     *
     * class UserIdString {
     *   id
     *   constructor(id) {
     *     this.id = id
     *   }
     *
     *   [SERIALIZE_TO_IPC_FN]() {
     *     return { String: this.id }
     *   }
     * }
     *
     * class UserIdNumber {
     *   id
     *   constructor(id) {
     *     this.id = id
     *   }
     *
     *   [SERIALIZE_TO_IPC_FN]() {
     *     return { Number: this.id }
     *   }
     * }
     *
     * type UserId = UserIdString | UserIdNumber
     * ```
     *
     */
    // if this value changes, make sure to update it in:
    // 1. ipc.js
    // 2. process-ipc-message-fn.js
    const SERIALIZE_TO_IPC_FN = '__TAURI_TO_IPC_KEY__';
    /**
     * Stores the callback in a known location, and returns an identifier that can be passed to the backend.
     * The backend uses the identifier to `eval()` the callback.
     *
     * @return An unique identifier associated with the callback function.
     *
     * @since 1.0.0
     */
    function transformCallback(
    // TODO: Make this not optional in v3
    callback, once = false) {
        return window.__TAURI_INTERNALS__.transformCallback(callback, once);
    }
    /**
     * A message channel used to stream values from Rust to the frontend.
     *
     * A `Channel` is the JavaScript counterpart of [`tauri::ipc::Channel`](https://docs.rs/tauri/2/tauri/ipc/struct.Channel.html).
     * Pass an instance as a command argument and the Rust command can declare a
     * `tauri::ipc::Channel<T>` parameter with the same name; every value sent from
     * Rust is then delivered to {@linkcode Channel.onmessage}. Messages are delivered
     * in the order they were sent, even when they arrive out of order.
     *
     * The channel stays alive until the Rust `Channel` is dropped, so it can be used
     * for long-running work such as download progress or log streaming.
     *
     * Raw byte payloads are delivered to the frontend as an `ArrayBuffer` rather than
     * a JSON value, so declare the channel as `Channel<ArrayBuffer>` when the Rust
     * side sends `tauri::ipc::InvokeResponseBody::Raw` — for example through a
     * `Channel<tauri::ipc::Response>` whose values are built with
     * `tauri::ipc::Response::new(bytes)`.
     *
     * @example
     * ```typescript
     * import { Channel, invoke } from '@tauri-apps/api/core';
     *
     * const onEvent = new Channel<string>();
     * onEvent.onmessage = (message) => {
     *   console.log(`got download event ${message}`);
     * };
     *
     * await invoke('download', { url: 'https://tauri.app', onEvent });
     * ```
     *
     * The matching Rust command:
     * ```rust
     * #[tauri::command]
     * async fn download(url: String, on_event: tauri::ipc::Channel<String>) -> tauri::Result<()> {
     *   on_event.send("started".to_string())?;
     *   on_event.send("finished".to_string())?;
     *   Ok(())
     * }
     * ```
     *
     * @since 2.0.0
     */
    class Channel {
        constructor(onmessage) {
            _Channel_instances.add(this);
            _Channel_onmessage.set(this, void 0);
            // the index is used as a mechanism to preserve message order
            _Channel_nextMessageIndex.set(this, 0);
            _Channel_pendingMessages.set(this, []);
            _Channel_messageEndIndex.set(this, void 0);
            __classPrivateFieldSet(this, _Channel_onmessage, onmessage || (() => { }));
            this.id = transformCallback((rawMessage) => {
                const index = rawMessage.index;
                if ('end' in rawMessage) {
                    if (index == __classPrivateFieldGet(this, _Channel_nextMessageIndex, "f")) {
                        this.cleanupCallback();
                    }
                    else {
                        __classPrivateFieldSet(this, _Channel_messageEndIndex, index);
                    }
                    return;
                }
                const message = rawMessage.message;
                // Process the message if we're at the right order
                if (index == __classPrivateFieldGet(this, _Channel_nextMessageIndex, "f")) {
                    __classPrivateFieldGet(this, _Channel_instances, "m", _Channel_deliver).call(this, message);
                    __classPrivateFieldSet(this, _Channel_nextMessageIndex, __classPrivateFieldGet(this, _Channel_nextMessageIndex, "f") + 1);
                    // process pending messages
                    while (__classPrivateFieldGet(this, _Channel_nextMessageIndex, "f") in __classPrivateFieldGet(this, _Channel_pendingMessages, "f")) {
                        const message = __classPrivateFieldGet(this, _Channel_pendingMessages, "f")[__classPrivateFieldGet(this, _Channel_nextMessageIndex, "f")];
                        __classPrivateFieldGet(this, _Channel_instances, "m", _Channel_deliver).call(this, message);
                        // eslint-disable-next-line @typescript-eslint/no-array-delete
                        delete __classPrivateFieldGet(this, _Channel_pendingMessages, "f")[__classPrivateFieldGet(this, _Channel_nextMessageIndex, "f")];
                        __classPrivateFieldSet(this, _Channel_nextMessageIndex, __classPrivateFieldGet(this, _Channel_nextMessageIndex, "f") + 1);
                    }
                    if (__classPrivateFieldGet(this, _Channel_nextMessageIndex, "f") === __classPrivateFieldGet(this, _Channel_messageEndIndex, "f")) {
                        this.cleanupCallback();
                    }
                }
                // Queue the message if we're not
                else {
                    // eslint-disable-next-line security/detect-object-injection
                    __classPrivateFieldGet(this, _Channel_pendingMessages, "f")[index] = message;
                }
            });
        }
        cleanupCallback() {
            window.__TAURI_INTERNALS__.unregisterCallback(this.id);
        }
        /**
         * The handler called for every message sent by the Rust side of this channel.
         *
         * Assigning a new handler replaces the previous one; messages that arrived
         * before a handler was set are not replayed, so set it (or pass it to the
         * constructor) before sending the channel to the backend.
         */
        set onmessage(handler) {
            __classPrivateFieldSet(this, _Channel_onmessage, handler);
        }
        get onmessage() {
            return __classPrivateFieldGet(this, _Channel_onmessage, "f");
        }
        [(_Channel_onmessage = new WeakMap(), _Channel_nextMessageIndex = new WeakMap(), _Channel_pendingMessages = new WeakMap(), _Channel_messageEndIndex = new WeakMap(), _Channel_instances = new WeakSet(), _Channel_deliver = function _Channel_deliver(message) {
            try {
                __classPrivateFieldGet(this, _Channel_onmessage, "f").call(this, message);
            }
            catch (error) {
                // A throwing handler must not stall the channel: the message index would
                // never advance and every later message would stay queued. Rethrow
                // asynchronously so the error is still reported as uncaught.
                queueMicrotask(() => {
                    throw error;
                });
            }
        }, SERIALIZE_TO_IPC_FN)]() {
            return `__CHANNEL__:${this.id}`;
        }
        toJSON() {
            // eslint-disable-next-line security/detect-object-injection
            return this[SERIALIZE_TO_IPC_FN]();
        }
    }
    /**
     * Sends a message to the backend.
     * @example
     * ```typescript
     * import { invoke } from '@tauri-apps/api/core';
     * await invoke('login', { user: 'tauri', password: 'poiwe3h4r5ip3yrhtew9ty' });
     * ```
     *
     * @param cmd The command name.
     * @param args The optional arguments to pass to the command.
     * @param options The request options.
     * @return A promise resolving or rejecting to the backend response.
     *
     * @since 1.0.0
     */
    async function invoke(cmd, args = {}, options) {
        return window.__TAURI_INTERNALS__.invoke(cmd, args, options);
    }

    // tauri-plugin-oidc's JavaScript API. No function here ever sees a token: Rust keeps them, and answers
    // with states, the profile and API bodies. A bundled app imports these functions from
    // `tauri-plugin-oidc-api`; with `withGlobalTauri` the same functions are `window.__TAURI__.oidc`
    // (`api-iife.js`, made from this file by the same build).
    // Outside a Tauri webview `invoke` would fail on an undefined `__TAURI_INTERNALS__`; say so instead.
    function tauri() {
        const host = globalThis.window;
        if (!host?.__TAURI_INTERNALS__) {
            throw new Error('tauri-plugin-oidc: no Tauri core API (not in a Tauri webview).');
        }
    }
    /**
     * The current sign-in state.
     */
    function getState() {
        tauri();
        return invoke('plugin:oidc|get_state');
    }
    /**
     * Opens the sign-in page: the system browser on desktop, an authentication session on iOS and Android.
     * @param options the account to suggest (a string, from a sign-in request), or the sign-in's options
     */
    function signIn(options) {
        tauri();
        if (typeof options === 'string') {
            return invoke('plugin:oidc|sign_in', options ? { loginHint: options } : {});
        }
        return invoke('plugin:oidc|sign_in', options ? { options } : {});
    }
    /**
     * Signs the same user in again as an API asked (`step_up_required`: pass the error's `step_up`): the
     * levels it named required, its `max_age`. Another user coming back is refused (`different_user`) and
     * the session stays as it was; so it does when the user cancels. Call the API again once signed in.
     */
    function stepUp(stepUp) {
        tauri();
        return invoke('plugin:oidc|sign_in', { stepUp });
    }
    /**
     * Stops waiting for the browser.
     */
    function cancelSignIn() {
        tauri();
        return invoke('plugin:oidc|cancel_sign_in');
    }
    /**
     * Signs out at once (even offline); the tokens are revoked and the provider's session ended after.
     * Another account signed in on this device is then shown, if there is one.
     * @param options how, or an account (its id, email or subject) to sign out of, the others staying
     */
    function signOut(options = {}) {
        if (typeof options === 'string')
            options = { account: options };
        tauri();
        const args = {};
        if (options.allApps)
            args.allApps = true;
        if (options.allAccounts)
            args.allAccounts = true;
        if (options.account)
            args.account = options.account;
        return invoke('plugin:oidc|sign_out', Object.keys(args).length ? args : undefined);
    }
    /**
     * The accounts signed in on this device (no network request), the default one marked.
     */
    function accounts() {
        tauri();
        return invoke('plugin:oidc|accounts');
    }
    /**
     * Shows another account (its id, email or subject) and makes it the default; no sign-in needed.
     */
    function switchAccount(id) {
        tauri();
        return invoke('plugin:oidc|switch_account', { id });
    }
    /**
     * After a `storage_problem`: opens the session store again (once the keyring is unlocked, a permission
     * fixed, …). Resolves to the restored state, or the problem that remains.
     */
    function retryStorage() {
        tauri();
        return invoke('plugin:oidc|reopen_store', { startOver: false });
    }
    /**
     * After a `storage_problem` whose `start_over` is true: sets aside what could not be read (renamed,
     * never deleted) and opens a fresh store; the user signs in again.
     */
    function startOver() {
        tauri();
        return invoke('plugin:oidc|reopen_store', { startOver: true });
    }
    /**
     * GET a path of the configured API with the access token (refreshed when it has to be). An API that
     * needs a stronger or more recent sign-in rejects it with an {@link OidcError} of kind
     * `step_up_required` whose `step_up` goes to {@link stepUp}.
     * @param path an absolute path, `/api/messages`
     * @param options `account`: call as this account (its id, email or subject); default: the one shown
     */
    function fetchApi(path, options = {}) {
        if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
            return Promise.reject(new Error('API paths start with a single "/".'));
        }
        tauri();
        return invoke('plugin:oidc|fetch_api', options.account ? { path, account: options.account } : { path });
    }
    /**
     * Calls `onState` with every later state; resolves to the current one.
     */
    function subscribe(onState) {
        tauri();
        const channel = new Channel();
        channel.onmessage = onState;
        return invoke('plugin:oidc|subscribe', { onState: channel });
    }

    exports.accounts = accounts;
    exports.cancelSignIn = cancelSignIn;
    exports.fetchApi = fetchApi;
    exports.getState = getState;
    exports.retryStorage = retryStorage;
    exports.signIn = signIn;
    exports.signOut = signOut;
    exports.startOver = startOver;
    exports.stepUp = stepUp;
    exports.subscribe = subscribe;
    exports.switchAccount = switchAccount;

    return exports;

})({});
Object.defineProperty(window.__TAURI__, 'oidc', { value: __TAURI_PLUGIN_OIDC__ }) }
