/**
 * The scheduling decision, replayed on snapshots built from plain objects: for each case of the
 * table, the node the pod lands on or the exact FailedScheduling message Kubernetes 1.32 would
 * write (filter reasons sorted as Go's sort.Strings, then preemption's verdict, with its double
 * period). Then the plugins' scores, the adaptive node count and preemption's choice of victims.
 */
import { describe, expect, it } from 'vitest';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import {
  buildSnapshot, defaultFilters, fitErrorMessage, numFeasibleNodesToFind, podInfo, preempt, schedule,
} from '../../actors/scheduler/index.js';
import { claimsToAnnotate } from '../../actors/scheduler/plugins/index.js';
import { node, pod } from './fixtures.js';

interface World {
  nodes: Node[];
  pods?: Pod[];
  claims?: PersistentVolumeClaim[];
  volumes?: PersistentVolume[];
  storageClasses?: StorageClass[];
  pdbs?: PodDisruptionBudget[];
}

/** The node chosen, or `preempt <node>: victims`, or the FailedScheduling message. */
function outcome(world: World, incoming: Pod): string {
  const snapshot = buildSnapshot(world);
  const info = podInfo(incoming);
  const result = schedule(info, snapshot);
  if ('node' in result) return result.node;
  const verdict = preempt(info, snapshot, { diagnosis: result.unschedulable, filters: defaultFilters, pdbs: world.pdbs ?? [] });
  if ('victims' in verdict) return `preempt ${verdict.node}: ${verdict.victims.map((v) => v.pod.metadata?.name).join(',')}`;
  return fitErrorMessage(result.unschedulable, verdict.message);
}

const zone = (z: string): Record<string, string> => ({ 'topology.kubernetes.io/zone': z });
const antiWeb = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } }] } };

