// Writes the seed corpora (seeds/<target>/*): a few realistic inputs per fuzz target, signed with the
// test keys the targets trust (native-oidc's tests/fixtures/key1.pem, and the DPoP test key below,
// made for these seeds only). Run from anywhere: `node crates/fuzz/make-seeds.mjs`. The values must stay
// those of src/lib.rs.
import { createHash, createPrivateKey, sign } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "../native-oidc/tests/fixtures");
const ISSUER = "https://idp.example.com/oauth2/default";
const CLIENT_ID = "0oa1localnative0001";
const NONCE = "n-0S6_WzA2Mj";
const ACCESS_TOKEN = "eyJraWQiOiJrZXkxIn0.eyJzdWIiOiIwMHUxIiwiY2lkIjoiMG9hMSJ9.YWNjZXNzLXRva2VuLXNpZ25hdHVyZQ";
const API_URL = "https://api.example.com/api/messages";
const NOW = 1800000000;
const DPOP_KEY = {
  kty: "EC", crv: "P-256",
  x: "crI-A-U3W0I5rxtbs-gKByhKIhNKpBUvH9Qm4y7k80c",
  y: "yZAxAGstSvSrJOamRlZ5dm3W4EoszvW_aHpXx-XDioQ",
  d: "BfbD94671pMTbEqknakRx-ap5uFKgyHatpCHRqgWmrc",
};

const b64 = (data) => Buffer.from(data).toString("base64url");
const json = (value) => b64(JSON.stringify(value));
const rsa = createPrivateKey(readFileSync(join(fixtures, "key1.pem")));
const ec = createPrivateKey({ key: DPOP_KEY, format: "jwk" });

function jwt(header, claims, key, options) {
  const input = `${json(header)}.${json(claims)}`;
  return `${input}.${b64(sign("sha256", Buffer.from(input), options ? { key, ...options } : key))}`;
}
const atHash = b64(createHash("sha256").update(ACCESS_TOKEN).digest().subarray(0, 16));
const idClaims = {
  iss: ISSUER, aud: CLIENT_ID, sub: "00u1demo", iat: 1700000000, exp: 4100000000, nonce: NONCE,
  at_hash: atHash, name: "Demo User", email: "demo@example.com", auth_time: 1700000000,
};
const idToken = jwt({ alg: "RS256", kid: "key1", typ: "JWT" }, idClaims, rsa);
const idTokenTwoAudiences = jwt({ alg: "RS256", kid: "key1" },
  { ...idClaims, aud: [CLIENT_ID, "api://default"], azp: CLIENT_ID }, rsa);
const publicJwk = { kty: "EC", crv: "P-256", x: DPOP_KEY.x, y: DPOP_KEY.y };
const ath = b64(createHash("sha256").update(ACCESS_TOKEN).digest());
const proof = (claims) => jwt({ typ: "dpop+jwt", alg: "ES256", jwk: publicJwk },
  { htm: "GET", htu: API_URL, iat: NOW, jti: "e1j3V_bKic8-LAEB", ath, ...claims }, ec,
  { dsaEncoding: "ieee-p1363" });
const refreshToken = "8xLOxBtZp8-rFg3ubFbmnRNNkJwE0H6XqVJ4r0Rt2Qw";
const key1 = JSON.parse(readFileSync(join(fixtures, "key1.jwk.json"), "utf8"));
const key2 = JSON.parse(readFileSync(join(fixtures, "key2.jwk.json"), "utf8"));
const pkce = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

