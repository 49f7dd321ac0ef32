import { defineConfig } from 'vitest/config';

// Projects so CI can report unit and integration separately; integration suites start real
// nats-server and member processes, so each project runs one file at a time on our 2-core
// machines (vitest runs the files of all projects in one sequence then). The whole-cluster suites
// (node agents, `kubus up`) are a third project, which `npm test` (test/run-all.mjs) runs as a
// second vitest process beside unit + integration, so the two slow streams overlap: every suite has
// its own directory, ports and processes, they share no state. The suites whose assertions bound
// answer times under faults (`timing`) then run alone, on a quiet machine. That keeps `npm test`
// under 20 minutes.
// Integration suites that run in the cluster stream instead, to even the two streams' lengths (CI at
// 0b898c7: integration 711 s, cluster 600 s; this one takes ≈36 s and shares nothing with the others).
const clusterStreamExtras = ['test/apiserver/kubernetes-service.integration.test.ts'];

const timingSuites = [
  'test/apiserver/partition.integration.test.ts', 'test/apiserver/quorum.integration.test.ts', 'test/apiserver/failover.integration.test.ts',
  'test/store/failover.integration.test.ts', 'test/controllers/leader-election.integration.test.ts', 'test/controllers/controller-failover.integration.test.ts',
  // Every request to a Service answered within its bound through a 30 s quorum loss.
  'test/cli/services-quorum.integration.test.ts',
  // 1,000 hollow nodes must stay Ready through 20 s of grace: beside the other stream's suites a
  // saturated store let one node's renewals stall past it (CI, 2026-12-02); it bounds answer times too.
  'test/nodeagent/hollow-scale.integration.test.ts',
  // A polite client's p99 under a flood (fairness), and eviction within a toleration's seconds
  // (node lifecycle): each missed its bound once beside the other stream (CI, 2026-12-02/03),
  // passing alone; together ≈23 s, taken from the longer stream.
  'test/apiserver/fairness.integration.test.ts', 'test/controllers/node-lifecycle.integration.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.integration.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.integration.test.ts'],
          exclude: ['test/nodeagent/**', 'test/cli/**', 'test/cloud/**', 'test/e2e/docker.integration.test.ts', ...clusterStreamExtras, ...timingSuites],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // Suites that bound how fast the cluster answers under faults (quorum loss, failover,
          // leader takeover): npm test runs them alone, after the parallel streams.
          name: 'timing',
          include: [...timingSuites],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'cluster',
          // The cloud suites run here to even the two streams' lengths (they share nothing with the others).
          // Of the container-runtime acceptance suites (test/e2e, ≈45 s each) the docker one runs here and
          // the cri one in the integration stream: measured in CI (784 s vs 683 s with both there), that evens them.
          include: ['test/nodeagent/**/*.integration.test.ts', 'test/cli/**/*.integration.test.ts', 'test/cloud/**/*.integration.test.ts', 'test/e2e/docker.integration.test.ts', ...clusterStreamExtras],
          exclude: [...timingSuites],
          testTimeout: 240_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