describe('the decision table', () => {
  const cases: { name: string; world: World; pod: Pod; expect: string }[] = [
    { name: 'resources: the node with room', world: { nodes: [node('small', { cpu: '1' }), node('big', { cpu: '4' })] }, pod: pod('p', { cpu: '2' }), expect: 'big' },
    {
      name: 'resources and taints: the message counts each reason',
      world: { nodes: [node('n1', { cpu: '1' }), node('n2', { cpu: '1' }), node('n3', { cpu: '8', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })] },
      pod: pod('p', { cpu: '2' }),
      expect: '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..',
    },
    {
      name: 'taints: a toleration admits the pod',
      world: { nodes: [node('n1', { cpu: '1' }), node('n3', { cpu: '8', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })] },
      pod: pod('p', { cpu: '2', spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } }),
      expect: 'n3',
    },
    {
      name: 'resources: cpu and memory are two reasons',
      world: { nodes: [node('n1', { cpu: '1', memory: '1Gi' })] }, pod: pod('p', { cpu: '2', memory: '2Gi' }),
      expect: '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..',
    },
    {
      name: 'resources: the pod count is a resource',
      world: { nodes: [node('n1', { pods: 1 })], pods: [pod('old', { nodeName: 'n1' })] }, pod: pod('p'),
      expect: '0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..',
    },
    {
      name: "resources: an init container's request counts when it is the largest",
      world: { nodes: [node('n1', { cpu: '2' })] },
      pod: pod('p', { cpu: '1', spec: { initContainers: [{ name: 'init', image: 'x', resources: { requests: { cpu: '3' } } }] } }),
      expect: '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..',
    },
    {
      name: 'resources: requests add up with the pods already there',
      world: { nodes: [node('n1', { cpu: '2' }), node('n2', { cpu: '2' })], pods: [pod('a', { cpu: '1500m', nodeName: 'n1' })] },
      pod: pod('p', { cpu: '1' }), expect: 'n2',
    },
    { name: 'node affinity: nodeSelector', world: { nodes: [node('a1', { labels: zone('a') }), node('b1', { labels: zone('b') })] }, pod: pod('p', { spec: { nodeSelector: zone('b') } }), expect: 'b1' },
    {
      name: 'node affinity: required terms (NotIn)',
      world: { nodes: [node('a1', { labels: zone('a') }), node('b1', { labels: zone('b') })] },
      pod: pod('p', { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'NotIn', values: ['b'] }] }] } } } } }),
      expect: 'a1',
    },
    {
      name: 'node affinity: nothing matches',
      world: { nodes: [node('a1', { labels: zone('a') }), node('b1', { labels: zone('b') })] }, pod: pod('p', { spec: { nodeSelector: zone('c') } }),
      expect: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..",
    },
    {
      name: 'pod anti-affinity: away from the web pod',
      world: { nodes: [node('n1'), node('n2')], pods: [pod('web-1', { labels: { app: 'web' }, nodeName: 'n1' })] },
      pod: pod('web-2', { labels: { app: 'web' }, spec: { affinity: antiWeb } }), expect: 'n2',
    },
    {
      name: 'pod anti-affinity: every node taken',
      world: { nodes: [node('n1'), node('n2')], pods: [pod('web-1', { labels: { app: 'web' }, nodeName: 'n1' }), pod('web-2', { labels: { app: 'web' }, nodeName: 'n2' })] },
      pod: pod('web-3', { labels: { app: 'web' }, spec: { affinity: antiWeb } }),
      expect: "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..",
    },
    {
      name: "pod anti-affinity: an existing pod's rule refuses the newcomer",
      world: { nodes: [node('n1'), node('n2')], pods: [pod('web-1', { labels: { app: 'web' }, nodeName: 'n1', spec: { affinity: antiWeb } })] },
      pod: pod('web-2', { labels: { app: 'web' } }), expect: 'n2',
    },
    {
      name: 'pod anti-affinity: in another namespace it does not count',
      world: { nodes: [node('n1')], pods: [pod('web-1', { labels: { app: 'web' }, nodeName: 'n1', namespace: 'other' })] },
      pod: pod('web-2', { labels: { app: 'web' }, spec: { affinity: antiWeb } }), expect: 'n1',
    },
    {
      name: 'pod affinity: into the zone of the db',
      world: { nodes: [node('a1', { labels: zone('a') }), node('b1', { labels: zone('b') }), node('b2', { labels: zone('b') })], pods: [pod('db', { labels: { app: 'db' }, nodeName: 'b2', cpu: '4' })] },
      pod: pod('p', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { app: 'db' } } }] } } } }),
      expect: 'b1',
    },
    {
      name: 'pod affinity: no matching pod anywhere',
      world: { nodes: [node('a1', { labels: zone('a') })] },
      pod: pod('p', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { app: 'db' } } }] } } } }),
      expect: "0/1 nodes are available: 1 node(s) didn't match pod affinity rules. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..",
    },
    {
      name: 'spread: DoNotSchedule keeps the zones within maxSkew',
      world: {
        nodes: [node('a1', { labels: zone('a') }), node('a2', { labels: zone('a') }), node('b1', { labels: zone('b'), cpu: '1' })],
        pods: [pod('w1', { labels: { app: 'w' }, nodeName: 'a1' })],
      },
      pod: pod('w2', { labels: { app: 'w' }, spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'w' } } }] } }),
      expect: 'b1',
    },
    {
      name: 'spread: skew and a node missing the key',
      world: {
        nodes: [node('a1', { labels: zone('a') }), node('b1', { labels: zone('b'), cpu: '1' }), node('x')],
        pods: [pod('w1', { labels: { app: 'w' }, nodeName: 'a1' }), pod('filler', { cpu: '1', nodeName: 'b1' })],
      },
      pod: pod('w2', { labels: { app: 'w' }, cpu: '500m', spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'w' } } }] } }),
      expect: "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match pod topology spread constraints, 1 node(s) didn't match pod topology spread constraints (missing required label). preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..",
    },
    { name: 'ports: the free one', world: { nodes: [node('n1'), node('n2')], pods: [pod('a', { hostPort: 8080, nodeName: 'n1' })] }, pod: pod('p', { hostPort: 8080 }), expect: 'n2' },
    {
      name: 'ports: all used',
      world: { nodes: [node('n1'), node('n2')], pods: [pod('a', { hostPort: 8080, nodeName: 'n1' }), pod('b', { hostPort: 8080, nodeName: 'n2' })] },
      pod: pod('p', { hostPort: 8080 }),
      expect: "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..",
    },
    { name: 'unschedulable: a cordoned node is skipped', world: { nodes: [node('n1', { unschedulable: true }), node('n2', { cpu: '1' })] }, pod: pod('p'), expect: 'n2' },
    {
      name: 'unschedulable: all cordoned',
      world: { nodes: [node('n1', { unschedulable: true }), node('n2', { unschedulable: true })] }, pod: pod('p'),
      expect: '0/2 nodes are available: 2 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..',
    },
    {
      name: 'unschedulable: tolerating the unschedulable taint',
      world: { nodes: [node('n1', { unschedulable: true })] },
      pod: pod('p', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } }), expect: 'n1',
    },
    {
      name: 'no nodes at all',
      world: { nodes: [] }, pod: pod('p'), expect: 'no nodes available to schedule pods',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(outcome(c.world, c.pod)).toBe(c.expect);
    });
  }
});

