// OpenID Connect Native SSO for Mobile Apps 1.0, as Okta does it (oidc-provider has none):
// - a sign-in granted the `device_sso` scope gets a `device_secret` in its token response, and its ID
//   token carries `ds_hash` (the secret's hash, like `at_hash`) and `sid` (the session both belong to);
// - another app of the vendor (a client in `sso.clients`) exchanges that ID token and the secret for
//   its own tokens at /v1/token (grant type token-exchange), with no browser; both tokens are required,
//   the ID token must be this provider's, of the secret's user and session (`sub`, `sid`, `ds_hash`);
// - revoking the secret at /v1/revoke (token_type_hint=device_secret) ends the exchange for everyone and
//   revokes every grant signed in with it (the first app's and each exchanged one), so each app's next
//   refresh fails.
import { createHash, randomBytes } from 'node:crypto';
import { compactVerify, createLocalJWKSet, decodeJwt, importJWK, SignJWT } from 'jose';
import { errors } from 'oidc-provider';
import * as grantHelpers from 'oidc-provider/lib/helpers/grants.js';
import { issueTokens } from 'oidc-provider/lib/helpers/grant_common.js';
import { readBody } from './form.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const DEVICE_SECRET_TYPE = 'urn:x-oath:params:oauth:token-type:device-secret';
const SIGN_IN_GRANTS = new Set(['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code']);

// `ds_hash` (and `at_hash`): the left half of the SHA-256 of the value, base64url.
export function halfHash(value) {
  return createHash('sha256').update(value).digest().subarray(0, 16).toString('base64url');
}

const key = (secret) => createHash('sha256').update(secret).digest('base64url');

