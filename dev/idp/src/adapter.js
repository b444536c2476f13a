// oidc-provider's storage (sessions, grants, codes, refresh tokens…), in memory, and kept in a file when
// one is given, so that a restarted provider still knows the grants it issued (`make run` restarts).
// The file is rewritten whole after every change: a temporary file (0600), then a rename.
import { readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';

const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest',
]);

// Models check their own expiry, and a device code's tells a poll `expired_token` (RFC 8628 §3.5), as
// Okta does: it is kept this long after it expires, so that a late poll is told so, not `invalid_grant`.
const KEPT_AFTER_EXPIRY = { DeviceCode: 600 };

const now = () => Math.floor(Date.now() / 1000);

// One table for every model: key `${model}:${id}` → { payload, expiresAt (epoch seconds or null) }.
export function createStorage(file) {
  const entries = new Map();
  if (file && existsSync(file)) {
    for (const [key, entry] of Object.entries(JSON.parse(readFileSync(file, 'utf8')))) {
      entries.set(key, entry);
    }
  }
  const save = () => {
    if (!file) return;
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(entries)), { mode: 0o600 });
    renameSync(tmp, file);
  };
  const live = (key) => {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const where = (test) => [...entries.keys()].filter((key) => live(key) && test(key, entries.get(key).payload));

  return class Adapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const kept = typeof expiresIn === 'number' ? expiresIn + (KEPT_AFTER_EXPIRY[this.model] ?? 0) : null;
      entries.set(this.key(id), { payload, expiresAt: kept === null ? null : now() + kept });
      save();
    }

    async find(id) {
      return live(this.key(id))?.payload;
    }

    async findByUid(uid) {
      const [key] = where((k, p) => k.startsWith(`${this.model}:`) && p.uid === uid);
      return key ? entries.get(key).payload : undefined;
    }

    async findByUserCode(userCode) {
      const [key] = where((k, p) => k.startsWith(`${this.model}:`) && p.userCode === userCode);
      return key ? entries.get(key).payload : undefined;
    }

    async consume(id) {
      const entry = live(this.key(id));
      if (entry) {
        entry.payload.consumed = now();
        save();
      }
    }

    async destroy(id) {
      entries.delete(this.key(id));
      save();
    }

    async revokeByGrantId(grantId) {
      for (const key of where((k, p) => GRANTABLE.has(k.split(':')[0]) && p.grantId === grantId)) {
        entries.delete(key);
      }
      save();
    }
  };
}