const session = {
  issuer: ISSUER, client_id: CLIENT_ID, subject: "00u1demo", access_token: ACCESS_TOKEN,
  issued_at: "2026-12-01T21:00:00Z", expires_at: "2026-12-01T22:00:00Z", refresh_token: refreshToken,
  id_token: idToken, nonce: NONCE, post_logout_redirect_uri: "com.okta.example:/logout",
  scopes: ["openid", "profile", "email", "offline_access"],
  claims: { ...idClaims, aud: [CLIENT_ID] },
  profile: { sub: "00u1demo", name: "Demo User", email: "demo@example.com", email_verified: true },
};
const DEVICE_SECRET = "ds-1e7d3a0c5b9f4e2a8d6c";
const ssoItem = {
  issuer: ISSUER, subject: "00u1demo", saved_at: "2026-12-01T21:00:00Z", issued_to: CLIENT_ID,
  id_token: idToken, device_secret: DEVICE_SECRET,
};
const pendingOne = {
  state: "af0ifjsldkj-Qw9x", nonce: NONCE, pkce_verifier: pkce, issuer: ISSUER, client_id: CLIENT_ID,
  redirect_uri: "com.okta.example:/callback", scopes: ["openid", "profile", "offline_access"],
  expires_at: "2026-12-01T21:10:00Z",
};

