/**
 * Node IPAM on a 3-member cluster of real processes, with a cluster CIDR of four /24s
 * (`--cluster-cidr 10.244.0.0/22`) so that running out is reachable:
 *
 * - 3 Nodes get distinct /24s (`spec.podCIDR` = `spec.podCIDRs[0]`), a 4th the last one;
 * - a 5th finds the range full: no podCIDR, a `CIDRNotAvailable` Event on it; deleting a Node
 *   frees its range and the waiting Node gets exactly that one;
 * - kill -9 of the member holding the controller-manager Lease: the next leader rebuilds the
 *   allocation from the Nodes before handing anything out, so a Node created after another is
 *   deleted gets the freed range, never one a live Node holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, Node } from 'kubernetes-types/core/v1.js';
import { refs } from '../../actors/controllers/runtime/index.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, createHollowNodes, memberOfIdentity, waitForLeaseHolder } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

describe.runIf(runs)('node IPAM', () => {
  let h: ApiHarness;

  beforeAll(async () => {
    h = await startApiHarness({ serverArgs: ['--cluster-cidr', '10.244.0.0/22'] });
  });

  afterAll(async () => {
    await h?.stop();
  });

  const api = (): ReturnType<typeof adminApi> => adminApi(h);
  const podCidrOf = async (name: string): Promise<string | undefined> => {
    const node = await api().get<Node>(refs.nodes, undefined, name);
    if (node.spec?.podCIDR !== undefined) expect(node.spec.podCIDRs).toEqual([node.spec.podCIDR]);
    return node.spec?.podCIDR;
  };
  const waitCidr = (name: string): Promise<string> => waitUntil(`a pod CIDR on ${name}`, () => podCidrOf(name), { timeoutMs: 15_000 });
  const cidrsByNode = async (): Promise<Record<string, string | undefined>> => {
    const { items } = await api().list<Node>(refs.nodes);
    return Object.fromEntries(items.map((n) => [n.metadata?.name as string, n.spec?.podCIDR]));
  };

  it('distinct /24s for every Node, CIDRNotAvailable when full, a deleted Node\'s range reused', async () => {
    const first = await createHollowNodes(h, 3, { prefix: 'ipam' });
    const ranges = await Promise.all(first.map(waitCidr));
    expect([...ranges].sort()).toEqual(['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24']);
    const [fourth] = await createHollowNodes(h, 1, { prefix: 'ipam', from: 4 });
    expect(await waitCidr(fourth as string)).toBe('10.244.3.0/24');

    const [fifth] = await createHollowNodes(h, 1, { prefix: 'ipam', from: 5 });
    const event = await waitUntil('CIDRNotAvailable on ipam-5', async () => {
      const { items } = await api().list<Event>(refs.events, { namespace: 'default' });
      return items.find((e) => e.reason === 'CIDRNotAvailable' && e.involvedObject.kind === 'Node' && e.involvedObject.name === fifth);
    }, { timeoutMs: 15_000 });
    expect(event.message).toBe(`Node ${fifth} status is now: CIDRNotAvailable`);
    expect(await podCidrOf(fifth as string)).toBeUndefined();

    const freed = await podCidrOf('ipam-2');
    await api().delete(refs.nodes, undefined, 'ipam-2');
    expect(await waitCidr(fifth as string)).toBe(freed);
    const all = Object.values(await cidrsByNode());
    expect(new Set(all).size).toBe(all.length);
  });

  it('after the controller manager\'s holder is killed, the new leader hands out only the freed range', async () => {
    const holder = await waitForLeaseHolder(h, 'kube-controller-manager');
    const member = memberOfIdentity(holder);
    await h.cluster.killAndWait(member);
    await waitForLeaseHolder(h, 'kube-controller-manager', { not: holder, timeoutMs: 20_000 });
    // ipam-3's range is freed; ipam-1's (lower in the rotation) must stay with ipam-1.
    const freed = await podCidrOf('ipam-3');
    await api().delete(refs.nodes, undefined, 'ipam-3');
    const [sixth] = await createHollowNodes(h, 1, { prefix: 'ipam', from: 6 });
    expect(await waitCidr(sixth as string)).toBe(freed);
    const byNode = await cidrsByNode();
    expect(Object.keys(byNode).sort()).toEqual(['ipam-1', 'ipam-4', 'ipam-5', 'ipam-6']);
    expect(new Set(Object.values(byNode)).size).toBe(4);
  });
});
