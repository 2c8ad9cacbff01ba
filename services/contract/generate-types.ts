/**
 * Generates TypeScript types from the Avro schemas so wire types are never written twice by hand.
 *   npx tsx services/contract/generate-types.ts          (rewrites avro-types.ts)
 * A unit test fails when avro-types.ts is out of date.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadNamedSchemas, type NamedSchema } from './schemas';

type Json = NamedSchema['json'][string];
type Obj = { [k: string]: Json };

const shortName = (fullName: string): string => fullName.split('.').pop() ?? fullName;

function tsType(node: Json, ns: string): string {
  if (typeof node === 'string') {
    switch (node) {
      case 'null': return 'null';
      case 'boolean': return 'boolean';
      case 'int': case 'long': case 'float': case 'double': return 'number';
      case 'string': return 'string';
      case 'bytes': return 'Buffer';
      default: return shortName(node);
    }
  }
  if (Array.isArray(node)) return node.map((n) => tsType(n, ns)).join(' | ');
  if (node && typeof node === 'object') {
    const o = node as Obj;
    switch (o['type']) {
      case 'array': return `Array<${tsType(o['items'] ?? null, ns)}>`;
      case 'map': return `Record<string, ${tsType(o['values'] ?? null, ns)}>`;
      case 'record': case 'enum': case 'fixed': return shortName(String(o['name']));
      default: return tsType(o['type'] ?? null, ns);
    }
  }
  throw new Error(`unsupported schema node ${JSON.stringify(node)}`);
}

function doc(text: Json | undefined, indent = ''): string {
  return typeof text === 'string' ? `${indent}/** ${text} */\n` : '';
}

export function generateTypes(): string {
  const named = loadNamedSchemas();
  let out = '// Generated from schemas/*.avsc by services/contract/generate-types.ts. Do not edit.\n';
  for (const { json, file } of named.values()) {
    const name = String(json['name']);
    out += `\n// ${file}\n`;
    if (json['type'] === 'enum') {
      const symbols = (json['symbols'] as string[]);
      out += doc(json['doc']);
      out += `export type ${name} = ${symbols.map((s) => JSON.stringify(s)).join(' | ')};\n`;
      out += `export const ${name}Symbols = [${symbols.map((s) => JSON.stringify(s)).join(', ')}] as const;\n`;
    } else if (json['type'] === 'record') {
      out += doc(json['doc']);
      out += `export interface ${name} {\n`;
      for (const f of json['fields'] as Obj[]) {
        out += doc(f['doc'], '  ');
        out += `  ${String(f['name'])}: ${tsType(f['type'] ?? null, String(json['namespace']))};\n`;
      }
      out += '}\n';
    }
  }
  return out;
}

export const GENERATED_TYPES_PATH = resolve(__dirname, 'avro-types.ts');

if (require.main === module) {
  writeFileSync(GENERATED_TYPES_PATH, generateTypes());
  console.log(`wrote ${GENERATED_TYPES_PATH}`);
}
