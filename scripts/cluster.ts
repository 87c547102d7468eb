// npm run cluster:start | cluster:stop | cluster:restart-apiserver [SECONDS]
import { readState, startApiServer, startCluster, stopApiServer, stopCluster } from './cluster-lib.ts';

const [command, arg] = process.argv.slice(2);
try {
  switch (command) {
    case 'start':
      await startCluster();
      break;
    case 'stop':
      process.stderr.write((await stopCluster()) ? 'cluster: stopped\n' : 'cluster: not running\n');
      break;
    case 'restart-apiserver': {
      const state = readState();
      if (!state) throw new Error('the cluster is not running (npm run cluster:start)');
      const seconds = Number(arg ?? '3');
      await stopApiServer(state);
      process.stderr.write(`cluster: kube-apiserver stopped; starting it again in ${seconds}s\n`);
      await new Promise((r) => setTimeout(r, seconds * 1000));
      await startApiServer(state);
      process.stderr.write('cluster: kube-apiserver ready again\n');
      break;
    }
    default:
      process.stderr.write('usage: node scripts/cluster.ts start|stop|restart-apiserver [SECONDS]\n');
      process.exit(2);
  }
} catch (err) {
  process.stderr.write(`cluster: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
