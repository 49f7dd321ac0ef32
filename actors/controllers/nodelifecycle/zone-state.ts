/**
 * Zone disruption, pure (Kubernetes' `ComputeZoneState` and `handleDisruption`): how fast Nodes
 * of each zone may be tainted NoExecute (which evicts their pods) when many fail at once.
 *
 * - Normal: `--node-eviction-rate` (0.1 Nodes/s).
 * - PartialDisruption, more than 2 Nodes and at least `--unhealthy-zone-threshold` (0.55) of the
 *   zone not Ready: `--secondary-node-eviction-rate` (0.01/s), or 0 when the zone has at most
 *   `--large-cluster-size-threshold` (50) Nodes: in a small zone that much failure is more likely
 *   the network than the Nodes, and evicting would only pile the pods onto the survivors.
 * - FullDisruption, no Node of the zone Ready: the normal rate, unless EVERY zone is fully
 *   disrupted: then the control plane itself is the likely problem (it cannot hear anyone), so
 *   no eviction at all, and the NoExecute taints already set are removed.
 * Leaving the all-zones-down state restarts every Node's grace period: the Nodes had no way to
 * reach us, so their silence during it proves nothing.
 */

export type ZoneState = 'Initial' | 'Normal' | 'PartialDisruption' | 'FullDisruption';

export interface DisruptionSettings {
  readonly nodeEvictionRate: number;
  readonly secondaryNodeEvictionRate: number;
  readonly unhealthyZoneThreshold: number;
  readonly largeClusterSizeThreshold: number;
}

/** A Node's zone (Kubernetes' GetZoneKey): region and zone labels, the beta ones as fallback; '' for none. */
export function zoneKey(labels: Readonly<Record<string, string>> | undefined): string {
  const region = labels?.['topology.kubernetes.io/region'] ?? labels?.['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = labels?.['topology.kubernetes.io/zone'] ?? labels?.['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\u0000:${zone}`;
}

/** A zone's state from its Nodes' Ready statuses (anything but True counts as not Ready). */
export function computeZoneState(readyStatuses: readonly (string | undefined)[], unhealthyZoneThreshold: number): { readonly notReady: number; readonly state: ZoneState } {
  const notReady = readyStatuses.filter((s) => s !== 'True').length;
  const ready = readyStatuses.length - notReady;
  if (ready === 0 && notReady > 0) return { notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / readyStatuses.length >= unhealthyZoneThreshold) return { notReady, state: 'PartialDisruption' };
  return { notReady, state: 'Normal' };
}

/** The tainting rate (Nodes per second) of a zone of `size` Nodes in `state`, when not every zone is down. */
export function zoneEvictionRate(state: ZoneState, size: number, settings: DisruptionSettings): number {
  if (state === 'PartialDisruption') return size > settings.largeClusterSizeThreshold ? settings.secondaryNodeEvictionRate : 0;
  return settings.nodeEvictionRate;
}

export interface DisruptionPlan {
  /** The states to remember for the next pass. */
  readonly zoneStates: ReadonlyMap<string, ZoneState>;
  /** Tainting rate per zone. */
  readonly rates: ReadonlyMap<string, number>;
  /** Every zone just went fully down: remove every Node's NoExecute taint. */
  readonly enteringFullDisruption: boolean;
  /** Every zone was down and now one is not: restart every Node's grace period. */
  readonly exitingFullDisruption: boolean;
  /** Every zone is down: no NoExecute taint may be set. */
  readonly allFullyDisrupted: boolean;
}

export function planDisruption(previous: ReadonlyMap<string, ZoneState>, zones: ReadonlyMap<string, readonly (string | undefined)[]>, settings: DisruptionSettings): DisruptionPlan {
  const next = new Map<string, ZoneState>();
  for (const [zone, statuses] of zones) next.set(zone, computeZoneState(statuses, settings.unhealthyZoneThreshold).state);
  const allAre = [...next.values()].every((s) => s === 'FullDisruption');
  // Zones gone since the last pass are forgotten; a new zone starts Initial, which is not "down".
  const known = [...zones.keys()].map((zone) => previous.get(zone) ?? 'Initial');
  const allWere = known.every((s) => s === 'FullDisruption');
  const allFullyDisrupted = allAre && next.size > 0;
  const rates = new Map<string, number>();
  for (const [zone, state] of next) rates.set(zone, allFullyDisrupted ? 0 : zoneEvictionRate(state, zones.get(zone)?.length ?? 0, settings));
  return {
    zoneStates: next, rates, allFullyDisrupted,
    enteringFullDisruption: allFullyDisrupted && !allWere,
    exitingFullDisruption: !allAre && allWere && known.length > 0,
  };
}