export function nativeSso(provider, { jwks, config, Adapter }) {
  const secrets = new Adapter('DeviceSecret');
  const [jwk] = jwks.keys;
  let signingKey; // imported on first use

  const publicKeys = createLocalJWKSet({
    keys: jwks.keys.map(({ kty, n, e, kid, alg, use }) => ({ kty, n, e, kid, alg, use })),
  });
  const ttl = config.ttl.deviceSecret;

  // Forgets the secret and revokes every grant signed in with it.
  async function revokeSecret(secret) {
    const record = await secrets.find(key(secret));
    if (!record) return false;
    await secrets.destroy(key(secret));
    for (const grantId of record.grantIds) {
      await provider.AccessToken.adapter.revokeByGrantId(grantId);
      await provider.RefreshToken.adapter.revokeByGrantId(grantId);
      await provider.Grant.adapter.destroy(grantId);
    }
    return true;
  }

  provider.use(async (ctx, next) => {
    // Revocation of a device secret (oidc-provider knows no such token).
    if (ctx.method === 'POST' && ctx.path === '/v1/revoke') {
      const form = new URLSearchParams(await readBody(ctx.req));
      // By an app of the group only (public clients: the client id it says it is, as Okta takes it).
      if (form.get('token_type_hint') === 'device_secret' && config.sso.clients.includes(form.get('client_id'))
        && await revokeSecret(form.get('token') ?? '')) {
        ctx.status = 200;
        ctx.body = '';
        return;
      }
    }
    await next();
    // A sign-in granted device_sso: a new device secret, its hash and the session in the ID token.
    const { params } = ctx.oidc ?? {};
    const body = ctx.body;
    if (ctx.oidc?.route !== 'token' || !SIGN_IN_GRANTS.has(params?.grant_type) || !body?.id_token) return;
    if (!String(body.scope ?? '').split(' ').includes('device_sso')) return;
    const secret = randomBytes(32).toString('base64url');
    const claims = decodeJwt(body.id_token);
    const sid = claims.sid ?? randomBytes(16).toString('hex');
    const grantId = ctx.oidc.entities.Grant?.jti;
    const expiresAt = Math.floor(Date.now() / 1000) + ttl;
    await secrets.upsert(key(secret), { accountId: claims.sub, sid, grantIds: grantId ? [grantId] : [], expiresAt }, ttl);
    // Test option (IDP_TEST_WRONG_DS_HASH): the hash of another secret, as a mixed-up answer would carry.
    const dsHash = halfHash(config.test.wrongDsHash ? `${secret}x` : secret);
    const idToken = await new SignJWT({ ...claims, sid, ds_hash: dsHash })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
      .sign(await (signingKey ??= importJWK(jwk, 'RS256')));
    ctx.body = { ...body, id_token: idToken, device_secret: secret };
  });

  // The exchange: the vendor's other app gets its own tokens for the secret's user.
  provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
    const { InvalidGrant, InvalidRequest, InvalidTarget, UnauthorizedClient } = errors;
    const p = ctx.oidc.params;
    if (!config.sso.clients.includes(ctx.oidc.client.clientId)) {
      throw new UnauthorizedClient('this client is not in the Native SSO group');
    }
    for (const name of ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'audience']) {
      if (!p[name]) throw new InvalidRequest(`missing required parameter '${name}'`);
    }
    if (p.subject_token_type !== ID_TOKEN_TYPE) throw new InvalidRequest('subject_token_type must be an ID token');
    if (p.actor_token_type !== DEVICE_SECRET_TYPE) throw new InvalidRequest('actor_token_type must be a device secret');
    if (p.audience !== config.audience) throw new InvalidTarget('unknown audience');
    const record = await secrets.find(key(p.actor_token));
    if (!record) throw new InvalidGrant('the device secret is not valid (revoked or expired)');
    let claims;
    try {
      const { payload } = await compactVerify(p.subject_token, publicKeys);
      claims = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      throw new InvalidGrant('the subject token is not an ID token of this provider');
    }
    // Like Okta, an expired ID token is accepted: the device secret is what proves the sign-in.
    if (claims.iss !== provider.issuer || claims.sub !== record.accountId || claims.sid !== record.sid
      || claims.ds_hash !== halfHash(p.actor_token)) {
      throw new InvalidGrant('the ID token does not belong to this device secret');
    }
    const scope = [...new Set(['openid', ...String(p.scope ?? 'openid').split(' ').filter(Boolean)])]
      .filter((s) => s !== 'device_sso');
    const helpers = Object.fromEntries(Object.entries(grantHelpers).map(([n, h]) => [n, h.bind(undefined, provider)]));
    const dPoP = await helpers.validateDpop(ctx);
    helpers.checkDpopRequired(ctx, dPoP);
    // Test option (IDP_TEST_EXCHANGE_SUBJECT): the exchange answers for another user, as a mixed-up
    // provider would; the client must refuse it.
    const accountId = config.test.exchangeSubject ?? record.accountId;
    const grant = new provider.Grant({ accountId, clientId: ctx.oidc.client.clientId });
    grant.addOIDCScope(scope.join(' '));
    grant.addResourceScope(config.audience, scope.join(' '));
    const grantId = await grant.save();
    // The secret keeps the lifetime it was issued with.
    const left = (record.expiresAt ?? Math.floor(Date.now() / 1000) + ttl) - Math.floor(Date.now() / 1000);
    await secrets.upsert(key(p.actor_token), { ...record, grantIds: [...record.grantIds, grantId] }, Math.max(left, 1));
    ctx.oidc.entity('Grant', grant);
    const source = {
      accountId,
      grantId,
      scope: scope.join(' '),
      scopes: new Set(scope),
      claims: {},
      acr: claims.acr,
      amr: claims.amr,
      authTime: claims.auth_time,
      resource: config.audience,
      resourceIndicators: new Set([config.audience]),
    };
    await issueTokens(provider, helpers, ctx, source, grant, {
      gty: 'token_exchange', entityLabel: 'device secret', cert: undefined, dPoP,
    });
    ctx.body = { ...ctx.body, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' };
  }, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'audience', 'scope', 'requested_token_type']);
}
