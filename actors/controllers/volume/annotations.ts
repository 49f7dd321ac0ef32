/**
 * The annotations Kubernetes' PV controller, scheduler and provisioners exchange on claims and
 * volumes. They are the protocol between components (kubectl describe, external provisioners and
 * the scheduler read them), so kubus spells them exactly as Kubernetes does.
 */
export const volumeAnnotations = {
  /** On a claim: the controller finished binding it (value `yes`). */
  bindCompleted: 'pv.kubernetes.io/bind-completed',
  /** On a volume or claim: the controller, not the user, set the binding (value `yes`). */
  boundByController: 'pv.kubernetes.io/bound-by-controller',
  /** On a claim: the node the scheduler chose for its first consumer (WaitForFirstConsumer). */
  selectedNode: 'volume.kubernetes.io/selected-node',
  /** On a claim: the provisioner asked to create its volume. */
  storageProvisioner: 'volume.kubernetes.io/storage-provisioner',
  /** The beta spelling of the same, still read by external provisioners. */
  storageProvisionerBeta: 'volume.beta.kubernetes.io/storage-provisioner',
  /** On a volume: which provisioner created it (and so must delete it). */
  provisionedBy: 'pv.kubernetes.io/provisioned-by',
  /** On a StorageClass: the class claims without `storageClassName` get. */
  isDefaultClass: 'storageclass.kubernetes.io/is-default-class',
  isDefaultClassBeta: 'storageclass.beta.kubernetes.io/is-default-class',
  /** The pre-`storageClassName` spelling of a volume's class, still honoured by Kubernetes. */
  volumeClassBeta: 'volume.beta.kubernetes.io/storage-class',
} as const;

/** Kubernetes writes `yes` for the boolean binding annotations. */
export const annotationYes = 'yes';
