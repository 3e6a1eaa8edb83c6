import { describe, expect, it } from 'vitest';
import { applyExtensions, ExtensionConflictError, ownersByExtension } from './extensions.js';

describe('applyExtensions', () => {
  it('assigns, unassigns and drops nulls', () => {
    expect(applyExtensions({ '18': '151', '22': null }, { '19': '150', '18': null })).toEqual({
      next: { '19': '150' },
      displaced: [],
    });
  });
  it('reassignment removes the previous owner', () => {
    expect(applyExtensions({ '18': '150', '19': '151' }, { '22': '150' })).toEqual({
      next: { '19': '151', '22': '150' },
      displaced: ['18'],
    });
  });
  it('one extension per manager: a new one replaces the old', () => {
    expect(applyExtensions({ '18': '150' }, { '18': '151' }).next).toEqual({ '18': '151' });
  });
  it('swaps within one request', () => {
    expect(applyExtensions({ '18': '150', '19': '151' }, { '18': '151', '19': '150' })).toEqual({
      next: { '18': '151', '19': '150' },
      displaced: [],
    });
  });
  it('refuses the same extension twice in one request', () => {
    expect(() => applyExtensions({}, { '18': '150', '19': '150' })).toThrow(ExtensionConflictError);
  });
  it('reverse map', () => {
    expect([...ownersByExtension({ '18': '150', '19': null })]).toEqual([['150', '18']]);
  });
});
