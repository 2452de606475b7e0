// Cirrus's own account endpoints (Binance puts these in its web app): register a user, and list, create
// and revoke API keys. Registration returns the first key pair; the secret is shown once. A key may be
// restricted to IP addresses; one with the withdraw permission must be, and is created only with a valid 2FA
// code (docs/api.md#cirrus-endpoints).
import { isIP } from 'node:net';
import { z } from 'zod';
import { API_KEY_FORMAT, MAX_KEY_IPS, PERMISSIONS, type Permission } from '../shared/auth/api-keys';
import { authenticate } from '../shared/auth/signed-request';
import { dbPool } from '../shared/db';
import {
  BinanceError,
  createApiHandler,
  mandatoryParam,
  parseParams,
  router,
  type ApiRequest,
} from '../shared/http';
import { consumeTotp } from '../shared/ledger/totp';
import { usersConfig } from './config';
import { apiContext } from './context';
import { totpCodeParam, totps, usedCode, verifyCode } from './second-factor';

const registerSchema = z.object({ email: z.string().email().max(254) });

/**
 * Managing API keys (list, create, revoke) needs `trade`: the strongest permission an API key can hold, so a
 * read-only key handed to a portfolio tracker can neither see the other keys, nor revoke them, nor mint keys
 * that would outlive its own revocation.
 */
export const KEY_MANAGEMENT_PERMISSION: Permission = 'trade';

const permissionsParam = z
  .string()
  .optional()
  .transform((s) => (s === undefined ? undefined : [...new Set(s.split(',').map((x) => x.trim()))]))
  .refine((xs) => xs === undefined || xs.every((x) => (PERMISSIONS as readonly string[]).includes(x)), {
    message: 'legal values are read, trade, withdraw (comma separated)',
  });
/** `ipRestrict`: the addresses a key may be used from, comma separated (IPv4 or IPv6, at most 30). */
const ipRestrictParam = z
  .string()
  .optional()
  .transform((s) =>
    s === undefined || s === '' ? undefined : [...new Set(s.split(',').map((x) => x.trim()))],
  )
  .refine((xs) => xs === undefined || (xs.length <= MAX_KEY_IPS && xs.every((x) => isIP(x) !== 0)), {
    message: `IPv4 or IPv6 addresses, comma separated, at most ${MAX_KEY_IPS}`,
  });
const createKeySchema = z.object({
  permissions: permissionsParam,
  ipRestrict: ipRestrictParam,
  totpCode: totpCodeParam,
  label: z
    .string()
    .max(64)
    .regex(/^[\x20-\x7e]*$/, 'printable ASCII')
    .optional(),
});
const revokeKeySchema = z.object({ apiKey: z.string().regex(API_KEY_FORMAT, '64 letters and digits') });

const withdrawNeeds2fa = () =>
  new BinanceError(
    400,
    -1130,
    "Data sent for parameter 'permissions' is not valid: 'withdraw' needs 2FA: enable it first (POST /cirrus/v1/totp/enroll, then /cirrus/v1/totp/confirm) and send its code as 'totpCode'.",
  );

/**
 * What a new key may hold: a subset of the calling key's permissions; `withdraw` only with a verified second
 * factor (`secondFactor`), which stands in for the calling key's lack of it. Without `permissions` the new key
 * gets the calling key's own (without `withdraw`).
 */
export function grantablePermissions(
  caller: ReadonlySet<Permission>,
  requested?: string[],
  secondFactor = false,
): Permission[] {
  const wanted = (requested ?? [...caller].filter((p) => p !== 'withdraw')) as Permission[];
  if (wanted.includes('withdraw') && !secondFactor) throw withdrawNeeds2fa();
  const missing = wanted.filter((p) => p !== 'withdraw' && !caller.has(p));
  if (missing.length > 0)
    throw new BinanceError(
      401,
      -2015,
      `Invalid API-key, IP, or permissions for action: the calling key lacks '${missing.join("', '")}'.`,
    );
  if (wanted.length === 0)
    throw new BinanceError(
      400,
      -1102,
      "Mandatory parameter 'permissions' was not sent, was empty/null, or malformed.",
    );
  return [...PERMISSIONS].filter((p) => wanted.includes(p));
}

async function register(req: ApiRequest) {
  const ctx = apiContext();
  const { email } = parseParams(registerSchema, req.params);
  if (!usersConfig().REGISTRATION_OPEN) throw new BinanceError(403, -4003, 'Registration is closed.');
  if ((await ctx.ledger.findUserByEmail(email.toLowerCase())) !== undefined) {
    throw new BinanceError(400, -4001, 'This email is already registered.');
  }
  const userId = await ctx.ledger.createUser(email.toLowerCase()).catch((err: { code?: string }) => {
    if (err.code === '23505') throw new BinanceError(400, -4001, 'This email is already registered.');
    throw err;
  });
  const key = await ctx.keys.create(userId, ['read', 'trade'], 'first key');
  return { userId, ...key, permissions: ['read', 'trade'] };
}

async function listKeys(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, KEY_MANAGEMENT_PERMISSION, ctx.auth);
  return ctx.keys.list(userId);
}

async function createKey(req: ApiRequest) {
  const ctx = apiContext();
  const caller = await authenticate(req, KEY_MANAGEMENT_PERMISSION, ctx.auth);
  const p = parseParams(createKeySchema, req.params);
  const ips = p.ipRestrict;
  let permissions: Permission[];
  if (p.permissions?.includes('withdraw')) {
    // As Binance: withdrawing needs a key bound to the addresses it may be used from, and here the user's
    // 2FA code (the calling key alone never grants withdraw).
    if (!ips) throw mandatoryParam('ipRestrict');
    const nowMs = Date.now();
    const row = await totps().get(caller.userId);
    if (!row?.enabled) throw withdrawNeeds2fa();
    const proof = await verifyCode(caller.userId, row, p.totpCode, nowMs);
    permissions = grantablePermissions(caller.permissions, p.permissions, true);
    if (!(await consumeTotp(dbPool(), caller.userId, proof))) throw usedCode();
  } else permissions = grantablePermissions(caller.permissions, p.permissions);
  const key = await ctx.keys.create(caller.userId, permissions, p.label ?? '', ips);
  return { ...key, permissions, ipRestrict: ips !== undefined, ipAllowlist: ips ?? [] };
}

async function revokeKey(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, KEY_MANAGEMENT_PERMISSION, ctx.auth);
  const p = parseParams(revokeKeySchema, req.params);
  // Someone else's key is indistinguishable from an unknown one.
  if (!(await ctx.keys.revoke(userId, p.apiKey)))
    throw new BinanceError(400, -2015, 'Invalid API-key, IP, or permissions for action.');
  return {};
}

export const handler = createApiHandler(
  router({
    'POST /cirrus/v1/users': register,
    'GET /cirrus/v1/apiKeys': listKeys,
    'POST /cirrus/v1/apiKeys': createKey,
    'DELETE /cirrus/v1/apiKeys': revokeKey,
  }),
);
