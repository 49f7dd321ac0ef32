/**
 * The terminal helpers of process-runtime exec (nodeagent/runtime/process/terminal.ts): arguments
 * are quoted for `script -c` so each stays one word, quotes and `$` included (checked by running
 * them through sh); resizes wait for the terminal and the latest wins.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote, TerminalResizer } from '../../../nodeagent/runtime/process/terminal.js';

describe('terminal helpers', () => {
  it('quotes each argument as one word for sh', () => {
    const args = ["it's", '$HOME', 'a b', '', '"q"', '\\n', '*'];
    const printed = execFileSync('/bin/sh', ['-c', `for a in ${shellQuote(args)}; do printf '[%s]' "$a"; done`], { encoding: 'utf8' });
    expect(printed).toBe(args.map((a) => `[${a}]`).join(''));
  });

  it('holds a resize until the terminal is known', () => {
    let device: string | null = null;
    const resizer = new TerminalResizer(() => device);
    resizer.resize(80, 24);
    resizer.resize(100, 30);
    expect(resizer.hasPending()).toBe(true);
    device = '/dev/null-not-a-tty';
    resizer.flush();
    expect(resizer.hasPending()).toBe(false);
  });
});
