// oidc-provider configured to behave like an Okta custom authorization server ("default"):
// Okta's route names, JWT access tokens for `api://default` with `cid`/`uid`/`scp`, refresh tokens for
// `offline_access` without `prompt=consent`, rotation of refresh tokens, RFC 9207 `iss` on every callback.
import { randomBytes } from 'node:crypto';
import Provider, { interactionPolicy } from 'oidc-provider';
import { createLocalJWKSet, decodeJwt, importJWK, jwtVerify, SignJWT } from 'jose';
import { page, escapeHtml, contentSecurityPolicy } from './pages.js';
import userinfoActions from 'oidc-provider/lib/actions/userinfo.js';
import revocationActions from 'oidc-provider/lib/actions/revocation.js';
import { logTokens } from './token-log.js';
import { readBody } from './form.js';
import { nativeSso, TOKEN_EXCHANGE } from './native-sso.js';
import { publicJwks } from './keys.js';
import introspectionActions from 'oidc-provider/lib/actions/introspection.js';

// `device_sso`: Native SSO (src/native-sso.js).
export const SCOPES = ['openid', 'profile', 'email', 'offline_access', 'device_sso'];

// Okta's authentication levels (`acr_values` on the authorize request, `acr` in the tokens).
export const ACR = {
  password: 'urn:okta:loa:1fa:pwd',
  secondFactor: 'urn:okta:loa:2fa:any',
};
export const ACR_VALUES = [
  'urn:okta:loa:1fa:any', ACR.password, ACR.secondFactor, 'urn:okta:loa:2fa:any:ifpossible', 'phr', 'phrh',
];

const isSecondFactor = (acr) => String(acr ?? '').startsWith('urn:okta:loa:2fa:');
const asked = (params) => String(params.acr_values ?? '').split(' ').filter(Boolean);

// True when the request asks for a second factor (dev/idp can always give one, so `ifpossible` too).
export function wantsSecondFactor(params) {
  return asked(params).some(isSecondFactor);
}

// The `acr` of a sign-in by password (and one-time code, with `otp`): as on Okta, the level asked for
// that it meets, else what it is. (Phishing-resistant levels, phr and phrh, are never met here.)
export function acrFor(params, { otp }) {
  const met = otp
    ? ['urn:okta:loa:1fa:any', ACR.secondFactor, 'urn:okta:loa:2fa:any:ifpossible']
    : ['urn:okta:loa:1fa:any', ACR.password];
  return asked(params).find((acr) => met.includes(acr)) ?? (otp ? ACR.secondFactor : ACR.password);
}

// oidc-provider's login prompt, plus Okta's step-up: a session signed in with a password only is
// asked for the second factor when the request wants one. `ignoreMaxAge` (a test option) drops the
// max_age check, as a provider that ignores max_age would.
function policy({ ignoreMaxAge }) {
  const prompts = interactionPolicy.base();
  const login = prompts.get('login');
  login.checks.add(new interactionPolicy.Check('second_factor', 'a second factor is required', (ctx) => {
    const { oidc } = ctx;
    return wantsSecondFactor(oidc.params) && oidc.session.accountId && !isSecondFactor(oidc.session.acr)
      ? interactionPolicy.Check.REQUEST_PROMPT
      : interactionPolicy.Check.NO_NEED_TO_PROMPT;
  }));
  if (ignoreMaxAge) login.checks.remove('max_age');
  return prompts;
}

const CLAIMS = {
  // How and when the user authenticated, in every ID token as on Okta (`amr` ["pwd"], ["pwd","otp"]).
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username', 'locale', 'zoneinfo', 'updated_at'],
  email: ['email', 'email_verified'],
};

