/**
 * The cloud-node and cloud-node-lifecycle controllers on a stub cluster and the fake cloud:
 * - an uninitialised Node gets providerID, zone/region/instance-type labels and the cloud's
 *   addresses (behind the agent's own InternalIP), the addresses first, then one update that also
 *   removes the taint; a Node without providerID is filled the same way; a heartbeat of an
 *   initialised Node costs no provider call;
 * - metadata failing: the taint stays, the Node is asked again with backoff, then initialised;
 *   no instance: nothing written (the lifecycle controller decides);
 * - lifecycle: a NotReady Node whose instance is terminated is deleted (with an Event); a stopped
 *   one is tainted shutdown and untainted once Ready; a running NotReady one and Ready ones are
 *   kept, Ready ones without a single provider call; a failing call about one Node does not stop
 *   the pass for the others.
 */
import { describe, expect, it } from 'vitest';
import type { Node } from 'kubernetes-types/core/v1.js';
import {
  cloudLimits, createCloudNodeController, createCloudNodeLifecycleController, shutdownTaint, topologyLabels, uninitializedTaintKey,
} from '../../actors/cloud/index.js';
import { refs } from '../../actors/controllers/runtime/index.js';
import type { KubeObject } from '../../actors/objects/meta.js';
import { CloudControllerHarness } from './controller-harness.js';

type NodeObject = KubeObject & Node;

function node(name: string, options: { ready?: boolean; uninitialized?: boolean; providerID?: string } = {}): NodeObject {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name },
    spec: {
      ...(options.providerID !== undefined ? { providerID: options.providerID } : {}),
      ...(options.uninitialized === true ? { taints: [{ key: uninitializedTaintKey, value: 'true', effect: 'NoSchedule' }] } : {}),
    },
    status: {
      addresses: [{ type: 'InternalIP', address: `127.32.0.${name.replace(/\D/g, '') || '1'}` }, { type: 'Hostname', address: name }],
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}

const getNode = (h: CloudControllerHarness, name: string): Promise<NodeObject> => h.api.get<NodeObject>(refs.nodes, undefined, name);

async function nodeCluster(nodes: NodeObject[]): Promise<CloudControllerHarness> {
  const h = new CloudControllerHarness((provider) => createCloudNodeController({ cloud: provider, clusterName: 'test' }));
  for (const n of nodes) {
    h.cloud.addInstance(n.metadata.name ?? '', { zone: 'zone-b', region: 'region-2', instanceType: 'fake.large', addresses: [{ type: 'InternalIP', address: '10.0.0.9' }, { type: 'ExternalIP', address: '203.0.113.9' }] });
    await h.api.create(refs.nodes, undefined, n);
  }
  await h.start();
  return h;
}

