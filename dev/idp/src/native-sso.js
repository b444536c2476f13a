// OpenID Connect Native SSO for Mobile Apps 1.0, as Okta does it (oidc-provider has none):
// - a sign-in granted the `device_sso` scope gets a `device_secret` in its token response, and its ID
//   token carries `ds_hash` (the secret's hash, like `at_hash`) and `sid` (the session both belong to);
// - another app of the vendor (a client in `sso.clients`) exchanges that ID token and the secret for
//   its own tokens at /v1/token (grant type token-exchange), with no browser; both tokens are required,
//   the ID token must be this provider's, of the secret's user and session (`sub`, `sid`, `ds_hash`);
// - revoking the secret at /v1/revoke (token_type_hint=device_secret) ends the exchange for everyone and
//   revokes every grant signed in with it (the first app's and each exchanged one), so each app's next
//   refresh fails; as at Okta, a client may only revoke its own: the secret is revoked only when the
//   request's client_id is the one it was issued to (the answer is 200 either way);
// - with IDP_DEVICE_SECRET_ROTATION=on, a refresh of a sign-in that holds a device secret rotates it
//   (Native SSO 1.0 §3.4 allows it; Okta does not): the answer carries the new secret and an ID token
//   with its ds_hash, and the old secret is refused from then on.
import { createHash, randomBytes } from 'node:crypto';
import { compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import { errors } from 'oidc-provider';
import * as grantHelpers from 'oidc-provider/lib/helpers/grants.js';
import { issueTokens } from 'oidc-provider/lib/helpers/grant_common.js';
import { readBody } from './form.js';
import { publicJwks } from './keys.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const DEVICE_SECRET_TYPE = 'urn:x-oath:params:oauth:token-type:device-secret';
const SIGN_IN_GRANTS = new Set(['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code']);

// `ds_hash` (like `at_hash`): the left half of the value's hash, base64url; the hash of the ID token's
// `alg` (SHA-512 for EdDSA with Ed25519, as OpenID Connect Core's errata set 2 says).
export function halfHash(value, alg) {
  const hash = ['EdDSA', 'Ed25519'].includes(alg) ? 'sha512' : `sha${alg.slice(-3)}`;
  const digest = createHash(hash).update(value).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

const key = (secret) => createHash('sha256').update(secret).digest('base64url');

export function nativeSso(provider, { jwks, config, Adapter }) {
  const secrets = new Adapter('DeviceSecret');
  // The private key oidc-provider signed with (the header's `kid`), for the header's `alg`.
  const signingKey = ({ kid, alg }) => {
    const jwk = jwks.keys.find((candidate) => candidate.kid === kid);
    if (!jwk) throw new Error(`no signing key ${kid}`);
    return importJWK(jwk, alg);
  };
  const publicKeys = createLocalJWKSet(publicJwks(jwks));
  const ttl = config.ttl.deviceSecret;

  // Forgets the secret and revokes every grant signed in with it, when `clientId` is the client it
  // was issued to.
  async function revokeSecret(secret, clientId) {
    const record = await secrets.find(key(secret));
    // (A record kept by an earlier dev/idp in IDP_DATA_DIR names no client: any of the group's.)
    if (!record || (record.clientId ?? clientId) !== clientId) return false;
    await secrets.destroy(key(secret));
    for (const grantId of record.grantIds) {
      await provider.AccessToken.adapter.revokeByGrantId(grantId);
      await provider.RefreshToken.adapter.revokeByGrantId(grantId);
      await provider.Grant.adapter.destroy(grantId);
    }
    provider.emit('device_secret.revoked');
    return true;
  }

  // The secret a sign-in's grant holds (to rotate it at a refresh of that grant).
  const ofGrant = new Adapter('DeviceSecretOfGrant');

  // A new secret for `record` (its user, session and grants), in place of `previous` if any: saved with
  // the lifetime left (a whole one for a new sign-in), and the answer's ID token re-signed with its hash.
  async function issueSecret(body, record, previous) {
    const secret = randomBytes(32).toString('base64url');
    const left = record.expiresAt - Math.floor(Date.now() / 1000);
    await secrets.upsert(key(secret), record, Math.max(left, 1));
    for (const grantId of record.grantIds) await ofGrant.upsert(grantId, { key: key(secret) }, Math.max(left, 1));
    if (previous) await secrets.destroy(previous);
    // Signed again as oidc-provider signed it (the same key and algorithm).
    const header = decodeProtectedHeader(body.id_token);
    const { alg, kid } = header;
    // Test option (IDP_TEST_WRONG_DS_HASH): the hash of another secret, as a mixed-up answer would carry.
    const dsHash = halfHash(config.test.wrongDsHash ? `${secret}x` : secret, alg);
    const claims = decodeJwt(body.id_token);
    const idToken = await new SignJWT({ ...claims, sid: record.sid, ds_hash: dsHash })
      .setProtectedHeader({ alg, kid })
      .sign(await signingKey(header));
    return { ...body, id_token: idToken, device_secret: secret };
  }

  provider.use(async (ctx, next) => {
    // Revocation of a device secret (oidc-provider knows no such token).
    if (ctx.method === 'POST' && ctx.path === '/v1/revoke') {
      const form = new URLSearchParams(await readBody(ctx.req));
      // By an app of the group only (public clients: the client id it says it is, as Okta takes it).
      if (form.get('token_type_hint') === 'device_secret' && config.sso.clients.includes(form.get('client_id'))
        && await revokeSecret(form.get('token') ?? '', form.get('client_id'))) {
        ctx.status = 200;
        ctx.body = '';
        return;
      }
    }
    await next();
    const { params } = ctx.oidc ?? {};
    const body = ctx.body;
    if (ctx.oidc?.route !== 'token' || !body?.id_token) return;
    if (!String(body.scope ?? '').split(' ').includes('device_sso')) return;
    if (SIGN_IN_GRANTS.has(params?.grant_type)) {
      // A sign-in granted device_sso: a new device secret, its hash and the session in the ID token.
      const claims = decodeJwt(body.id_token);
      const grantId = ctx.oidc.entities.Grant?.jti;
      ctx.body = await issueSecret(body, {
        clientId: ctx.oidc.client.clientId,
        accountId: claims.sub,
        sid: claims.sid ?? randomBytes(16).toString('hex'),
        grantIds: grantId ? [grantId] : [],
        expiresAt: Math.floor(Date.now() / 1000) + ttl,
      });
    } else if (params?.grant_type === 'refresh_token' && config.sso.rotateOnRefresh) {
      const grantId = ctx.oidc.entities.RefreshToken?.grantId;
      const held = grantId && await ofGrant.find(grantId);
      const record = held && await secrets.find(held.key);
      if (record) ctx.body = await issueSecret(body, record, held.key);
    }
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
    let alg;
    try {
      const { payload, protectedHeader } = await compactVerify(p.subject_token, publicKeys);
      claims = JSON.parse(new TextDecoder().decode(payload));
      alg = protectedHeader.alg;
    } catch {
      throw new InvalidGrant('the subject token is not an ID token of this provider');
    }
    // Like Okta, an expired ID token is accepted: the device secret is what proves the sign-in.
    if (claims.iss !== provider.issuer || claims.sub !== record.accountId || claims.sid !== record.sid
      || claims.ds_hash !== halfHash(p.actor_token, alg)) {
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
