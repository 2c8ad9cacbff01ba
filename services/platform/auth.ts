/**
 * Bearer-JWT authentication shared by the query service and the gateway. The caller is the token's
 * `sub`. Keys come from config: an HS256 secret or a PEM public key (RS256/ES256/EdDSA). Without a
 * key a service refuses to start, unless AUTH_INSECURE_DEV is set: then tokens are decoded but
 * their signature is NOT checked (development only; logged loudly at start).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { SignJWT, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { ConfigError, envFlag } from './config';

const flag = envFlag(false);

export const authEnv = z.object({
  /** HS256 shared secret (at least 32 characters). */
  AUTH_JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /** PEM public key (RS256, ES256 or EdDSA tokens). */
  AUTH_JWT_PUBLIC_KEY: z.string().min(1).optional(),
  /** Expected `iss`, when set. */
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  /** Expected `aud`, when set. */
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
  /** Accept unsigned/unchecked tokens when no key is configured. Never in production. */
  AUTH_INSECURE_DEV: flag,
});
export type AuthEnv = z.infer<typeof authEnv>;

export interface Caller {
  /** The authenticated user id (`sub`). */
  readonly userId: string;
}

export class AuthError extends Error {
  readonly code = 'UNAUTHENTICATED';
}

export interface Authenticator {
  readonly mode: 'hs256' | 'public-key' | 'insecure-dev';
  /** Verifies a raw token (no "Bearer " prefix) and returns its caller, or throws AuthError. */
  verify(token: string): Promise<Caller>;
}

const MAX_SUB_LENGTH = 256;

export function createAuthenticator(env: AuthEnv): Authenticator {
  const options = { issuer: env.AUTH_JWT_ISSUER, audience: env.AUTH_JWT_AUDIENCE };
  const callerOf = (payload: JWTPayload): Caller => {
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH) throw new AuthError('token has no valid sub');
    return { userId: sub };
  };
  if (env.AUTH_JWT_SECRET && env.AUTH_JWT_PUBLIC_KEY) {
    throw new ConfigError(['AUTH_JWT_SECRET and AUTH_JWT_PUBLIC_KEY: set one, not both']);
  }
  if (env.AUTH_JWT_SECRET) {
    const secret = new TextEncoder().encode(env.AUTH_JWT_SECRET);
    return {
      mode: 'hs256',
      verify: async (token) => callerOf(await checked(() => jwtVerify(token, secret, { ...options, algorithms: ['HS256'] }))),
    };
  }
  if (env.AUTH_JWT_PUBLIC_KEY) {
    let key: KeyObject;
    try {
      key = createPublicKey(env.AUTH_JWT_PUBLIC_KEY);
    } catch (e) {
      throw new ConfigError([`AUTH_JWT_PUBLIC_KEY: not a PEM public key (${(e as Error).message})`]);
    }
    return {
      mode: 'public-key',
      verify: async (token) =>
        callerOf(await checked(() => jwtVerify(token, key, { ...options, algorithms: ['RS256', 'ES256', 'EdDSA'] }))),
    };
  }
  if (env.AUTH_INSECURE_DEV) {
    return {
      mode: 'insecure-dev',
      verify: async (token) => {
        let payload: JWTPayload;
        try {
          payload = decodeJwt(token);
        } catch (e) {
          throw new AuthError(`malformed token: ${(e as Error).message}`);
        }
        if (typeof payload.exp === 'number' && payload.exp * 1000 < Date.now()) throw new AuthError('token expired');
        return callerOf(payload);
      },
    };
  }
  throw new ConfigError([
    'AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY: required (or AUTH_INSECURE_DEV=1 to accept unchecked tokens in development)',
  ]);
}

async function checked<T extends { payload: JWTPayload }>(verify: () => Promise<T>): Promise<JWTPayload> {
  try {
    return (await verify()).payload;
  } catch (e) {
    throw new AuthError(`invalid token: ${(e as Error).message}`);
  }
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? (m[1] as string) : null;
}

/**
 * Express middleware: 401 `{ error, field: "authorization" }` unless a valid bearer token; sets
 * res.locals.caller. With `allowQueryToken`, an `access_token` query parameter is accepted too, for
 * clients that cannot set headers (browser EventSource and WebSocket); such URLs must not be logged.
 */
export function requireCaller(auth: Authenticator, opts: { allowQueryToken?: boolean } = {}) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const fromQuery = opts.allowQueryToken && typeof req.query['access_token'] === 'string' ? req.query['access_token'] : null;
    const token = bearerToken(req.headers.authorization) ?? fromQuery;
    if (token === null) {
      res.status(401).json({ error: 'missing bearer token', field: 'authorization' });
      return;
    }
    auth.verify(token).then(
      (caller) => {
        res.locals['caller'] = caller;
        next();
      },
      (e: unknown) => {
        res.status(401).json({ error: e instanceof AuthError ? e.message : 'invalid token', field: 'authorization' });
      },
    );
  };
}

/** The caller set by requireCaller. */
export function callerOf(res: Response): Caller {
  return res.locals['caller'] as Caller;
}

/** Mints an HS256 token for `userId` (the demo, tests and the load generator use it). */
export async function mintToken(secret: string, userId: string, ttlSeconds = 24 * 3600): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds).sign(new TextEncoder().encode(secret));
}
