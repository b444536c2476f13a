// Test option (IDP_TEST_TOKEN_LOG=<file>): one JSON line per refresh-token event, appended to the file, for
// tests that must tell which refresh token was issued, rotated or refused, and when (the chaos test,
// crates/chaos). Never a token value: a token is named by the first 16 hex digits of its SHA-256.
//   {"t":<epoch ms>,"event":"issued","grant":<grant id>,"to":<hash>}          a sign-in (code exchange)
//   {"t":…,"event":"rotated","grant":…,"from":<hash>,"to":<hash>}            a refresh answered with a new token
//   {"t":…,"event":"refused","grant":…|null,"from":<hash>,"reason":<text>}   a refresh answered invalid_grant
//                                              (reason: `invalid_grant: refresh token already used`, …)
//   {"t":…,"event":"revoked","token":<hash>}                                  a revocation request
// A line is written before the answer is sent, so a client killed while waiting for it still shows.
import { appendFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

export const tokenHash = (value) => createHash('sha256').update(String(value)).digest('hex').slice(0, 16);

export function logTokens(provider, file) {
  const write = (event, fields) => {
    appendFileSync(file, `${JSON.stringify({ t: Date.now(), event, ...fields })}\n`);
  };
  // oidc-provider answers every refused grant `invalid_grant: grant request is invalid`; the reason
  // (`refresh token already used`, `refresh token not found`, …) is in the error it emits.
  const details = new WeakMap();
  provider.on('grant.error', (ctx, error) => details.set(ctx, error?.error_detail ?? error?.message));
  provider.use(async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    const params = ctx.oidc?.params ?? {};
    const entities = ctx.oidc?.entities ?? {};
    const grant = entities.Grant?.jti ?? entities.RefreshToken?.grantId ?? null;
    const body = ctx.body && typeof ctx.body === 'object' ? ctx.body : {};
    if (route === 'token' && params.grant_type === 'refresh_token' && params.refresh_token) {
      const from = tokenHash(params.refresh_token);
      if (body.refresh_token) write('rotated', { grant, from, to: tokenHash(body.refresh_token) });
      else if (body.error) write('refused', { grant, from, reason: `${body.error}: ${details.get(ctx) ?? body.error_description ?? ''}` });
    } else if (route === 'token' && params.grant_type === 'authorization_code' && body.refresh_token) {
      write('issued', { grant, to: tokenHash(body.refresh_token) });
    } else if (route === 'revocation' && params.token) {
      write('revoked', { token: tokenHash(params.token) });
    }
  });
}
