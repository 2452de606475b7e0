// The `purpose` each store puts in the KMS encryption context of what it encrypts with the data key. IAM
// grants (lib/constructs/key-access.ts) allow direct Encrypt/Decrypt per purpose, so a function that may read
// API-key secrets cannot read TOTP secrets, and the reverse.

/** API-key secrets (lambdas/shared/auth/api-keys.ts): context { purpose, apiKey }. */
export const API_KEY_PURPOSE = 'cirrus-api-key';

/** TOTP seeds (lambdas/shared/auth/totp.ts): context { purpose, userId }. */
export const TOTP_PURPOSE = 'cirrus-totp-secret';
