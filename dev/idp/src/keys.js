// RS256 signing keys: generated at start, or kept in IDP_KEYS_FILE (mode 0600) so a restart keeps them
// and tokens issued before the restart still verify.
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';

// The key comes out of the generator as PKCS#8 text and is exported as a JWK from a key object of its
// own: Node 20 can deadlock when a garbage collection during the JWK export of a freshly generated key
// object runs the generator job's destructor, which waits for the lock the export holds.
function generate() {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const jwk = createPrivateKey(privateKey).export({ format: 'jwk' });
  return { ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

export function loadKeys(file) {
  if (file && existsSync(file)) {
    const jwks = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) {
      throw new Error(`${file} holds no keys`);
    }
    return jwks;
  }
  const jwks = { keys: [generate()] };
  if (file) {
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(jwks), { mode: 0o600 });
    renameSync(tmp, file);
  }
  return jwks;
}
