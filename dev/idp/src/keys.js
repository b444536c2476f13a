// Signing keys: an RS256 key (and with IDP_ID_TOKEN_ALG=EdDSA an Ed25519 one), generated at start, or
// kept in IDP_KEYS_FILE (mode 0600) so a restart keeps them and tokens issued before the restart still
// verify.
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';

// The key comes out of the generator as PKCS#8 text and is exported as a JWK from a key object of its
// own: Node 20 can deadlock when a garbage collection during the JWK export of a freshly generated key
// object runs the generator job's destructor, which waits for the lock the export holds.
function generate(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, {
    ...options,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const jwk = createPrivateKey(privateKey).export({ format: 'jwk' });
  return { ...jwk, kid: randomUUID(), alg, use: 'sig' };
}

const rsa = () => generate('rsa', { modulusLength: 2048 }, 'RS256');
const ed25519 = () => generate('ed25519', {}, 'EdDSA');

function save(file, jwks) {
  if (!file) return;
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(jwks), { mode: 0o600 });
  renameSync(tmp, file);
}

// The keys of `file` (made when it is missing), with an Ed25519 key when `withEd25519` asks for one.
export function loadKeys(file, { withEd25519 = false } = {}) {
  let jwks;
  if (file && existsSync(file)) {
    jwks = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) {
      throw new Error(`${file} holds no keys`);
    }
  } else {
    jwks = { keys: [rsa()] };
    save(file, jwks);
  }
  if (withEd25519 && !jwks.keys.some((key) => key.alg === 'EdDSA')) {
    jwks.keys.push(ed25519());
    save(file, jwks);
  }
  return jwks;
}

// The public half of each key (what /v1/keys serves), to verify what this provider signed.
export function publicJwks(jwks) {
  return { keys: jwks.keys.map(({ d, p, q, dp, dq, qi, ...key }) => key) };
}