describe('volumes', () => {
  const wffc: StorageClass = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local' }, provisioner: 'kubus.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' };
  const immediate: StorageClass = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' }, provisioner: 'x', volumeBindingMode: 'Immediate' };
  const claim = (name: string, className: string, volumeName?: string): PersistentVolumeClaim => ({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' },
    spec: { storageClassName: className, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(volumeName ? { volumeName } : {}) },
  });
  const withClaim = (name: string): Pod => pod('p', { spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: name } }] } });

  it('an unbound Immediate claim makes the pod unschedulable (PreFilter message)', () => {
    expect(outcome({ nodes: [node('n1'), node('n2')], claims: [claim('c', 'fast')], storageClasses: [immediate] }, withClaim('c')))
      .toBe('0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..');
  });
  it('a missing claim is named', () => {
    expect(outcome({ nodes: [node('n1')] }, withClaim('gone')))
      .toBe('0/1 nodes are available: persistentvolumeclaim "gone" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..');
  });
  it("a bound claim follows its PV's node affinity", () => {
    const pv: PersistentVolume = {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' },
      spec: { capacity: { storage: '1Gi' }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] }] } } },
    };
    expect(outcome({ nodes: [node('n1'), node('n2', { cpu: '1' })], claims: [claim('c', 'local', 'pv1')], volumes: [pv], storageClasses: [wffc] }, withClaim('c'))).toBe('n2');
    expect(outcome({ nodes: [node('n1')], claims: [claim('c', 'local', 'pv1')], volumes: [pv], storageClasses: [wffc] }, withClaim('c')))
      .toBe('0/1 nodes are available: 1 node(s) had volume node affinity conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..');
  });
  it('an unbound WaitForFirstConsumer claim goes anywhere and is annotated with the chosen node', () => {
    const snapshot = buildSnapshot({ nodes: [node('n1')], claims: [claim('c', 'local')], storageClasses: [wffc] });
    const info = podInfo(withClaim('c'));
    const result = schedule(info, snapshot);
    expect('node' in result && result.node).toBe('n1');
    expect(claimsToAnnotate(info, snapshot, 'n1')).toEqual(['c']);
  });
});

describe('scores', () => {
  it('LeastAllocated: the emptier node', () => {
    expect(outcome({ nodes: [node('busy'), node('idle')], pods: [pod('x', { cpu: '3', memory: '6Gi', nodeName: 'busy' })] }, pod('p', { cpu: '1', memory: '1Gi' }))).toBe('idle');
  });
  it('TaintToleration: a PreferNoSchedule taint is avoided when another node fits', () => {
    expect(outcome({ nodes: [node('tainted', { taints: [{ key: 'k', value: 'v', effect: 'PreferNoSchedule' }] }), node('clean')] }, pod('p'))).toBe('clean');
  });
  it('NodeAffinity: the preferred zone', () => {
    const p = pod('p', { spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['b'] }] } }] } } } });
    expect(outcome({ nodes: [node('a1', { labels: zone('a') }), node('b1', { labels: zone('b') })] }, p)).toBe('b1');
  });
  it('InterPodAffinity: preferred anti-affinity moves away', () => {
    const p = pod('p', { labels: { app: 'web' }, spec: { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } } }] } } } });
    expect(outcome({ nodes: [node('n1'), node('n2')], pods: [pod('w', { labels: { app: 'web' }, nodeName: 'n2' })] }, p)).toBe('n1');
  });
  it('PodTopologySpread: ScheduleAnyway prefers the emptier domain', () => {
    const p = pod('p', { labels: { app: 'w' }, spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'w' } } }] } });
    const pods = [pod('w1', { labels: { app: 'w' }, nodeName: 'a1' }), pod('w2', { labels: { app: 'w' }, nodeName: 'a1' })];
    expect(outcome({ nodes: [node('a1', { labels: zone('a') }), node('b1', { labels: zone('b') })], pods }, p)).toBe('b1');
  });
  it('ties are broken by the tie-break input, so a replay picks the same node', () => {
    const snapshot = buildSnapshot({ nodes: [node('n1'), node('n2'), node('n3')] });
    const picks = [0, 1, 2, 3].map((t) => {
      const r = schedule(podInfo(pod('p')), snapshot, { ...defaultConfig(), tieBreak: t });
      return 'node' in r ? r.node : '';
    });
    expect(picks).toEqual(['n1', 'n2', 'n3', 'n1']);
  });
});

function defaultConfig() {
  return { filters: defaultFilters, scorers: [], percentageOfNodesToScore: 0, startIndex: 0, tieBreak: 0 };
}

