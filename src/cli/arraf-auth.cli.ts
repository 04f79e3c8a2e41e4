#!/usr/bin/env node
import { randomToken } from '../crypto/crypto.util.js';

/** `npx arraf-auth secret`: prints a new 256-bit secret for the `secret` option / AUTH_SECRET. */
const [command] = process.argv.slice(2);
if (command === 'secret') {
  process.stdout.write(`${randomToken(32)}\n`);
} else {
  process.stderr.write('Usage: arraf-auth secret    print a new 256-bit secret (base64url)\n');
  process.exitCode = command === undefined || command === '--help' || command === '-h' ? 0 : 1;
}
