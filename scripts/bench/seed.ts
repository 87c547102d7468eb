// The benchmark's data on the test cluster: namespaces of locks, many of them copied from one real lock that
// `kubectl cmlock acquire` wrote (so the bench never depends on the record's layout), among unrelated
// ConfigMaps, created in parallel over one HTTP/2 connection; and their removal (one deletecollection per
// namespace, then the namespace).

import type { AdminClient } from '../apiserver.ts';

/** What `kubectl get cm -l ...` selects: the label every cmlock lock carries. */
export const MANAGED_BY = 'app.kubernetes.io/managed-by=kubectl-cmlock';

interface ConfigMap {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

export async function createNamespace(api: AdminClient, name: string): Promise<void> {
  await api.ok('POST', '/api/v1/namespaces', { metadata: { name, labels: { 'cmlock-bench': 'true' } } }, [409]);
}

/** The lock ConfigMap `name` in `namespace`, as a template: name, labels and data only. */
export async function lockTemplate(api: AdminClient, namespace: string, name: string): Promise<ConfigMap> {
  const r = await api.ok('GET', `/api/v1/namespaces/${namespace}/configmaps/${name}`);
  const cm = JSON.parse(r.body) as ConfigMap;
  return { metadata: { name, labels: cm.metadata.labels ?? {} }, data: cm.data ?? {} };
}

/** A ConfigMap of someone else's application, about the size of a small config file. */
function unrelated(name: string): ConfigMap {
  return {
    metadata: { name, labels: { app: 'bench-app' } },
    data: { 'config.yaml': `# ${name}\n${'key: value\n'.repeat(40)}` },
  };
}

export interface Seeded {
  locks: number;
  others: number;
  ms: number;
}

/** `locks` copies of `template` named `${prefix}NNNNN`, and `others` unrelated ConfigMaps, in parallel. */
export async function seedNamespace(
  api: AdminClient,
  namespace: string,
  template: ConfigMap,
  locks: number,
  others: number,
  prefix = 'lock-',
): Promise<Seeded> {
  const start = performance.now();
  await createNamespace(api, namespace);
  const pad = (i: number): string => String(i).padStart(5, '0');
  const objects: ConfigMap[] = [
    ...Array.from({ length: locks }, (_, i) => ({
      ...template,
      metadata: { ...template.metadata, name: `${prefix}${pad(i)}` },
    })),
    ...Array.from({ length: others }, (_, i) => unrelated(`app-config-${pad(i)}`)),
  ];
  await api.forEach(objects, (cm) => api.ok('POST', `/api/v1/namespaces/${namespace}/configmaps`, cm, [409]));
  return { locks, others, ms: performance.now() - start };
}

/** Removes the namespaces' ConfigMaps (one request each) and the namespaces; does not wait for them to go. */
export async function removeNamespaces(api: AdminClient, namespaces: readonly string[]): Promise<void> {
  await api.forEach(namespaces, async (ns) => {
    await api.ok('DELETE', `/api/v1/namespaces/${ns}/configmaps`, undefined, [404]);
    await api.ok('DELETE', `/api/v1/namespaces/${ns}`, undefined, [404, 409]);
  });
}

/** Namespaces an earlier, interrupted bench left behind. */
export async function leftoverNamespaces(api: AdminClient): Promise<string[]> {
  const r = await api.ok('GET', '/api/v1/namespaces?labelSelector=cmlock-bench%3Dtrue');
  return (JSON.parse(r.body) as { items: { metadata: { name: string } }[] }).items.map((n) => n.metadata.name);
}

/** Waits until none of the namespaces exists any more (the namespace controller empties them). */
export async function namespacesGone(
  api: AdminClient,
  namespaces: readonly string[],
  timeoutMs = 120_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const left = await leftoverNamespaces(api);
    if (!left.some((n) => namespaces.includes(n))) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}