describe('nodes evaluated (percentageOfNodesToScore, adaptive)', () => {
  it('as Kubernetes: all below 100, 50% - n/125 (at least 5%), never fewer than 100', () => {
    expect(numFeasibleNodesToFind(50, 0)).toBe(50);
    expect(numFeasibleNodesToFind(150, 0)).toBe(100);
    expect(numFeasibleNodesToFind(1000, 0)).toBe(420);
    expect(numFeasibleNodesToFind(5000, 0)).toBe(500);
    expect(numFeasibleNodesToFind(6000, 0)).toBe(300);
    expect(numFeasibleNodesToFind(1000, 20)).toBe(200);
  });
  it('stops after enough feasible nodes and the next decision starts where it stopped', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => node(`n${i}`));
    const snapshot = buildSnapshot({ nodes });
    const first = schedule(podInfo(pod('p')), snapshot);
    expect('node' in first && [first.evaluatedNodes, first.feasibleNodes, first.nextStartIndex]).toEqual([420, 420, 420]);
    const second = schedule(podInfo(pod('q')), snapshot, { ...defaultConfig(), startIndex: 900 });
    expect(second.nextStartIndex).toBe(320);
  });
});

describe('preemption', () => {
  const low = (name: string, nodeName: string, priority: number, cpu = '2', labels: Record<string, string> = {}): Pod => pod(name, { cpu, nodeName, priority, labels });

  it('evicts only as many lower-priority pods as needed', () => {
    const world = { nodes: [node('n1', { cpu: '4' })], pods: [low('a', 'n1', 1), low('b', 'n1', 2)] };
    expect(outcome(world, pod('hi', { cpu: '2', priority: 100 }))).toBe('preempt n1: a');
  });
  it('prefers the node whose most important victim is least important', () => {
    const world = { nodes: [node('n1', { cpu: '2' }), node('n2', { cpu: '2' })], pods: [low('a', 'n1', 5), low('b1', 'n2', 1, '1'), low('b2', 'n2', 1, '1')] };
    expect(outcome(world, pod('hi', { cpu: '2', priority: 100 }))).toBe('preempt n2: b1,b2');
  });
  it('prefers fewer victims at equal priority', () => {
    const world = { nodes: [node('n1', { cpu: '2' }), node('n2', { cpu: '2' })], pods: [low('a', 'n1', 1, '2'), low('b1', 'n2', 1, '1'), low('b2', 'n2', 0, '1')] };
    expect(outcome(world, pod('hi', { cpu: '2', priority: 100 }))).toBe('preempt n1: a');
  });
  it('puts PDB-violating victims last', () => {
    const pdb: PodDisruptionBudget = {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'keep', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'keep' } } }, status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
    };
    const world = { nodes: [node('n1', { cpu: '2' }), node('n2', { cpu: '2' })], pods: [low('a', 'n1', 1, '2', { app: 'keep' }), low('b', 'n2', 2, '2')], pdbs: [pdb] };
    expect(outcome(world, pod('hi', { cpu: '2', priority: 100 }))).toBe('preempt n2: b');
  });
  it('never touches equal or higher priorities', () => {
    const world = { nodes: [node('n1', { cpu: '2' })], pods: [low('a', 'n1', 100)] };
    expect(outcome(world, pod('hi', { cpu: '2', priority: 100 })))
      .toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..');
  });
  it('preemptionPolicy Never', () => {
    const world = { nodes: [node('n1', { cpu: '2' })], pods: [low('a', 'n1', 1)] };
    expect(outcome(world, pod('hi', { cpu: '2', priority: 100, spec: { preemptionPolicy: 'Never' } })))
      .toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..');
  });
  it('a node where even evicting everything lower does not help reports its filter reason', () => {
    const world = { nodes: [node('n1', { cpu: '2' })], pods: [low('a', 'n1', 1, '1')] };
    expect(outcome(world, pod('hi', { cpu: '3', priority: 100 })))
      .toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu..');
  });
  it('a nominated pod holds its space against lower priorities', () => {
    const snapshot = buildSnapshot({ nodes: [node('n1', { cpu: '2' })], pods: [{ ...pod('nominee', { cpu: '2', priority: 100 }), status: { phase: 'Pending', nominatedNodeName: 'n1' } }] });
    expect('node' in schedule(podInfo(pod('small', { cpu: '1', priority: 1 })), snapshot)).toBe(false);
    expect('node' in schedule(podInfo(pod('big', { cpu: '1', priority: 1000 })), snapshot)).toBe(true);
  });
});
