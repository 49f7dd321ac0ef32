/** The admin kubeconfig `kubus up` writes: one cluster (with its CA), one token user, one context. */
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  readonly clusterName: string;
  readonly server: string;
  readonly caCertPem: string;
  readonly token: string;
  readonly userName: string;
}

export function kubeconfigYaml(options: KubeconfigOptions): string {
  const context = `${options.userName}@${options.clusterName}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: options.clusterName, cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.caCertPem).toString('base64') } }],
    users: [{ name: options.userName, user: { token: options.token } }],
    contexts: [{ name: context, context: { cluster: options.clusterName, user: options.userName, namespace: 'default' } }],
    'current-context': context,
    preferences: {},
  });
}
