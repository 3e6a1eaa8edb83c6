import { describe, expect, it } from 'vitest';
import { telephonyEventJsonSchema } from './json-schema.js';

describe('telephonyEventJsonSchema', () => {
  it('describes what the PBX may post (input side of the zod schema)', () => {
    const schema = telephonyEventJsonSchema();
    const text = JSON.stringify(schema);
    expect(text).toContain('"dial"');
    expect(text).toContain('"download"');
    expect(text).toContain('UniqueId');
    expect(text).toContain('enterprise_number');
  });
});
