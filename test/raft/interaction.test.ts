/**
 * Runs every interaction script in test/raft/scripts: each command acts on an in-memory cluster
 * of Raft cores (see interaction.ts for the language) and its output must equal the expected
 * block under `----`. `UPDATE=1 npx vitest run --project unit test/raft` rewrites the expected
 * blocks from the actual output; review the diff before keeping it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InteractionEnv, parseScript, renderScript } from './interaction.js';

const scriptsDir = join(dirname(fileURLToPath(import.meta.url)), 'scripts');
const update = process.env['UPDATE'] === '1';

describe('raft interaction scripts', () => {
  for (const file of readdirSync(scriptsDir).filter((name) => name.endsWith('.txt')).sort()) {
    it(file, () => {
      const path = join(scriptsDir, file);
      const source = readFileSync(path, 'utf8');
      const env = new InteractionEnv();
      const outputs: string[] = [];
      for (const block of parseScript(source)) {
        const actual = env.run(block.command);
        outputs.push(actual);
        if (!update) expect(actual, `${file}:${block.line}: ${block.command}`).toBe(block.expected);
      }
      if (update) writeFileSync(path, renderScript(source, outputs));
    });
  }
});
