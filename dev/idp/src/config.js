// Settings of the local identity provider, read once from the environment.
// Every knob has a default that matches a new Okta custom authorization server closely enough for development.
import { readFileSync } from 'node:fs';

function seconds(name, fallback, { zero = false } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || (value === 0 && !zero)) {
    throw new Error(`${name} must be a ${zero ? 'whole' : 'positive whole'} number of seconds, got "${raw}"`);
  }
  return value;
}

function choice(name, values, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!values.includes(raw)) throw new Error(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
  return raw;
}

function list(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return raw.split(/[\s,]+/).filter(Boolean);
}

export const DEFAULT_USERS = [
  {
    id: '00u1demo0000000000001',
    username: 'demo',
    password: 'demo',
    claims: {
      name: 'Demo User',
      given_name: 'Demo',
      family_name: 'User',
      preferred_username: 'demo@example.com',
      email: 'demo@example.com',
      email_verified: true,
      locale: 'en-US',
      zoneinfo: 'America/Los_Angeles',
    },
  },
  // A second user, to show that a step-up (or a second account) is someone else's.
  {
    id: '00u1alice000000000002',
    username: 'alice',
    password: 'alice',
    claims: {
      name: 'Alice Example',
      given_name: 'Alice',
      family_name: 'Example',
      preferred_username: 'alice@example.com',
      email: 'alice@example.com',
      email_verified: true,
      locale: 'en-US',
      zoneinfo: 'Europe/Paris',
    },
  },
];

// Extra users come from IDP_USERS_FILE: a JSON array of { id, username, password, claims }.
function users() {
  const file = process.env.IDP_USERS_FILE;
  if (!file) return DEFAULT_USERS;
  const extra = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(extra)) throw new Error(`${file} must hold a JSON array of users`);
  for (const user of extra) {
    for (const field of ['id', 'username', 'password']) {
      if (typeof user[field] !== 'string' || user[field] === '') {
        throw new Error(`${file}: every user needs a non-empty "${field}"`);
      }
    }
  }
  return [...DEFAULT_USERS, ...extra];
}

