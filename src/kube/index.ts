// The Kubernetes layer: the only folder that imports @kubernetes/client-node.

export { connect } from './connect.ts';
export { redact } from './redact.ts';
export type { ConnectOptions, KubeSession } from './types.ts';