// oidc-provider refuses its own audience-bound (JWT) access tokens at userinfo, revocation and introspection;
// Okta accepts them. Drop the middleware that refuses them. Fails loudly if an upgrade renames it.
function dropMiddleware(actions, name) {
  const index = actions.findIndex((fn) => fn.name === name);
  if (index === -1) throw new Error(`oidc-provider changed: middleware ${name} not found`);
  actions.splice(index, 1);
}
dropMiddleware(userinfoActions, 'validateAudience');
dropMiddleware(revocationActions, 'rejectStructuredTokens');
dropMiddleware(introspectionActions, 'rejectStructuredTokens');

export function createProvider({ issuer, config, jwks, accounts, targets, Adapter, cookieKeys }) {
  const { logoutSource, postLogoutSuccessSource, renderError } = pages(targets);
  const resourceServer = {
    scope: SCOPES.join(' '),
    audience: config.audience,
    accessTokenTTL: config.ttl.accessToken,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  };

  const provider = new Provider(issuer, {
    // The app, and the vendor's second app (Native SSO signs it in with the first one's session).
    clients: [
      { client_id: config.clientId, client_name: 'Local native app' },
      { client_id: config.sso.secondClientId, client_name: 'Local second app' },
    ].map((client) => ({
      ...client,
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: config.idTokenAlg,
      grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT, TOKEN_EXCHANGE],
      response_types: ['code'],
      redirect_uris: config.redirectUris,
      post_logout_redirect_uris: config.postLogoutRedirectUris,
      // Okta's "Require Demonstrating Proof of Possession (DPoP) header in token requests".
      dpop_bound_access_tokens: config.dpop === 'required',
    })),
    adapter: Adapter,
    jwks,
    cookies: { keys: cookieKeys },
    scopes: SCOPES,
    claims: CLAIMS,
    // Okta puts the profile claims of the granted scopes in the ID token as well as at userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    responseTypes: ['code'],
    routes: {
      authorization: '/v1/authorize',
      token: '/v1/token',
      userinfo: '/v1/userinfo',
      jwks: '/v1/keys',
      revocation: '/v1/revoke',
      end_session: '/v1/logout',
      pushed_authorization_request: '/v1/par',
      introspection: '/v1/introspect',
      // RFC 8628. Okta's verification page is at the org URL (`{org}/activate`): index.js serves this
      // one there too, and the device authorization answer names it there (activateAtTheOrgUrl).
      device_authorization: '/v1/device/authorize',
      code_verification: '/activate',
    },
    ttl: {
      AccessToken: config.ttl.accessToken,
      AuthorizationCode: config.ttl.authorizationCode,
      IdToken: config.ttl.idToken,
      RefreshToken: config.ttl.refreshToken,
      Grant: config.ttl.refreshToken,
      Session: config.ttl.session,
      Interaction: 600,
      DeviceCode: config.ttl.deviceCode,
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      // DPoP, with a nonce required at the token endpoint as Okta does (a first request is answered
      // 400 use_dpop_nonce with a DPoP-Nonce header).
      dPoP: {
        enabled: config.dpop !== 'off',
        nonceSecret: randomBytes(32),
        requireNonce: (ctx) => ctx.oidc?.route === 'token',
      },
      introspection: { enabled: true },
      // The Device Authorization Grant (RFC 8628), its pages styled like the sign-in page.
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource: deviceCodeInputSource,
        userCodeConfirmSource: deviceCodeConfirmSource,
        successSource: deviceSuccessSource,
      },
      pushedAuthorizationRequests: {
        enabled: config.par !== 'off',
        requirePushedAuthorizationRequests: config.par === 'required',
      },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => config.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== config.audience) throw new Provider.errors.InvalidTarget();
          return resourceServer;
        },
      },
    },
    formats: {
      customizers: {
        // Okta's access token claims: client id, user id and the granted scopes as an array.
        // How and when the user authenticated (`acr`, `auth_time`), from the code or refresh token the
        // access token is issued for, so an API can ask for a step-up (RFC 9470).
        jwt(ctx, token, jwt) {
          jwt.payload.cid = token.clientId;
          if (token.accountId) jwt.payload.uid = token.accountId;
          jwt.payload.scp = [...token.scopes];
          const source = ctx?.oidc?.entities?.AuthorizationCode ?? ctx?.oidc?.entities?.RefreshToken;
          if (source?.acr) jwt.payload.acr = source.acr;
          if (source?.authTime) jwt.payload.auth_time = source.authTime;
        },
      },
    },
    acrValues: ACR_VALUES,
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: policy({ ignoreMaxAge: config.test.ignoreMaxAge }),
    },
    findAccount: (_ctx, sub) => {
      const account = accounts.byId(sub);
      if (!account) return undefined;
      return { accountId: account.id, claims: () => ({ sub: account.id, ...account.claims }) };
    },
    renderError,
  });
  provider.proxy = false;
  acceptJwtAccessTokens(provider, jwks, new Adapter('AccessToken'));
  refreshTokenGracePeriod(provider, config.refreshTokenGrace);
  devicePollingInterval(provider, { ...config.device, ttl: config.ttl.deviceCode });
  activateAtTheOrgUrl(provider);
  nativeSso(provider, { jwks, config, Adapter });
  if (config.test.invalidRefreshedIdToken === 'signature') breakRefreshedIdTokens(provider);
  if (config.test.invalidRefreshedIdToken === 'iss') reissueRefreshedIdTokens(provider, jwks);
  if (config.test.userinfoSubject) lieAboutTheSubject(provider, config.test.userinfoSubject);
  if (config.test.userinfoDelayMs > 0) slowUserinfo(provider, config.test.userinfoDelayMs);
  if (config.test.refreshDelayMs > 0) slowRefresh(provider, config.test.refreshDelayMs);
  if (config.test.refreshTokenType) lieAboutTheTokenType(provider, config.test.refreshTokenType);
  if (config.test.tokenLog) logTokens(provider, config.test.tokenLog);
  return provider;
}