describe('cloud-node controller', () => {
  it('initialises a tainted Node: providerID, labels, addresses (status first), then the taint goes', async () => {
    const h = await nodeCluster([node('n1', { uninitialized: true })]);
    await h.run();
    const n1 = await getNode(h, 'n1');
    expect(n1.spec?.providerID).toBe('fake://n1');
    expect(n1.metadata.labels).toEqual({ [topologyLabels.zone]: 'zone-b', [topologyLabels.region]: 'region-2', [topologyLabels.instanceType]: 'fake.large' });
    expect(n1.spec?.taints).toEqual([]);
    expect(n1.status?.addresses).toEqual([
      { type: 'InternalIP', address: '127.32.0.1' }, { type: 'InternalIP', address: '10.0.0.9' }, { type: 'ExternalIP', address: '203.0.113.9' },
    ]);
    const writes = h.api.calls.filter((c) => c.startsWith('update nodes'));
    expect(writes).toHaveLength(2); // the status write, then the spec write (the harness's API tells them apart only by content)
    h.stop();
  });

  it('fills a Node without providerID the same way, and a heartbeat of an initialised Node costs no call', async () => {
    const h = await nodeCluster([node('n2')]);
    await h.run();
    expect((await getNode(h, 'n2')).spec?.providerID).toBe('fake://n2');
    const calls = h.cloud.calls.length;
    const n2 = await getNode(h, 'n2');
    await h.api.update(refs.nodes, undefined, 'n2', { ...n2, status: { ...n2.status, conditions: [{ type: 'Ready', status: 'True', message: 'beat' }] } }, { subresource: 'status' });
    await h.run();
    expect(h.cloud.calls.length).toBe(calls);
    await h.advance(cloudLimits.nodeStatusUpdatePeriodMs);
    expect(h.cloud.calls.length).toBe(calls + 1); // the periodic address check
    h.stop();
  });

  it('metadata failing: the taint stays, the Node is asked again with backoff, then initialised', async () => {
    const h = await nodeCluster([node('n3', { uninitialized: true })]);
    h.cloud.failureRate = 1;
    await h.run();
    expect((await getNode(h, 'n3')).spec?.taints?.map((t) => t.key)).toEqual([uninitializedTaintKey]);
    await h.advance(cloudLimits.nodeRetryBaseMs);
    expect(h.cloud.calls.filter((c) => c === 'instanceMetadata n3')).toHaveLength(2);
    h.cloud.failureRate = 0;
    await h.advance(cloudLimits.nodeRetryBaseMs * 2);
    expect((await getNode(h, 'n3')).spec?.taints).toEqual([]);
    expect(h.thrown).toEqual([]);
    h.stop();
  });

  it('no instance for the Node: nothing is written', async () => {
    const h = await nodeCluster([node('n4', { uninitialized: true })]);
    h.cloud.instances.delete('n4');
    await h.run();
    const n4 = await getNode(h, 'n4');
    expect(n4.spec?.taints?.map((t) => t.key)).toEqual([uninitializedTaintKey]);
    expect(n4.spec?.providerID).toBeUndefined();
    h.stop();
  });
});

async function lifecycleCluster(nodes: NodeObject[]): Promise<CloudControllerHarness> {
  const h = new CloudControllerHarness((provider) => createCloudNodeLifecycleController({ cloud: provider, clusterName: 'test' }), { options: { nodeMonitorPeriodMs: 5_000 } });
  for (const n of nodes) {
    h.cloud.addInstance(n.metadata.name ?? '');
    await h.api.create(refs.nodes, undefined, n);
  }
  await h.start();
  return h;
}

describe('cloud-node-lifecycle controller', () => {
  it('deletes a NotReady Node whose instance is gone; keeps Ready ones without asking the cloud', async () => {
    const h = await lifecycleCluster([node('n1'), node('n2', { ready: false }), node('n3')]);
    h.cloud.instances.get('n2')!.state = 'terminated';
    await h.run();
    await expect(getNode(h, 'n2')).rejects.toThrow(/not found/);
    expect(h.events.map((e) => `${e.reason} ${e.object}`)).toEqual(['DeletingNode /n2']);
    expect(h.cloud.calls).toEqual(['instanceShutdown n2', 'instanceExists n2']);
    h.stop();
  });

  it('taints a NotReady Node whose instance is stopped, and untaints it once Ready', async () => {
    const h = await lifecycleCluster([node('n1', { ready: false })]);
    h.cloud.instances.get('n1')!.state = 'stopped';
    await h.run();
    expect((await getNode(h, 'n1')).spec?.taints).toEqual([shutdownTaint]);
    h.cloud.instances.get('n1')!.state = 'running';
    const n1 = await getNode(h, 'n1');
    await h.api.update(refs.nodes, undefined, 'n1', { ...n1, status: { ...n1.status, conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
    await h.advance(5_000);
    expect((await getNode(h, 'n1')).spec?.taints).toEqual([]);
    h.stop();
  });

  it('keeps a NotReady Node whose instance runs, and a failing call about one Node does not stop the pass', async () => {
    const h = await lifecycleCluster([node('n1', { ready: false }), node('n2', { ready: false })]);
    h.cloud.instances.get('n2')!.state = 'terminated';
    h.cloud.failureRate = 1;
    await h.run();
    expect((await h.api.list(refs.nodes)).items).toHaveLength(2);
    expect(h.cloud.calls).toEqual(['instanceShutdown n1', 'instanceShutdown n2']);
    h.cloud.failureRate = 0;
    await h.advance(5_000);
    expect((await h.api.list(refs.nodes)).items.map((n) => n.metadata.name)).toEqual(['n1']);
    expect((await getNode(h, 'n1')).spec?.taints).toBeUndefined();
    expect(h.thrown).toEqual([]);
    h.stop();
  });
});
