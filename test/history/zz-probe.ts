import { Prng } from '/work/main/bus/prng.js';
import { checkLinearizable, formatHistory } from '/work/main/scenarios/history/index.js';
import { generateHistory, bruteForceLinearizable } from '/work/main/test/history/register-histories.js';
const check = (ops: any) => checkLinearizable(ops, { timeBudgetMs: 10_000, now: () => performance.now() });
for (const [ops, unk, ab] of [[3000, 0.05, 0.05], [3000, 0.2, 0.2], [3000, 0.4, 0.3], [1000, 0.3, 0.3]] as const) {
  let worst = 0, total = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const h = generateHistory(seed, { clients: 3, keys: 4, operations: ops, unknownRate: unk, abandonRate: ab });
    const t = performance.now(); const v = check(h); const d = performance.now() - t;
    if (v.verdict !== 'ok') console.log('BAD', seed, v);
    worst = Math.max(worst, d); total += d;
  }
  console.log(ops, unk, ab, 'avg', (total / 20).toFixed(2), 'worst', worst.toFixed(2));
}
// mutated large: timings
let worst = 0; const counts: Record<string, number> = {};
for (let seed = 1; seed <= 50; seed++) {
  const h = generateHistory(seed, { clients: 3, keys: 4, operations: 3000, unknownRate: 0.1, abandonRate: 0.1 });
  const r = new Prng(seed);
  const targets = h.filter((o) => o.status === 'ok' && o.operation.type === 'get');
  const t0 = r.pick(targets);
  const m = h.map((o) => o === t0 ? { ...o, result: 'bogus' } : o);
  const t = performance.now(); const v = check(m); const d = performance.now() - t;
  counts[v.verdict] = (counts[v.verdict] ?? 0) + 1; worst = Math.max(worst, d);
  if (seed === 3 && v.verdict === 'violation') console.log(v.explanation);
}
console.log('mutated bogus', counts, 'worst', worst.toFixed(1));