// Test option (IDP_TEST_USERINFO_DELAY_MS): userinfo answers late (a slow provider).
function slowUserinfo(provider, delayMs) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'userinfo') await new Promise((resolve) => setTimeout(resolve, delayMs));
  });
}

// Test option (IDP_TEST_REFRESH_DELAY_MS): a refresh answers late, after the refresh token was
// rotated (a slow provider; a client meanwhile may lose the means to save the answer).
function slowRefresh(provider, delayMs) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'refresh_token') {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  });
}

// Test option (IDP_TEST_REFRESH_TOKEN_TYPE): a refresh is answered (its tokens issued, the old refresh
// token rotated) with this token_type, as a provider that ignores the client's DPoP proof would.
function lieAboutTheTokenType(provider, tokenType) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'refresh_token' && ctx.body?.access_token) {
      ctx.body = { ...ctx.body, token_type: tokenType };
    }
  });
}

// Test option (IDP_TEST_USERINFO_SUB): userinfo answers for another subject than the ID token's.
function lieAboutTheSubject(provider, sub) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'userinfo' && ctx.body && typeof ctx.body === 'object') {
      ctx.body = { ...ctx.body, sub };
    }
  });
}

// The device authorization answer names the verification page at the org URL, as Okta's does.
function activateAtTheOrgUrl(provider) {
  const below = `${provider.issuer}/activate`;
  const atOrg = `${new URL(provider.issuer).origin}/activate`;
  const moved = (url) => (url?.startsWith(below) ? atOrg + url.slice(below.length) : url);
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'device_authorization' && ctx.body?.verification_uri) {
      ctx.body = {
        ...ctx.body,
        verification_uri: moved(ctx.body.verification_uri),
        verification_uri_complete: moved(ctx.body.verification_uri_complete),
      };
    }
  });
}

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// RFC 8628 §3.2/§3.5 as Okta does it: the device authorization answer says how often to poll
// (`interval`), and a client that polls a device code sooner than that is answered `slow_down`; its
// interval is then 5 s longer for every later poll (10 s after two, …). `pollLimit` (a test option) is the spacing enforced,
// when it differs from the one announced (a client can then be shown a `slow_down`); `expiresIn` (a test
// option) is the lifetime announced, when it differs from the codes' own.
function devicePollingInterval(provider, { interval, pollLimit, expiresIn, ttl }) {
  const polls = new Map(); // device code → { last poll (ms), slow_downs answered }
  provider.use(async (ctx, next) => {
    // Before routing (`ctx.oidc.route` is not known yet): the token endpoint by its path.
    const params = ctx.method === 'POST' && ctx.path === '/v1/token' && new URLSearchParams(await readBody(ctx.req));
    const code = params && params.get('grant_type') === DEVICE_CODE_GRANT && params.get('device_code');
    if (code) {
      if (!polls.has(code)) setTimeout(() => polls.delete(code), ttl * 1000).unref();
      const poll = polls.get(code) ?? { last: 0, slowDowns: 0 };
      const spacing = poll.slowDowns ? interval + 5 * poll.slowDowns : (pollLimit ?? interval);
      if (Date.now() - poll.last < spacing * 1000) {
        polls.set(code, { last: Date.now(), slowDowns: poll.slowDowns + 1 });
        provider.emit('grant.error', ctx, { error: 'slow_down' });
        ctx.status = 400;
        ctx.set('cache-control', 'no-store');
        ctx.body = { error: 'slow_down', error_description: 'you are polling too quickly; wait longer between requests' };
        return;
      }
    }
    await next();
    // A request refused for its DPoP nonce is retried at once with it (RFC 9449 §8): not a poll.
    if (code && ctx.body?.error !== 'use_dpop_nonce') {
      polls.set(code, { ...(polls.get(code) ?? { slowDowns: 0 }), last: Date.now() });
    }
    if (ctx.oidc?.route === 'device_authorization' && ctx.body?.device_code) {
      ctx.body = { ...ctx.body, interval, expires_in: expiresIn ?? ctx.body.expires_in };
    }
  });
}