const seeds = {
  callback: {
    "code.txt": `com.okta.example:/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj-Qw9x&iss=${encodeURIComponent(ISSUER)}`,
    "error.txt": "com.okta.example:/callback?error=access_denied&error_description=User%20cancelled&state=af0ifjsldkj-Qw9x",
    "repeated.txt": "com.okta.example:/callback?state=a&code=b&state=c",
    "other-path.txt": "com.okta.example:/logout?state=af0ifjsldkj-Qw9x",
    "escape.txt": "com.okta.example:/callback?error=x&error_description=%1B%5D52%3Bc%3BZXZpbA%3D%3D%07",
  },
  token_response: {
    "bearer.json": JSON.stringify({ token_type: "Bearer", expires_in: 3600, access_token: ACCESS_TOKEN,
      scope: "openid profile email offline_access", refresh_token: refreshToken, id_token: idToken }),
    "dpop.json": JSON.stringify({ token_type: "DPoP", expires_in: 3600, access_token: ACCESS_TOKEN,
      scope: "openid", refresh_token: refreshToken, id_token: idToken }),
    "no-id-token.json": JSON.stringify({ token_type: "bearer", access_token: ACCESS_TOKEN }),
    "invalid-grant.json": JSON.stringify({ error: "invalid_grant",
      error_description: "The refresh token is invalid or expired." }),
    "use-dpop-nonce.json": JSON.stringify({ error: "use_dpop_nonce",
      error_description: "Authorization server requires nonce in DPoP proof." }),
    // Found in CI: a lifetime past the last date chrono can hold panicked.
    "expires-in-past-the-last-date.json": JSON.stringify({ token_type: "DPoP", expires_in: 355555555565050,
      access_token: "eyJraWQiOiJrZXkxIn0.eyJzdWIiOiI0IkDchd1JmbY7BYLe7tmCtQt4WjX_sp1ic56Laccs_intokNw8fAQq7naYdMLKXi3Ob1kBNUqfok4ZRXDh0yos4hKL5txn9F3Uw" }),
  },
  device_authorization: {
    "okta.json": JSON.stringify({ device_code: "1a521d9f-0922-4e6d-8db9-8b654297435a", user_code: "GDLMZQCT",
      verification_uri: "https://idp.example.com/activate",
      verification_uri_complete: "https://idp.example.com/activate?user_code=GDLMZQCT",
      expires_in: 600, interval: 5 }),
    "no-interval.json": JSON.stringify({ device_code: "d-2", user_code: "WDJB-MJHT",
      verification_uri: "http://127.0.0.1:8080/device", expires_in: 1800 }),
    // u64::MAX, written by hand (a JavaScript number cannot hold it): overflowed oauth2's slow_down.
    "interval-too-long.json": '{"device_code":"d-3","user_code":"U","expires_in":600,' +
      '"verification_uri":"https://idp.example.com/activate","interval":18446744073709551615}',
    "not-https.json": JSON.stringify({ device_code: "d-4", user_code: "U", expires_in: 600,
      verification_uri: "javascript:alert(1)", interval: 5 }),
  },
  discovery: {
    "okta.json": JSON.stringify({ issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/v1/authorize`, token_endpoint: `${ISSUER}/v1/token`,
      userinfo_endpoint: `${ISSUER}/v1/userinfo`, jwks_uri: `${ISSUER}/v1/keys`,
      revocation_endpoint: `${ISSUER}/v1/revoke`, end_session_endpoint: `${ISSUER}/v1/logout`,
      pushed_authorization_request_endpoint: `${ISSUER}/v1/par`,
      device_authorization_endpoint: `${ISSUER}/v1/device/authorize`,
      response_types_supported: ["code"], subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"], scopes_supported: ["openid", "profile", "device_sso"],
      dpop_signing_alg_values_supported: ["ES256"], authorization_response_iss_parameter_supported: true }),
    "other-issuer.json": JSON.stringify({ issuer: "https://evil.example.com",
      authorization_endpoint: `${ISSUER}/v1/authorize`, jwks_uri: `${ISSUER}/v1/keys`,
      response_types_supported: ["code"], subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"] }),
    "token-endpoint-not-https.json": JSON.stringify({ issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/v1/authorize`, token_endpoint: "http://evil.example.com/token",
      jwks_uri: `${ISSUER}/v1/keys`, response_types_supported: ["code"],
      subject_types_supported: ["public"], id_token_signing_alg_values_supported: ["RS256"] }),
  },
  userinfo: {
    "okta.json": JSON.stringify({ sub: "00u1demo", name: "Demo User", email: "demo@example.com",
      email_verified: true, preferred_username: "demo@example.com", zoneinfo: "America/Los_Angeles",
      locale: "en-US", updated_at: NOW }),
    "other-user.json": JSON.stringify({ sub: "00u2alice", name: "Alice" }),
    "hostile-name.json": JSON.stringify({ sub: "00u1demo", name: "Eve\u001b]52;c;Y3VybA==\u0007\u202e" }),
    "sub-not-a-string.json": JSON.stringify({ sub: 7 }),
  },
  id_token: {
    "valid.txt": idToken,
    "two-audiences.txt": idTokenTwoAudiences,
    "other-issuer.txt": jwt({ alg: "RS256", kid: "key1" }, { ...idClaims, iss: "https://evil.example.com" }, rsa),
    "alg-none.txt": `${json({ alg: "none" })}.${json(idClaims)}.`,
    "unknown-kid.txt": jwt({ alg: "RS256", kid: "key9" }, idClaims, rsa),
  },
  jwks: {
    "one-key.json": JSON.stringify({ keys: [key1] }),
    "two-keys.json": JSON.stringify({ keys: [key1, key2] }),
    "ec-and-rsa.json": JSON.stringify({ keys: [{ ...publicJwk, kid: "ec1", use: "sig", alg: "ES256" }, key1] }),
    "unknown-kty.json": JSON.stringify({ keys: [{ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }] }),
  },
  dpop_proof: {
    "valid.txt": proof({}),
    "wrong-htu.txt": proof({ htu: "http://127.0.0.1:9001/api/messages" }),
    "with-nonce.txt": proof({ nonce: "api-nonce-1" }),
    // An unknown alg quoted in the error: it used to carry the ESC into the demo API's log.
    "escape-alg.txt": `${json({ typ: "dpop+jwt", alg: "\u001b]52;c;eA==\u0007" })}.e30.c2ln`,
    "private-key.txt": jwt({ typ: "dpop+jwt", alg: "ES256", jwk: DPOP_KEY },
      { htm: "GET", htu: API_URL, iat: NOW, jti: "x", ath }, ec, { dsaEncoding: "ieee-p1363" }),
  },
  www_authenticate: {
    "bearer.txt": 'nonce-1\nBearer error="invalid_token", error_description="The access token expired"',
    "dpop-nonce.txt": 'eyJ7S_zG.mJtrEd\nDPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
    "two-challenges.txt": '\nBearer realm="api"\nDPoP algs="ES256", error="invalid_token"',
    "scope.txt": 'n\nBearer error="insufficient_scope", scope="profile"',
  },
  config: {
    "okta.json": JSON.stringify({ issuer: "https://dev-123456.okta.com/oauth2/default",
      clientId: "0oa1bcdefghIJKLMN357", redirectUri: "com.okta.example:/callback",
      logoutRedirectUri: "com.okta.example:/logout", scopes: "openid profile email offline_access",
      apiBaseUrl: "https://api.example.com/", tokenStorage: "auto" }, null, 2),
    "local.json": JSON.stringify({ issuer: "http://127.0.0.1:9000/oauth2/default", clientId: CLIENT_ID,
      redirectUri: "http://127.0.0.1/callback", scopes: ["openid", "profile"], dpop: true }),
    "insecure.json": JSON.stringify({ issuer: "http://idp.example.com/oauth2/default", clientId: "x",
      redirectUri: "https://app.example.com/callback" }),
    // The app's settings for a local provider and API (`make run`), allowed in a release build.
    "app-loopback.json": JSON.stringify({ issuer: "http://127.0.0.1:9000/oauth2/default",
      clientId: CLIENT_ID, apiBaseUrl: "http://127.0.0.1:9001/api/", tokenStorage: "file",
      allowInsecureLoopback: true }),
  },
  session: {
    "bearer.json": JSON.stringify(session),
    "dpop.json": JSON.stringify({ ...session, dpop_key: { d: DPOP_KEY.d } }),
    // A claim the JSON parser reads as a float far from any integer: it must read back as written.
    "float-claim.json": JSON.stringify({ ...session, claims: { ...session.claims, auth_time: 1.5 } })
      .replace('"auth_time":1.5', '"auth_time":133333333333333333333333333700000000'),
    // A sign-in the SSO group's share could not take, kept with the session.
    "unshared.json": JSON.stringify({ ...session, shared_secret: "fp", unshared: ssoItem,
      sso_group: "com.okta.example.shared" }),
    "minimal.json": JSON.stringify({ ...session, expires_at: null, refresh_token: null, id_token: null,
      nonce: null, profile: null, post_logout_redirect_uri: undefined }),
  },
  sso_share: {
    "one.json": JSON.stringify({ items: [ssoItem] }),
    // An item an earlier version left (no issued_to: revoked as its ID token's audience), and the
    // secrets a sign-out of all apps asked to revoke.
    "retired.json": JSON.stringify({ items: [{ ...ssoItem, issued_to: undefined }],
      retired: [{ issuer: ISSUER, issued_to: CLIENT_ID, device_secret: "ds-old", asked: true },
        { issuer: ISSUER, issued_to: null, device_secret: "ds-older" }] }),
    "two-audiences.json": JSON.stringify({ items: [{ ...ssoItem, issued_to: undefined, id_token: idTokenTwoAudiences }] }),
  },
  pending: {
    "one.json": JSON.stringify({ items: [pendingOne] }),
    "two-dpop.json": JSON.stringify({ items: [pendingOne,
      { ...pendingOne, state: "Zm9vYmFy-2", dpop_key: { d: DPOP_KEY.d } }] }),
    "empty.json": JSON.stringify({ items: [] }),
  },
  accounts: {
    "two.json": JSON.stringify({ accounts: ["0123456789abcdef", "fedcba9876543210"], default: "fedcba9876543210" }),
    "first-only.json": JSON.stringify({ accounts: [], default: "0123456789abcdef" }),
    "empty.json": JSON.stringify({}),
  },
  keystore_head: {
    "inline.bin": `I${JSON.stringify(session)}`,
    "chunked.txt": `C1 3 ${createHash("sha256").update(JSON.stringify(session)).digest("hex")}`,
    "chunked-gen0.txt": "C0 64 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  },
};

for (const [target, files] of Object.entries(seeds)) {
  const dir = join(here, "seeds", target);
  // Its own files only: seeds added by hand (inputs a fuzzer once found) stay.
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
}
console.log(`seeds: ${Object.keys(seeds).length} targets`);
