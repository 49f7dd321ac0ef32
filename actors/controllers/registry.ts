/**
 * Every controller the controller manager can run, by the name `--controllers` uses. Each entry is
 * one actor spec (runtime/types.ts); the runtime runs the enabled ones while it holds the
 * `kube-system/kube-controller-manager` Lease.
 */
import type { ControllerSpec } from './runtime/types.js';
import { garbageCollector } from './garbage-collector/index.js';
import { namespaceController } from './namespace/index.js';
import { disruptionController } from './disruption/index.js';
import { persistentVolumeBinderSpec } from './volume/index.js';
import { endpointsController } from './endpoints/index.js';
import { endpointSliceController } from './endpointslice/index.js';
import { rootCaCertPublisher, serviceAccountController } from './serviceaccount/index.js';
import { resourceQuotaController } from './resourcequota/index.js';
import { replicaSetController } from './replicaset/index.js';
import { deploymentController } from './deployment/index.js';
import { nodeLifecycleController, taintEvictionController } from './nodelifecycle/index.js';
import { nodeIpamController } from './nodeipam/index.js';
import { podGcController } from './podgc/index.js';
import { nodeCredentialsController } from './nodecredentials/index.js';
import { assignmentRelay } from './assignmentrelay/index.js';
import { horizontalPodAutoscalerController } from './podautoscaler/index.js';

export const controllerSpecs: readonly ControllerSpec[] = [
  // One line per controller, added by the file that defines it.
  garbageCollector,
  namespaceController,
  disruptionController,
  persistentVolumeBinderSpec,
  endpointsController, endpointSliceController, serviceAccountController, rootCaCertPublisher, resourceQuotaController,
  replicaSetController, deploymentController,
  nodeLifecycleController, taintEvictionController, nodeIpamController, podGcController,
  nodeCredentialsController, assignmentRelay,
  horizontalPodAutoscalerController,
];
