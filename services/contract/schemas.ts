/**
 * Loads the Avro schemas in `schemas/` (one file per named type) and expands each top-level
 * record into one self-contained schema, as registered in the schema registry: any client in any
 * language can read the topics from the registry alone, without our file layout.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as avro from 'avsc';

export const SCHEMAS_DIR = resolve(__dirname, '../../schemas');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface NamedSchema {
  readonly fullName: string;
  readonly file: string;
  readonly json: { [k: string]: Json };
}

function fullNameOf(schema: { [k: string]: Json }): string {
  const name = String(schema['name']);
  return name.includes('.') || schema['namespace'] === undefined ? name : `${String(schema['namespace'])}.${name}`;
}

/** Every named type found in the schemas folder, by full name. */
export function loadNamedSchemas(dir: string = SCHEMAS_DIR): Map<string, NamedSchema> {
  const named = new Map<string, NamedSchema>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.avsc')).sort()) {
    const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { [k: string]: Json };
    const fullName = fullNameOf(json);
    if (named.has(fullName)) throw new Error(`schema ${fullName} is defined twice (${file})`);
    named.set(fullName, { fullName, file, json });
  }
  return named;
}

/** Inlines referenced named types at their first use, keeping every doc and logical type. */
export function expandSchema(rootName: string, named: Map<string, NamedSchema>): { [k: string]: Json } {
  const defined = new Set<string>();
  const expand = (node: Json): Json => {
    if (typeof node === 'string') {
      const ref = named.get(node);
      if (!ref) return node;
      if (defined.has(node)) return node;
      return expand(ref.json);
    }
    if (Array.isArray(node)) return node.map(expand);
    if (node === null || typeof node !== 'object') return node;
    if ((node['type'] === 'record' || node['type'] === 'enum' || node['type'] === 'fixed') && node['name']) {
      defined.add(fullNameOf(node));
    }
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'fields' && Array.isArray(v)) {
        out[k] = v.map((f) => (f && typeof f === 'object' && !Array.isArray(f) ? { ...f, type: expand(f['type'] ?? null) } : f));
      } else if (k === 'type' || k === 'items' || k === 'values') {
        out[k] = expand(v);
      } else {
        out[k] = v;
      }
    }
    return out;
  };
  const root = named.get(rootName);
  if (!root) throw new Error(`no schema named ${rootName} in ${SCHEMAS_DIR}`);
  return expand(root.json) as { [k: string]: Json };
}

/** The avsc type of a top-level record, for local encode/decode and validation. */
export function avroType(rootName: string, named: Map<string, NamedSchema> = loadNamedSchemas()): avro.Type {
  return avro.Type.forSchema(expandSchema(rootName, named) as avro.Schema, { wrapUnions: false });
}
