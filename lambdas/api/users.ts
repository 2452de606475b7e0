// Cirrus's own account endpoints (Binance puts these in its web app): register a user, and list, create
// and revoke API keys. Registration returns the first key pair; the secret is shown once.
import { z } from 'zod';
import { API_KEY_FORMAT, PERMISSIONS, type Permission } from '../shared/auth/api-keys';
import { authenticate } from '../shared/auth/signed-request';
import { BinanceError, createApiHandler, parseParams, router, type ApiRequest } from '../shared/http';
import { apiContext } from './context';

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
    message: 'legal values are read, trade (comma separated)',
  });
const createKeySchema = z.object({
  permissions: permissionsParam,
  label: z
    .string()
    .max(64)
    .regex(/^[\x20-\x7e]*$/, 'printable ASCII')
    .optional(),
});
const revokeKeySchema = z.object({ apiKey: z.string().regex(API_KEY_FORMAT, '64 letters and digits') });

const withdrawNeedsSecondFactor = () =>
  new BinanceError(
    400,
    -1130,
    "Data sent for parameter 'permissions' is not valid: 'withdraw' needs a second factor (TOTP) and cannot be granted by an API key.",
  );

/**
 * What a new key may hold: a subset of the calling key's permissions, never `withdraw`. Without
 * `permissions` the new key gets the calling key's own (without `withdraw`).
 */
export function grantablePermissions(caller: ReadonlySet<Permission>, requested?: string[]): Permission[] {
  const wanted = (requested ?? [...caller].filter((p) => p !== 'withdraw')) as Permission[];
  if (wanted.includes('withdraw')) throw withdrawNeedsSecondFactor();
  const missing = wanted.filter((p) => !caller.has(p));
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
  if (process.env.REGISTRATION_OPEN === 'false')
    throw new BinanceError(403, -4003, 'Registration is closed.');
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
  const permissions = grantablePermissions(caller.permissions, p.permissions);
  const key = await ctx.keys.create(caller.userId, permissions, p.label ?? '');
  return { ...key, permissions };
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