// Okta's "grace period for token rotation": a refresh token that was just rotated is accepted once
// more for this many seconds (0: refused at once, and its grant revoked, as oidc-provider does).
function refreshTokenGracePeriod(provider, grace) {
  if (!grace) return;
  const reused = new Set();
  const find = provider.RefreshToken.find.bind(provider.RefreshToken);
  provider.RefreshToken.find = async function findWithGrace(...args) {
    const token = await find(...args);
    if (token?.consumed && !reused.has(token.jti) && Math.floor(Date.now() / 1000) - token.consumed <= grace) {
      reused.add(token.jti);
      token.consumed = undefined;
    }
    return token;
  };
}

// Test option (IDP_TEST_INVALID_REFRESHED_ID_TOKEN): the ID token of a refresh has a broken signature,
// as when a client cannot check it (a key set it cannot fetch during a key rotation).
function breakRefreshedIdTokens(provider) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'refresh_token' && ctx.body?.id_token) {
      const [header, payload, signature] = ctx.body.id_token.split('.');
      ctx.body = { ...ctx.body, id_token: `${header}.${payload}.${signature.slice(0, -8)}AAAAAAAA` };
    }
  });
}

// Test option (IDP_TEST_INVALID_REFRESHED_ID_TOKEN=iss): the ID token of a refresh is validly signed by
// this provider's key but names another issuer (the OpenID RP test
// oidcc-client-test-refresh-token-invalid-issuer).
function reissueRefreshedIdTokens(provider, jwks) {
  const [jwk] = jwks.keys;
  const key = importJWK(jwk, 'RS256');
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'refresh_token' && ctx.body?.id_token) {
      const claims = { ...decodeJwt(ctx.body.id_token), iss: 'https://attacker.example/oauth2/default' };
      const idToken = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).sign(await key);
      ctx.body = { ...ctx.body, id_token: idToken };
    }
  });
}

