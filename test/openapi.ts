/**
 * Checks real HTTP answers against an OpenAPI 3.1 document with ajv (JSON Schema 2020-12, which
 * OpenAPI 3.1 schema objects are): the documented response of (method, path template, status) must
 * exist and its JSON schema must accept the body. Used by the route tests of each HTTP service.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';

interface Doc {
  readonly paths: Readonly<Record<string, Readonly<Record<string, { readonly responses: Readonly<Record<string, { readonly description?: string; readonly content?: Readonly<Record<string, { readonly schema?: object }>> }>> }>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, object>> };
}

export class OpenApiChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: Array<{ template: string; pattern: RegExp }>;
  /** (method path-template status) of every response checked, to tell which documented answers no test produced. */
  readonly seen = new Set<string>();

  constructor(private readonly doc: Doc) {
    // $refs resolve against the document itself.
    this.ajv.addSchema({ $id: 'openapi', components: doc.components ?? {} } as object);
    this.templates = Object.keys(doc.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\:]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }));
  }

  /** Throws naming the path, status and schema errors unless `body` is the documented answer. */
  check(method: string, path: string, status: number, contentType: string | null, body: unknown): void {
    const bare = path.split('?')[0] ?? path;
    const found = this.templates.find((t) => t.pattern.test(bare));
    if (!found && status === 404) return this.checkComponent('Error', body); // an undocumented path is a 404 Error
    if (!found) throw new Error(`${method} ${bare}: no such path in the OpenAPI document`);
    const op = this.doc.paths[found.template]?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${found.template}: method not documented`);
    const response = op.responses[String(status)];
    if (!response) throw new Error(`${method} ${found.template}: status ${status} not documented (documented: ${Object.keys(op.responses).join(', ')})`);
    this.seen.add(`${method.toUpperCase()} ${found.template} ${status}`);
    const media = (contentType ?? '').split(';')[0]?.trim() ?? '';
    const schema = response.content?.[media]?.schema;
    if (!response.content) return;
    if (!schema) throw new Error(`${method} ${found.template} ${status}: content type ${media || '(none)'} not documented (documented: ${Object.keys(response.content).join(', ')})`);
    if (media !== 'application/json') return;
    const key = `${found.template} ${method} ${status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(rebase(schema));
      this.compiled.set(key, validate);
    }
    if (!validate(body)) {
      throw new Error(`${method} ${bare} ${status}: the body does not match the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`);
    }
  }

  /** Throws unless `value` matches the document's components/schemas/`name` (e.g. one SSE event's data). */
  checkComponent(name: string, value: unknown): void {
    const key = `#component ${name}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi#/components/schemas/${name}` });
      this.compiled.set(key, validate);
    }
    if (!validate(value)) throw new Error(`${name}: does not match the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
  }

  /** fetch, then check the answer; returns the response (its body already read as `json` when JSON). */
  async fetch(url: string, init: RequestInit = {}): Promise<Response & { json(): Promise<unknown> }> {
    const res = await fetch(url, init);
    const type = res.headers.get('content-type');
    if (type?.startsWith('text/event-stream')) {
      this.check(init.method ?? 'GET', new URL(url).pathname, res.status, type, null);
      return res;
    }
    const text = await res.text();
    const body: unknown = type?.startsWith('application/json') ? JSON.parse(text) : text;
    this.check(init.method ?? 'GET', new URL(url).pathname, res.status, type, body);
    return Object.assign(res, { json: async () => body, text: async () => text });
  }
}

/** Rewrites `#/components/...` refs to point into the registered document. */
function rebase(schema: object): object {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/')) as object;
}
