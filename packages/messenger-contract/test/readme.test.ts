import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { runReadmeSnippet } from '../../../scripts/run-readme-snippet.js';

describe('README "Testing helpers"', () => {
  it('the WhatsApp session example runs as written: start, QR pending, scan, ready, send', async () => {
    const printed: unknown[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((value: unknown) => void printed.push(value));
    try {
      await runReadmeSnippet(
        fileURLToPath(new URL('../README.md', import.meta.url)),
        'A whole WhatsApp session against the fake, as a test would run it (runs as written; `test/readme.test.ts` does):',
      );
    } finally {
      log.mockRestore();
    }
    expect(printed[0]).toMatchObject({ ready: false, qrAvailable: true });
    expect(printed[1]).toMatchObject({ ready: true });
    expect(printed[2]).toEqual([expect.objectContaining({ to: '79991234567@c.us', text: 'hi', container: 2 })]);
  });
});
