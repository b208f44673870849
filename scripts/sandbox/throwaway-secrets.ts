// The environment a sandbox bootstrap needs: a throwaway random value for every prerequisite
// secret whose variable is unset (the demo and the benchmarks; never for a real cluster).
import { randomBytes } from 'node:crypto';
import type { ClusterConfig } from '../../tasks/lib/model/config.ts';

/** The environment to run with, and the variables that got a throwaway value. */
export function withThrowawaySecrets(clusters: ClusterConfig[], base: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; invented: string[] } {
  const env: NodeJS.ProcessEnv = { ...base };
  const invented: string[] = [];
  for (const source of clusters.flatMap((c) => c.prerequisites.secrets.flatMap((s) => Object.values(s.data)))) {
    if ('env' in source && !env[source.env]) {
      env[source.env] = randomBytes(16).toString('hex');
      invented.push(source.env);
    }
  }
  return { env, invented };
}
