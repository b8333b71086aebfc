// Shared by scripts/package.mjs and scripts/verify-package.mjs: artifact names, SHA-256 lines
// in sha256sum's format, and Ed25519 detached signatures over SHA256SUMS (node:crypto only).
// The layout is a contract with the self-update (see docs/release.md).
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RELEASE_DIR = 'release';

export function artifactName(version, platform = process.platform, arch = process.arch) {
  return `rusty-pinch-${version}-${platform}-${arch}.tar.gz`;
}

export function topDirName(version) {
  return `rusty-pinch-${version}`;
}

export function sha256File(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** `<hex>  <name>` lines as sha256sum writes them (two spaces: text mode). */
export function sumLine(hex, name) {
  return `${hex}  ${name}\n`;
}

/** Parses sha256sum output into name → hex; garbage lines are an error. */
export function parseSums(text) {
  const out = new Map();
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const m = /^([0-9a-f]{64}) [ *](\S.*)$/.exec(line);
    if (!m) throw new Error(`SHA256SUMS line ${i + 1} is not '<sha256>  <file>'`);
    out.set(m[2], m[1]);
  }
  return out;
}

/** Raw bytes from hex or base64 text (the formats the update's verifier accepts). */
export function decodeKeyText(text) {
  const t = text.trim();
  if (t.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return Buffer.from(t, 'base64');
  throw new Error('key is neither hex nor base64');
}

/**
 * The signing key: a PKCS#8 PEM (as `openssl genpkey -algorithm ed25519` writes it), given as
 * a file path or as the PEM text itself (a CI secret).
 */
export function loadSigningKey(fileOrPem) {
  let key;
  try {
    key = createPrivateKey(fileOrPem.includes('-----BEGIN') ? fileOrPem : readFileSync(fileOrPem, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the signing key (a PKCS#8 PEM file or its text is expected): ${err.message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`signing key must be Ed25519, not ${key.asymmetricKeyType}`);
  return key;
}

/** The 32-byte raw public key, base64: what RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_ED25519_PUBLIC_KEY takes. */
export function rawPublicKey(keyObject) {
  const jwk = createPublicKey(keyObject).export({ format: 'jwk' });
  return Buffer.from(jwk.x, 'base64url').toString('base64');
}

/** A public key from raw 32 bytes (hex/base64 text), a file holding that text, or a PEM. */
export function loadPublicKey(textOrFile) {
  let text = textOrFile;
  if (!text.includes('-----BEGIN') && existsSync(text)) text = readFileSync(text, 'utf8');
  if (text.includes('-----BEGIN')) return createPublicKey(text);
  let raw;
  try {
    raw = decodeKeyText(text);
  } catch {
    throw new Error('the public key is neither a PEM, nor 32 bytes in hex or base64, nor a file holding one');
  }
  if (raw.length !== 32) throw new Error('Ed25519 public key must decode to 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function signSums(sumsBytes, privateKey) {
  return sign(null, sumsBytes, privateKey).toString('base64') + '\n';
}

/** Accepts the signature file as raw 64 bytes, or hex/base64 text. */
export function verifySums(sumsBytes, sigBytes, publicKey) {
  const sig = sigBytes.length === 64 ? sigBytes : decodeKeyText(sigBytes.toString('utf8'));
  if (sig.length !== 64) throw new Error('Ed25519 signature must decode to 64 bytes');
  return verify(null, sumsBytes, publicKey, sig);
}

/** `--name value` or `--name=value` from argv. */
export function flag(argv, name) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

/**
 * Writes `dir`/SHA256SUMS over every release tarball in `dir` (sorted, bare names) and, with a
 * key, SHA256SUMS.sig; a stale signature never survives new sums. `known` maps names to
 * hashes already computed. Returns the SHA256SUMS text.
 */
export function writeSums(dir, privateKey, known = new Map()) {
  const tarballs = readdirSync(dir).filter((n) => n.startsWith('rusty-pinch-') && n.endsWith('.tar.gz')).sort();
  if (tarballs.length === 0) throw new Error(`no rusty-pinch-*.tar.gz in ${dir}`);
  const sums = tarballs.map((n) => sumLine(known.get(n) ?? sha256File(join(dir, n)), n)).join('');
  writeFileSync(join(dir, 'SHA256SUMS'), sums);
  rmSync(join(dir, 'SHA256SUMS.sig'), { force: true });
  if (privateKey) writeFileSync(join(dir, 'SHA256SUMS.sig'), signSums(Buffer.from(sums), privateKey));
  return sums;
}

/** The signing key named by --signing-key, RUSTY_PINCH_RELEASE_SIGNING_KEY_FILE or RUSTY_PINCH_RELEASE_SIGNING_KEY (PEM text). */
export function signingKeyFrom(argv, env = process.env) {
  const given = flag(argv, 'signing-key') ?? (env.RUSTY_PINCH_RELEASE_SIGNING_KEY_FILE || undefined) ?? (env.RUSTY_PINCH_RELEASE_SIGNING_KEY || undefined);
  return given ? loadSigningKey(given) : undefined;
}
