/**
 * The workload both Service acceptance suites run (services, services-quorum): three process-runtime
 * HTTP servers answering their pod name on `$POD_IP:<port>`, Ready once they answer.
 */
export function webDeploymentJson(podPort: number): string {
  return JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 3, selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{
            name: 'web', image: 'kubus.io/process',
            command: [process.execPath, '-e', `require('http').createServer((q, s) => s.end(process.env.POD_NAME)).listen(${podPort}, process.env.POD_IP)`],
            env: [
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
            ports: [{ containerPort: podPort }],
            readinessProbe: { httpGet: { path: '/', port: podPort }, periodSeconds: 1, failureThreshold: 1 },
          }],
        },
      },
    },
  });
}
