/** NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes only pods tolerating its taint. */
import { isTolerated, nodeTaints } from '../../objects/index.js';
import { failure, skip, type FilterPlugin } from '../framework.js';

const name = 'NodeUnschedulable';
const cordoned = failure(name, 'UnschedulableAndUnresolvable', 'node(s) were unschedulable');

export const nodeUnschedulable: FilterPlugin = {
  name,
  prepare(pod) {
    if (isTolerated({ key: nodeTaints.unschedulable, effect: 'NoSchedule' }, pod.pod.spec?.tolerations)) return skip;
    return (node) => (node.unschedulable ? cordoned : undefined);
  },
};