export function loadConfig() {
  const port = Number(process.env.PORT ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number (0 for a free one), got "${process.env.PORT}"`);
  }
  return {
    port,
    clientId: process.env.IDP_CLIENT_ID || '0oa1localnative0001',
    // Native SSO: the vendor's second app, and the apps that may exchange a device secret.
    sso: (() => {
      const secondClientId = process.env.IDP_SSO_CLIENT_ID || '0oa1localsecond0002';
      const clients = list('IDP_SSO_CLIENTS', [process.env.IDP_CLIENT_ID || '0oa1localnative0001', secondClientId]);
      // Rotate a device secret at each refresh of the sign-in that holds it (Okta does not).
      const rotateOnRefresh = choice('IDP_DEVICE_SECRET_ROTATION', ['off', 'on'], 'off') === 'on';
      return { secondClientId, clients, rotateOnRefresh };
    })(),
    redirectUris: list('IDP_REDIRECT_URIS', ['com.okta.example:/callback', 'http://127.0.0.1/callback']),
    postLogoutRedirectUris: list('IDP_POST_LOGOUT_REDIRECT_URIS', ['com.okta.example:/logout', 'http://127.0.0.1/logout']),
    // The app's initiate login URI (Okta: "Initiate login URI"); empty for none.
    initiateLoginUri: process.env.IDP_INITIATE_LOGIN_URI ?? 'com.okta.example:/login',
    audience: process.env.IDP_AUDIENCE || 'api://default',
    // Keys, grants and sessions survive a restart when kept in a folder (make run uses one).
    dataDir: process.env.IDP_DATA_DIR || undefined,
    keysFile: process.env.IDP_KEYS_FILE || undefined,
    // DPoP (RFC 9449): off, on (tokens bound when the client sends proofs), required (the client must).
    dpop: choice('IDP_DPOP', ['off', 'on', 'required'], 'on'),
    // How ID tokens are signed: RS256 (Okta's only choice) or EdDSA (Ed25519).
    idTokenAlg: choice('IDP_ID_TOKEN_ALG', ['RS256', 'EdDSA'], 'RS256'),
    // Pushed authorization requests (RFC 9126, Okta's /v1/par): off, on (offered), required (the only way).
    // Off unless asked (make run turns it on), so a test sees the whole request in the browser's URL.
    par: choice('IDP_PAR', ['off', 'on', 'required'], 'off'),
    // Okta's grace period for refresh token rotation (0–60 s, default 30).
    refreshTokenGrace: seconds('IDP_REFRESH_TOKEN_GRACE', 30, { zero: true }),
    readyFile: process.env.IDP_READY_FILE || undefined,
    // The one-time code of the second-factor page (a request with a urn:okta:loa:2fa:* acr_value).
    otpCode: process.env.IDP_OTP_CODE || '123456',
    // The Device Authorization Grant: how often a client polls (Okta: 5 s).
    device: {
      // 0 (no wait asked) only for tests of a client's own floor: Okta asks for 5 s.
      interval: seconds('IDP_DEVICE_INTERVAL', 5, { zero: true }),
      // Test option: the spacing enforced with `slow_down`, when not the interval announced.
      pollLimit: process.env.IDP_TEST_DEVICE_POLL_LIMIT ? seconds('IDP_TEST_DEVICE_POLL_LIMIT', 5) : undefined,
      // Test option: the `expires_in` announced, when not the codes' lifetime (IDP_DEVICE_CODE_TTL):
      // longer, a client polls past the expiry and is told `expired_token`; shorter, it stops first.
      expiresIn: process.env.IDP_TEST_DEVICE_EXPIRES_IN ? seconds('IDP_TEST_DEVICE_EXPIRES_IN', 600) : undefined,
    },
    ttl: {
      accessToken: seconds('IDP_ACCESS_TOKEN_TTL', 3600),
      idToken: seconds('IDP_ID_TOKEN_TTL', 3600),
      refreshToken: seconds('IDP_REFRESH_TOKEN_TTL', 7 * 24 * 3600),
      authorizationCode: seconds('IDP_CODE_TTL', 300),
      session: seconds('IDP_SESSION_TTL', 2 * 3600),
      // A device code (and its user code), as on Okta: 10 minutes.
      deviceCode: seconds('IDP_DEVICE_CODE_TTL', 600),
      // A Native SSO device secret (as long as a refresh token unless set).
      deviceSecret: seconds('IDP_DEVICE_SECRET_TTL', seconds('IDP_REFRESH_TOKEN_TTL', 7 * 24 * 3600)),
    },
    users: users(),
    // Options for tests only.
    test: {
      // `1` or `signature`: a broken signature; `iss`: validly signed, for another issuer.
      invalidRefreshedIdToken: { 1: 'signature', signature: 'signature', iss: 'iss' }[process.env.IDP_TEST_INVALID_REFRESHED_ID_TOKEN],
      userinfoSubject: process.env.IDP_TEST_USERINFO_SUB || undefined,
      userinfoDelayMs: Number(process.env.IDP_TEST_USERINFO_DELAY_MS ?? 0),
      refreshDelayMs: Number(process.env.IDP_TEST_REFRESH_DELAY_MS ?? 0),
      refreshTokenType: process.env.IDP_TEST_REFRESH_TOKEN_TYPE || undefined,
      // `1`: max_age is ignored (no new sign-in, an old auth_time), as a provider that does not honour it.
      ignoreMaxAge: process.env.IDP_TEST_IGNORE_MAX_AGE === '1',
      // `1`: a sign-in's ID token carries the ds_hash of another device secret than the one answered.
      wrongDsHash: process.env.IDP_TEST_WRONG_DS_HASH === '1',
      // A user id: Native SSO's token exchange answers for this user, whoever the device secret's is.
      exchangeSubject: process.env.IDP_TEST_EXCHANGE_SUBJECT || undefined,
      // One JSON line per refresh-token event, without token values (src/token-log.js).
      tokenLog: process.env.IDP_TEST_TOKEN_LOG || undefined,
    },
  };
}
