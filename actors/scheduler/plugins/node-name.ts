/** NodeName: a pod that names its node fits only there. */
import { failure, skip, type FilterPlugin } from '../framework.js';

const name = 'NodeName';
const mismatch = failure(name, 'UnschedulableAndUnresolvable', "node(s) didn't match the requested node name");

export const nodeName: FilterPlugin = {
  name,
  prepare(pod) {
    const wanted = pod.pod.spec?.nodeName;
    if (wanted === undefined || wanted === '') return skip;
    return (node) => (node.name === wanted ? undefined : mismatch);
  },
};
