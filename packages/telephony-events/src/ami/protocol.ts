/** One AMI message: `Key: Value` lines. Keys keep their case; repeated keys (e.g. `Variable`) become arrays. */
export type AmiMessage = Record<string, string | string[]>;

import { TelephonyEventsError } from '../errors.js';

/**
 * Serialises an action: `Key: Value\r\n` lines and a blank line. CR/LF inside values would inject lines: refused
 * with a `TelephonyEventsError` of code `ami_invalid_field` (the message names the key, never the value).
 */
export function serializeAction(fields: Record<string, string | number | boolean | readonly string[] | undefined>) {
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [String(value)];
    for (const item of values) {
      if (/[\r\n]/.test(item) || /[\r\n:]/.test(key)) {
        throw new TelephonyEventsError('ami_invalid_field', `AMI field ${key} contains a line break`);
      }
      out += `${key}: ${item}\r\n`;
    }
  }
  return `${out}\r\n`;
}

/** Case-insensitive read of a single field. */
export function field(message: AmiMessage, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(message)) {
    if (key.toLowerCase() === lower) return Array.isArray(value) ? value[value.length - 1] : value;
  }
  return undefined;
}

/**
 * Incremental parser of the AMI byte stream: first the banner line (`Asterisk Call Manager/x.y.z`), then blocks
 * of `Key: Value` lines ended by an empty line. Tolerates bare LF line endings.
 */
export class AmiParser {
  private buffer = '';
  private bannerSeen = false;

  constructor(
    private readonly onBanner: (banner: string) => void,
    private readonly onMessage: (message: AmiMessage) => void,
  ) {}

  push(chunk: string): void {
    this.buffer += chunk;
    if (!this.bannerSeen) {
      const end = this.buffer.indexOf('\n');
      if (end < 0) return;
      this.bannerSeen = true;
      this.onBanner(this.buffer.slice(0, end).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(end + 1);
    }
    for (;;) {
      const match = /\r?\n\r?\n/.exec(this.buffer);
      if (!match) break;
      const block = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const message = parseBlock(block);
      if (message) this.onMessage(message);
    }
  }
}

function parseBlock(block: string): AmiMessage | undefined {
  const message: AmiMessage = {};
  let any = false;
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // e.g. the free-text tail of an old-style `Response: Follows`
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).replace(/^ /, '');
    const existing = message[key];
    if (existing === undefined) message[key] = value;
    else message[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
    any = true;
  }
  return any ? message : undefined;
}