// JWT access tokens are not stored by oidc-provider, so its `AccessToken.find` cannot see them. Remember what
// each one was issued for (by `jti`, in the provider's storage, with its grant) and let `find` accept a JWT
// whose signature verifies with our keys. Revoking the token or its grant makes it unusable, as on Okta.
function acceptJwtAccessTokens(provider, jwks, issued) {
  const publicKeys = createLocalJWKSet(publicJwks(jwks));
  provider.on('access_token.issued', (token) => {
    if (token.format !== 'jwt') return;
    const payload = {};
    for (const key of provider.AccessToken.IN_PAYLOAD) {
      if (token[key] !== undefined) payload[key] = token[key];
    }
    issued.upsert(token.jti, payload, token.expiration);
  });
  provider.on('access_token.destroyed', (token) => issued.destroy(token.jti));

  const findStored = provider.AccessToken.find.bind(provider.AccessToken);
  provider.AccessToken.find = async function find(value, ...rest) {
    if (typeof value !== 'string' || value.split('.').length !== 3) return findStored(value, ...rest);
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(value, publicKeys, { issuer: provider.issuer, algorithms: ['RS256'] }));
    } catch {
      return undefined;
    }
    const stored = await issued.find(claims.jti);
    if (!stored) return undefined;
    return this.instantiate({ ...stored, iat: claims.iat, exp: claims.exp });
  };
}

// Okta signs out without asking: the confirmation form is submitted at once by a script that the page's
// Content-Security-Policy allows by its hash (a button stays for browsers without scripts).
const SUBMIT_LOGOUT = "document.getElementById('op.logoutForm').submit()";

// The device flow's pages (oidc-provider renders them through these), with the look of the sign-in page.
// The policy of every page of the provider is set by index.js.
async function deviceCodeInputSource(ctx, form, _out, err) {
  let message = '<p>Enter the code shown on your device.</p>';
  if (err?.name === 'AbortedError') message = '<p class="error" role="alert">The sign-in was cancelled. You can close this window.</p>';
  else if (err?.userCode || err?.name === 'NoCodeError') message = '<p class="error" role="alert">That code is not right, or has expired. Try again.</p>';
  else if (err) message = '<p class="error" role="alert">Something went wrong. Start again on your device.</p>';
  ctx.type = 'html';
  ctx.body = page('Activate a device', `<h1>Activate a device</h1>
${message}
${form}
<button class="primary" id="continue" type="submit" form="op.deviceInputForm">Next</button>`);
}

async function deviceCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
  ctx.type = 'html';
  ctx.body = page('Activate a device', `<h1>Activate a device</h1>
<p>Sign in to <strong>${escapeHtml(client.clientName ?? client.clientId)}</strong> on the device that shows this code:</p>
<p id="user-code" style="font-size:1.6em;text-align:center;letter-spacing:.1em"><code>${escapeHtml(userCode)}</code></p>
<p>If you did not start this, or the code differs, cancel.</p>
${form}
<button class="primary" id="continue" type="submit" form="op.deviceConfirmForm">Continue</button>
<button class="secondary" id="cancel" type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Cancel</button>`);
}

async function deviceSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Device activated', '<h1 id="device-activated">Device activated</h1><p>Go back to your device. You can close this window.</p>');
}

function pages(targets) {
  const html = (ctx, body, scripts = []) => {
    ctx.set('content-security-policy', contentSecurityPolicy(targets, scripts));
    ctx.set('x-frame-options', 'DENY');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.type = 'html';
    ctx.body = body;
  };
  return {
    async logoutSource(ctx, form) {
      html(ctx, page('Signing out', `<h1>Signing out…</h1>
${form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>')}
<button class="primary" type="submit" form="op.logoutForm">Continue</button>
<script>${SUBMIT_LOGOUT}</script>`), [SUBMIT_LOGOUT]);
    },
    async postLogoutSuccessSource(ctx) {
      html(ctx, page('Signed out', '<h1>Signed out</h1><p>You can close this window.</p>'));
    },
    async renderError(ctx, out) {
      html(ctx, page('Error', `<h1>Something went wrong</h1>
<p class="error">${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`));
    },
  };
}
