/**
 * The `local` provider passes the cloud provider conformance suite (conformance.ts), listening
 * for real: its balancers bind addresses of a pool of its own (127.98.6.32/28, apart from the
 * other local suites' pools) at the suite's random ports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createLocalProvider } from '../../actors/cloud/providers/index.js';
import { describeProviderConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'kubus-local-conformance-'));
const configFile = join(dir, 'cloud.yaml');
writeFileSync(configFile, 'pool: 127.98.6.32/28\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeProviderConformance('local', (fixture) => createLocalProvider({ configFile, clusterName: fixture.clusterName, clock: fixture.clock, logger: fixture.logger }));
