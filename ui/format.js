// Small pure helpers for the view.

/** "in 5 minutes", "2 minutes ago", "in less than a minute". */
export function relativeTime(iso, now = Date.now()) {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return 'unknown';
  const seconds = Math.round((at - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return seconds >= 0 ? 'in less than a minute' : 'less than a minute ago';
  const units = [['day', 86400], ['hour', 3600], ['minute', 60]];
  const [unit, size] = units.find(([, s]) => abs >= s);
  const n = Math.floor(abs / size);
  const text = `${n} ${unit}${n === 1 ? '' : 's'}`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

/** Two letters for the avatar. */
export function initials(name, fallback = '?') {
  const words = String(name ?? '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return fallback;
  return words.slice(0, 2).map((w) => w[0].toUpperCase()).join('');
}

/** A claim value as text. */
export function claimText(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' && value > 1e9 && value < 1e11) {
    return `${value} (${new Date(value * 1000).toISOString().replace('.000Z', 'Z')})`;
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Where the tokens are kept, in words. */
export function storageText(storage) {
  switch (storage) {
    case 'keystore': return 'Your tokens are kept in the system keychain.';
    case 'file': return 'Your tokens are kept in a file only you can read (no system keychain answered).';
    case 'memory': return 'Your tokens are kept in memory only, until the app closes.';
    default: return 'Where your tokens are kept is unknown.';
  }
}

/** The title of the screen shown when the session store cannot be opened. */
export function storageProblemTitle(kind) {
  return kind === 'keystore_unavailable' ? 'Your keyring is unavailable' : 'Your saved session can’t be read';
}

/** Turns a rejected command into words: the plugin sends { kind, message }. */
export function errorMessage(error) {
  if (typeof error === 'string') return error;
  if (error && typeof error.message === 'string') return error.message;
  return 'Something went wrong.';
}
