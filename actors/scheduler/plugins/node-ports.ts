/** NodePorts: a host port (protocol, port) is free unless used on the same IP or on 0.0.0.0 by either side. */
import { failure, skip, type FilterPlugin } from '../framework.js';
import { portKey } from '../node-info.js';

const name = 'NodePorts';
const conflict = failure(name, 'Unschedulable', "node(s) didn't have free ports for the requested pod ports");

export const nodePorts: FilterPlugin = {
  name,
  prepare(pod) {
    if (pod.hostPorts.length === 0) return skip;
    const wanted = pod.hostPorts.map((p) => ({ key: portKey(p), hostIP: p.hostIP }));
    return (node) => {
      for (const w of wanted) {
        const used = node.usedPorts.get(w.key);
        if (used === undefined) continue;
        if (w.hostIP === '0.0.0.0' || used.includes('0.0.0.0') || used.includes(w.hostIP)) return conflict;
      }
      return undefined;
    };
  },
};
