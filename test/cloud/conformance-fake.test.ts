/**
 * The conformance suite proves itself on the in-memory fake provider (fake-cloud.ts), scripted:
 * every check it makes of `local` and `sim` passes on a provider that keeps the contract.
 */
import { describeProviderConformance } from './conformance.js';
import { FakeCloud, fakeProvider } from './fake-cloud.js';
import { SystemClock } from '../../bus/index.js';

let cloud: FakeCloud | null = null;

describeProviderConformance('fake', async (fixture) => {
  if (cloud === null) {
    cloud = new FakeCloud({ clock: new SystemClock(), seed: 7 });
    for (const node of fixture.nodes) cloud.addInstance(node.metadata?.name ?? '', { addresses: node.status?.addresses ?? [] });
  }
  return fakeProvider(cloud);
}, () => (cloud as FakeCloud).script());
