/**
 * What each dead-letter code means and what to do about it, pure. The codes are the serde's
 * (undecodable, unknown-schema, wrong-schema, unencodable) and `rejected`, whose reason starts with
 * the core's rejection code (`too-long: must be at most …`) or the gate's (`unknown-channel: …`).
 */

const CODES: Readonly<Record<string, string>> = {
  undecodable: 'the value is not Avro in the schema-registry wire format (magic byte 0, schema id, body), or its body does not decode with that schema: the producer did not use a registry serializer',
  'unknown-schema': 'the value names a schema id the registry does not know: produced against another registry, or the subject was deleted',
  'wrong-schema': "the value was written with another topic's schema (e.g. a heartbeat sent to the override topic)",
  unencodable: 'the service could not encode its output for this record (a value outside the output schema)',
  rejected: 'the record decoded, but its content broke a rule of the presence core (ids, sizes, ranges, keys)',
};

const REJECTIONS: Readonly<Record<string, string>> = {
  'not-an-object': 'the event is not an object',
  'unknown-type': 'the event kind is not one the processor knows',
  missing: 'a required field is absent or null',
  'wrong-type': 'a field has the wrong type',
  empty: 'an id is empty or blank',
  'too-long': 'an id or text is longer than the limit (PRESENCE_* config, maxIdLength and maxCustomTextLength)',
  'invalid-character': 'an id or text contains control characters',
  'not-an-integer': 'a number is not a whole number',
  negative: 'a number (a time, an idle duration) is negative',
  'not-allowed': 'a value is not one of those allowed, or the record key does not match the ids in the value (a key must be the userId, or <roomKind>/<roomId> for rooms)',
  'too-many-entries': 'room member metadata has too many entries',
  'too-large': 'room member metadata is larger than allowed',
  'invalid-range': 'a time range is inverted (e.g. an override that expires before it was set)',
  'unknown-channel': 'the notification channel is in neither GATE_CHANNEL_CLASSES class (push or store-and-forward)',
};

/** The detailed code: for `rejected`, the rule's code from the reason (`rejected/too-long`); else the code. */
export function detailedCode(errorCode: string, reason: string): string {
  if (errorCode !== 'rejected') return errorCode;
  const inner = /^([a-z-]+):/.exec(reason)?.[1];
  return inner !== undefined && inner in REJECTIONS ? `rejected/${inner}` : errorCode;
}

/** One sentence on what went wrong and where to look. */
export function explainDeadLetter(errorCode: string, field: string | null, reason: string): string {
  const base = CODES[errorCode] ?? `code ${JSON.stringify(errorCode)} is not one this CLI knows; read the reason`;
  const detail = detailedCode(errorCode, reason);
  const rule = detail.startsWith('rejected/') ? REJECTIONS[detail.slice('rejected/'.length)] : undefined;
  const where = field === null ? '' : ` (field ${field})`;
  return rule === undefined ? `${base}${where}` : `${base}: ${rule}${where}`;
}
