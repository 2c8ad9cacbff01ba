/** The registry enforces BACKWARD compatibility on the subjects provisioning creates. */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import { expandSchema, loadNamedSchemas } from '../services/contract/schemas';
import { createRegistry, registerSchemas } from '../services/contract/serde';
import { TOPICS, valueSubject } from '../services/contract/topics';
import { env, uniquePrefix } from './helpers';

type Field = { name: string; type: unknown; default?: unknown };

describe('schema registry compatibility', () => {
  const registry = createRegistry(env.SCHEMA_REGISTRY_URL);
  const base = () => expandSchema('presence.v1.PresenceHeartbeat', loadNamedSchemas()) as { fields: Field[] };
  const register = (schema: object, subject: string) =>
    registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject, compatibility: COMPATIBILITY.BACKWARD });

  it('registering the same schemas twice returns the same ids', async () => {
    const prefix = uniquePrefix('reg');
    expect(await registerSchemas(registry, prefix)).toEqual(await registerSchemas(registry, prefix));
  });

  it('services registering a fresh prefix at the same moment all succeed with the same ids, and the subjects end BACKWARD', async () => {
    // The registry client sets a new subject's compatibility after registering it; a concurrent
    // registrant in between read the default (NONE) and refused, as the bench's capacity phase saw.
    const prefix = uniquePrefix('reg-race');
    const clients = Array.from({ length: 4 }, () => createRegistry(env.SCHEMA_REGISTRY_URL));
    const all = await Promise.all(clients.map((c) => registerSchemas(c, prefix)));
    for (const ids of all) expect(ids).toEqual(all[0]);
    const level = await fetch(`${env.SCHEMA_REGISTRY_URL}/config/${encodeURIComponent(valueSubject('heartbeat', prefix))}`);
    expect(((await level.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe('BACKWARD');
  });

  it('a registration the registry leaves unanswered (a stall under load) is sent again and gets its id', async () => {
    // A proxy in front of the real registry that swallows its first request and forwards the rest.
    const target = new URL(env.SCHEMA_REGISTRY_URL);
    let seen = 0;
    const proxy: Server = createServer((req, res) => {
      if (seen++ === 0) return; // never answered
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: `${target.pathname}${req.url}`, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const prefix = uniquePrefix('reg-stall');
      const ids = await registerSchemas(createRegistry(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, 500), prefix);
      expect(seen).toBeGreaterThan(1);
      expect(ids).toEqual(await registerSchemas(registry, prefix));
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('a subject left at the default level (its first registrant could not set BACKWARD) is set BACKWARD and registers', async () => {
    const prefix = uniquePrefix('reg-unset');
    const subject = valueSubject('changes', prefix);
    const schema = JSON.stringify(expandSchema(TOPICS.changes.valueSchema as string, loadNamedSchemas()));
    // Registered without the level, as when the client's second request failed.
    const created = await fetch(`${env.SCHEMA_REGISTRY_URL}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema }),
    });
    expect(created.ok).toBe(true);
    const ids = await registerSchemas(createRegistry(env.SCHEMA_REGISTRY_URL), prefix);
    expect(ids.changes).toBe(((await created.json()) as { id: number }).id);
    const level = await fetch(`${env.SCHEMA_REGISTRY_URL}/config/${encodeURIComponent(subject)}`);
    expect(((await level.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe('BACKWARD');
  });

  it('refuses a change that new readers cannot apply to old data, accepts an optional field', async () => {
    const prefix = uniquePrefix('compat');
    const subject = valueSubject('heartbeat', prefix);
    const ids = await registerSchemas(registry, prefix);

    const breaking = base();
    breaking.fields.push({ name: 'tenantId', type: 'string' }); // required, no default
    await expect(register(breaking, subject)).rejects.toThrow(/incompatible/i);

    const evolving = base();
    evolving.fields.push({ name: 'tenantId', type: ['null', 'string'], default: null });
    const { id } = await register(evolving, subject);
    expect(id).not.toBe(ids.heartbeat);
    expect((await registry.getLatestSchemaId(subject))).toBe(id);
  });

  it('the activity schemas are BACKWARD-compatible versions of the previous ones (override kind and field, snapshot activities)', async () => {
    const prefix = uniquePrefix('compat-act');
    const named = loadNamedSchemas();
    // The previous versions: without OverrideKind's activity symbol and the new fields.
    const previous = (root: string, drop: string) => {
      const s = JSON.parse(JSON.stringify(expandSchema(root, named))) as { fields: Array<Field & { type: unknown }> };
      s.fields = s.fields.filter((f) => f.name !== drop);
      for (const f of s.fields) {
        const t = f.type as { type?: string; symbols?: string[] };
        if (t && t.type === 'enum' && t.symbols) t.symbols = t.symbols.filter((x) => x !== 'activity');
      }
      return s;
    };
    for (const [root, drop, role] of [['presence.v1.PresenceOverride', 'activity', 'override'], ['presence.v1.PresenceSnapshot', 'activities', 'snapshot']] as const) {
      const subject = valueSubject(role, prefix);
      const old = previous(root, drop);
      expect(JSON.stringify(old)).not.toContain(`"${drop}"`);
      const { id: oldId } = await register(old, subject);
      const { id } = await register(expandSchema(root, named), subject);
      expect(id).not.toBe(oldId);
      expect(await registry.getLatestSchemaId(subject)).toBe(id);
    }
  });
});
