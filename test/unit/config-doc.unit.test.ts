// docs/configuration.md is the table of every environment variable, generated from the
// schema in src/config.ts: it must list every variable the schema reads, each with its
// comment, and say exactly what the generator says today.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_VARIABLES } from '../../src/config.js';
// @ts-expect-error: a plain-JS script of the project's, without type declarations
import { CONFIG_DOC, CONFIG_SOURCE, renderConfigDoc, variablesOf } from '../../scripts/config-doc.mjs';

const source = readFileSync(CONFIG_SOURCE, 'utf8');

describe('docs/configuration.md', () => {
  it('covers every variable of the schema, each with its comment', () => {
    expect((variablesOf(source) as { name: string }[]).map((v) => v.name)).toEqual(ENVIRONMENT_VARIABLES);
  });

  it('is what `node scripts/config-doc.mjs` writes from src/config.ts today', () => {
    expect(readFileSync(CONFIG_DOC, 'utf8')).toBe(renderConfigDoc(source));
  });

  it('refuses a variable without a comment, by name', () => {
    const undocumented = source.replace(/\/\*\* The least severe level logged[^\n]*\n/, '');
    expect(() => renderConfigDoc(undocumented)).toThrow('no doc comment for SLUICE_LOG_LEVEL');
  });
});
