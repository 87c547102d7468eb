// The Kubernetes layer: the only folder that imports @kubernetes/client-node.

export { connect, connectKubeConfig } from './connect.ts';
export { redact } from './redact.ts';
export type { ConnectOptions, KubeSession } from './types.ts';
/** The one client-node type that crosses: the KubeConfig a library caller hands in (lib/ only). */
export type { KubeConfig } from '@kubernetes/client-node';
