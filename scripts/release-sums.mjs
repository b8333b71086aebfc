// `node scripts/release-sums.mjs [--dir release] [--signing-key <pem>]`: SHA256SUMS over every
// rusty-pinch-*.tar.gz in the folder (the release workflow gathers one per platform), signed
// with Ed25519 when a key is given (--signing-key, RUSTY_PINCH_RELEASE_SIGNING_KEY_FILE or
// RUSTY_PINCH_RELEASE_SIGNING_KEY). Prints the sums and, when signed, the public key.
import { RELEASE_DIR, flag, rawPublicKey, signingKeyFrom, writeSums } from './release-lib.mjs';

const argv = process.argv.slice(2);
for (const a of argv) {
  if (a.startsWith('--') && !['--dir', '--signing-key'].some((k) => a === k || a.startsWith(`${k}=`))) {
    console.error(`Error: unknown option ${a} (known: --dir, --signing-key)`);
    process.exit(2);
  }
}
try {
  const key = signingKeyFrom(argv);
  process.stdout.write(writeSums(flag(argv, 'dir') ?? RELEASE_DIR, key));
  if (key) console.log(`signed; public key (base64): ${rawPublicKey(key)}`);
} catch (err) {
  console.error(`Error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
