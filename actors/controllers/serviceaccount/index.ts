/** The default ServiceAccount and the root-CA ConfigMap in every namespace. */
export { rootCaCertPublisher, serviceAccountController } from './namespace-defaults-controllers.js';
export {
  defaultServiceAccount, defaultServiceAccountName, descriptionAnnotation, isNamespaceActive, rootCaAction, rootCaConfigMapName, rootCaDescription, rootCaKey,
  type ConfigMapAction,
} from './namespace-defaults.js';
