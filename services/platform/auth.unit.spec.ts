import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { ConfigError } from './config';
import { AuthError, authEnv, bearerToken, createAuthenticator, mintToken } from './auth';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const env = (e: Record<string, string>) => authEnv.parse(e);

describe('createAuthenticator', () => {
  it('refuses to start without a key unless the insecure development flag is set', () => {
    expect(() => createAuthenticator(env({}))).toThrow(ConfigError);
    expect(() => createAuthenticator(env({}))).toThrow(/AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY/);
    expect(createAuthenticator(env({ AUTH_INSECURE_DEV: '1' })).mode).toBe('insecure-dev');
  });

  it('refuses both a secret and a public key, and a key that is not PEM', () => {
    expect(() => createAuthenticator(env({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_PUBLIC_KEY: 'x' }))).toThrow(/one, not both/);
    expect(() => createAuthenticator(env({ AUTH_JWT_PUBLIC_KEY: 'not a key' }))).toThrow(/not a PEM public key/);
  });

  it('HS256: accepts a token signed with the secret and names its sub; refuses others', async () => {
    const auth = createAuthenticator(env({ AUTH_JWT_SECRET: SECRET }));
    await expect(auth.verify(await mintToken(SECRET, 'alice'))).resolves.toEqual({ userId: 'alice' });
    await expect(auth.verify(await mintToken(`${SECRET}-other`, 'alice'))).rejects.toThrow(AuthError);
    await expect(auth.verify(await mintToken(SECRET, 'alice', -10))).rejects.toThrow(/exp/);
    await expect(auth.verify('garbage')).rejects.toThrow(AuthError);
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
    await expect(auth.verify(noSub)).rejects.toThrow(/sub/);
    await expect(auth.verify(new UnsecuredJWT({ sub: 'alice' }).encode())).rejects.toThrow(AuthError);
  });

  it('public key: accepts an RS256 token signed by the private key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const auth = createAuthenticator(env({ AUTH_JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() }));
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('bob').sign(privateKey);
    await expect(auth.verify(token)).resolves.toEqual({ userId: 'bob' });
    await expect(auth.verify(await mintToken(SECRET, 'bob'))).rejects.toThrow(AuthError);
  });

  it('checks issuer and audience when configured', async () => {
    const auth = createAuthenticator(env({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: 'idp', AUTH_JWT_AUDIENCE: 'presence' }));
    const key = new TextEncoder().encode(SECRET);
    const good = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('c').setIssuer('idp').setAudience('presence').sign(key);
    const bad = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('c').setIssuer('other').setAudience('presence').sign(key);
    await expect(auth.verify(good)).resolves.toEqual({ userId: 'c' });
    await expect(auth.verify(bad)).rejects.toThrow(/iss/);
  });

  it('insecure development mode reads sub without checking the signature, but still refuses malformed or expired tokens', async () => {
    const auth = createAuthenticator(env({ AUTH_INSECURE_DEV: 'true' }));
    await expect(auth.verify(new UnsecuredJWT({ sub: 'dev' }).encode())).resolves.toEqual({ userId: 'dev' });
    await expect(auth.verify('nope')).rejects.toThrow(/malformed/);
    await expect(auth.verify(await mintToken(SECRET, 'dev', -10))).rejects.toThrow(/expired/);
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer  xyz ', 'xyz'],
    ['Basic abc', null],
    ['Bearer', null],
    [undefined, null],
  ])('%p → %p', (header, token) => expect(bearerToken(header)).toBe(token));
});
