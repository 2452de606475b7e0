// Cirrus's own account endpoints (Binance puts these in its web app): register a user, and list, create
// and revoke API keys. Registration returns the first key pair; the secret is shown once.
import { z } from 'zod';
import { PERMISSIONS, type Permission } from '../shared/auth/api-keys';
import { authenticate } from '../shared/auth/signed-request';
import { BinanceError, createApiHandler, parseParams, router, type ApiRequest } from '../shared/http';
import { apiContext } from './context';

const registerSchema = z.object({ email: z.string().email().max(254) });
const permissionsParam = z
  .string()
  .optional()
  .transform((s) => (s ?? 'read,trade').split(',').map((x) => x.trim()))
  .refine((xs) => xs.every((x) => (PERMISSIONS as readonly string[]).includes(x)), {
    message: 'permissions are read, trade, withdraw',
  });

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
  const { userId } = await authenticate(req, 'read', ctx.auth);
  return ctx.keys.list(userId);
}

async function createKey(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'trade', ctx.auth);
  const p = parseParams(
    z.object({ permissions: permissionsParam, label: z.string().max(64).optional() }),
    req.params,
  );
  const key = await ctx.keys.create(userId, p.permissions as Permission[], p.label ?? '');
  return { ...key, permissions: p.permissions };
}

async function revokeKey(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const p = parseParams(z.object({ apiKey: z.string().regex(/^[A-Za-z0-9]{64}$/) }), req.params);
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
