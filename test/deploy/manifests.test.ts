/**
 * deploy/ checked without a container engine or a cluster (none runs where the tests run): every Kubernetes manifest
 * is validated against the Kubernetes API's JSON schemas (bundled by kubernetes-models), the compose file's structure
 * is checked, and both are held to what the processes expect: probes on the paths and ports the API and the worker
 * serve, settings that @carecircle/config accepts, TRUST_PROXY behind the Ingress, restart policies and healthchecks.
 * What cannot be checked here (an image build, a cluster applying the manifests) is listed in deploy/README.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@carecircle/config';
import type { ModelData } from '@kubernetes-models/base';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IService } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const KUBERNETES = join(ROOT, 'deploy', 'kubernetes');
/**
 * What a container runs: Node directly, with the Node flags of `npm start` (the launcher's start script, so the two
 * cannot drift), on the launcher's entry point.
 */
const LAUNCH = (() => {
  const script = (JSON.parse(readFileSync(join(ROOT, 'services', 'launcher', 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const [exec, node, ...rest] = script.split(' ');
  if (exec !== 'exec' || node !== 'node' || rest.at(-1) !== 'src/main.ts') {
    throw new Error(`unexpected launcher start script: ${script}`);
  }
  return ['node', ...rest.slice(0, -1), 'services/launcher/src/main.ts'];
})();

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

/** The kinds deploy/kubernetes uses, each with its model (ESM-only, so imported dynamically). */
const MODELS: Record<string, () => Promise<ModelClass>> = {
  'v1/ConfigMap': async () => (await import('kubernetes-models/v1/ConfigMap')).ConfigMap,
  'v1/Service': async () => (await import('kubernetes-models/v1/Service')).Service,
  'apps/v1/Deployment': async () => (await import('kubernetes-models/apps/v1/Deployment')).Deployment,
  'policy/v1/PodDisruptionBudget': async () => (await import('kubernetes-models/policy/v1/PodDisruptionBudget')).PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': async () => (await import('kubernetes-models/networking.k8s.io/v1/Ingress')).Ingress,
};

interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  name: string;
  data: Record<string, unknown>;
}

function readManifests(): Manifest[] {
  return readdirSync(KUBERNETES)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(KUBERNETES, file), 'utf8')).map((doc) => {
        expect(doc.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
        const data = doc.toJS() as Record<string, unknown>;
        const metadata = data.metadata as { name?: string } | undefined;
        return { file, apiVersion: String(data.apiVersion), kind: String(data.kind), name: metadata?.name ?? '', data };
      }),
    );
}

const manifests = readManifests();

function only<T>(kind: string, name: string): ModelData<T> {
  const found = manifests.filter((m) => m.kind === kind && m.name === name);
  expect(found.map((m) => `${m.kind}/${m.name}`)).toEqual([`${kind}/${name}`]);
  return found[0]?.data as ModelData<T>;
}

/** Settings as a process in the cluster gets them: the ConfigMap plus the Secret's keys (placeholders) and `env`. */
function clusterConfig(role: string) {
  const configMap = only<IConfigMap>('ConfigMap', 'carecircle');
  return loadConfig({
    ...configMap.data,
    DATABASE_URL: 'postgres://carecircle@postgres:5432/carecircle',
    REDIS_URL: 'redis://redis:6379',
    ADMIN_TOKEN: 'a'.repeat(64),
    NODE_ENV: 'production',
    ROLE: role,
  });
}

describe('Kubernetes manifests', () => {
  test('every document in deploy/kubernetes is valid against the Kubernetes schemas', async () => {
    expect(manifests.length).toBeGreaterThanOrEqual(7);
    for (const manifest of manifests) {
      const load = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
      if (!load) {
        throw new Error(`${manifest.file}: no schema model for ${manifest.apiVersion} ${manifest.kind}; add it to MODELS`);
      }
      const Model = await load();
      try {
        new Model(manifest.data as never).validate();
      } catch (err) {
        throw new Error(`${manifest.file}: ${manifest.kind}/${manifest.name} is invalid: ${(err as Error).message}`);
      }
    }
  });

  test('a manifest that breaks the schema is caught (the validation is real)', async () => {
    const Deployment = await MODELS['apps/v1/Deployment']?.();
    const api = structuredClone(only<IDeployment>('Deployment', 'carecircle-api'));
    const container = api.spec?.template.spec?.containers[0];
    if (!Deployment || !container?.readinessProbe?.httpGet) {
      throw new Error('the API Deployment has no readiness probe');
    }
    (container.readinessProbe.httpGet as { port: unknown }).port = { not: 'a port' };
    expect(() => new Deployment(api as never).validate()).toThrow(/port/);
  });

  test('the API: liveness /healthz, readiness /readyz (the database only), startup allowing for migrations, resources', () => {
    const api = only<IDeployment>('Deployment', 'carecircle-api');
    const container = api.spec?.template.spec?.containers[0];
    const port = container?.ports?.find((p) => p.name === 'http');
    expect(port?.containerPort).toBe(clusterConfig('api').port);
    expect(container?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container?.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // A probe waits longer than one health check may take (2 s), so a slow check reports "fail" before the probe gives up.
    for (const probe of [container?.livenessProbe, container?.readinessProbe, container?.startupProbe]) {
      expect(probe?.timeoutSeconds).toBeGreaterThanOrEqual(3);
    }
    expect(container?.resources?.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
    expect(container?.resources?.limits).toEqual(expect.objectContaining({ memory: expect.any(String) }));
    expect(container?.env).toEqual(expect.arrayContaining([{ name: 'ROLE', value: 'api' }]));
  });

  test('the worker: probes on its health port, which is the WORKER_HEALTH_PORT the ConfigMap sets', () => {
    const worker = only<IDeployment>('Deployment', 'carecircle-worker');
    const container = worker.spec?.template.spec?.containers[0];
    const port = container?.ports?.find((p) => p.name === 'health');
    expect(port?.containerPort).toBe(clusterConfig('worker').workerHealthPort);
    expect(container?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container?.env).toEqual(expect.arrayContaining([{ name: 'ROLE', value: 'worker' }]));
    expect(container?.resources?.limits).toEqual(expect.objectContaining({ memory: expect.any(String) }));
  });

  test('the portal: ROLE=portal, probes on its port (/readyz asks Redis), the API inside the cluster, its key from a Secret', () => {
    const portal = only<IDeployment>('Deployment', 'carecircle-portal');
    const container = portal.spec?.template.spec?.containers[0];
    expect(container?.env).toEqual(expect.arrayContaining([{ name: 'ROLE', value: 'portal' }]));
    expect(container?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container?.envFrom).toEqual([{ secretRef: { name: 'carecircle' } }, { configMapRef: { name: 'carecircle' } }]);
    expect(container?.command).toEqual(LAUNCH);
    expect(container?.securityContext?.readOnlyRootFilesystem).toBe(true);
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
    const keyMount = container?.volumeMounts?.find((m) => m.name === 'portal-key');
    expect(env.PORTAL_KEY_FILE?.startsWith(`${keyMount?.mountPath}/`)).toBe(true);
    const apiService = only<IService>('Service', 'carecircle-api');
    expect(env.PORTAL_API_URL).toBe(`http://${apiService.metadata?.name}`);
    // The ConfigMap with this Deployment's env is a valid production configuration for ROLE=portal.
    const configMap = only<IConfigMap>('ConfigMap', 'carecircle');
    const config = loadConfig({
      ...configMap.data,
      ...env,
      REDIS_URL: 'redis://redis:6379',
      ADMIN_TOKEN: 'a'.repeat(64),
    });
    expect(config.role).toBe('portal');
    expect(config.portal.clientId).toBeDefined();
    expect(config.portal.secureCookies).toBe(true);
    const budget = only<IPodDisruptionBudget>('PodDisruptionBudget', 'carecircle-portal');
    expect(budget.spec?.selector?.matchLabels).toEqual(portal.spec?.selector.matchLabels);
  });

  test('the Ingress sends /portal to the portal Service, on the API\'s host', () => {
    const ingress = only<IIngress>('Ingress', 'carecircle');
    const service = only<IService>('Service', 'carecircle-portal');
    const route = ingress.spec?.rules?.[0]?.http?.paths.find((p) => p.path === '/portal');
    expect(route?.pathType).toBe('Prefix');
    expect(route?.backend.service?.name).toBe('carecircle-portal');
    expect(service.spec?.ports?.map((p) => p.name)).toContain(route?.backend.service?.port?.name);
    expect(service.spec?.selector).toEqual(only<IDeployment>('Deployment', 'carecircle-portal').spec?.template.metadata?.labels);
  });

  test('both Deployments read the ConfigMap and Secret, run Node directly, and write only to /tmp', () => {
    const api = only<IDeployment>('Deployment', 'carecircle-api');
    const worker = only<IDeployment>('Deployment', 'carecircle-worker');
    for (const deployment of [api, worker]) {
      const container = deployment.spec?.template.spec?.containers[0];
      expect(container?.envFrom).toEqual([{ secretRef: { name: 'carecircle' } }, { configMapRef: { name: 'carecircle' } }]);
      expect(container?.command).toEqual(LAUNCH);
      expect(container?.securityContext?.readOnlyRootFilesystem).toBe(true);
      expect(container?.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    }
  });

  test('TRUST_PROXY counts the Ingress controller in front of the API, and the ConfigMap is a valid configuration', () => {
    const config = clusterConfig('api');
    expect(config.trustProxy).toBe(1);
    expect(config.env).toBe('production');
    const ingress = only<IIngress>('Ingress', 'carecircle');
    const host = ingress.spec?.rules?.[0]?.host;
    expect(config.baseUrl).toBe(`https://${host}`);
  });

  test('the Ingress terminates TLS for its host and routes to the API Service port', () => {
    const ingress = only<IIngress>('Ingress', 'carecircle');
    const service = only<IService>('Service', 'carecircle-api');
    const rule = ingress.spec?.rules?.[0];
    expect(ingress.spec?.tls).toEqual([{ hosts: [rule?.host], secretName: expect.any(String) }]);
    const backend = rule?.http?.paths[0]?.backend.service;
    expect(backend?.name).toBe('carecircle-api');
    expect(service.spec?.ports?.map((p) => p.name)).toContain(backend?.port?.name);
    expect(service.spec?.selector).toEqual(only<IDeployment>('Deployment', 'carecircle-api').spec?.template.metadata?.labels);
  });

  test('each PodDisruptionBudget selects its Deployment', () => {
    for (const name of ['carecircle-api', 'carecircle-worker']) {
      const budget = only<IPodDisruptionBudget>('PodDisruptionBudget', name);
      const deployment = only<IDeployment>('Deployment', name);
      expect(budget.spec?.selector?.matchLabels).toEqual(deployment.spec?.selector.matchLabels);
      expect(deployment.spec?.replicas).toBeGreaterThan(1);
    }
  });
});

describe('docker-compose.yml', () => {
  const text = readFileSync(join(ROOT, 'deploy', 'docker-compose.yml'), 'utf8');
  // Compose interpolation as `docker compose` does it, on the parsed strings: `${NAME:-default}` unset takes the
  // default; the variables the file requires (`${NAME:?message}`) get placeholders. Merge keys (<<) as compose reads them.
  const interpolate = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_m, name: string, kind?: string, rest?: string) =>
        kind === '-' ? (rest ?? '') : name === 'ADMIN_TOKEN' ? 'a'.repeat(64) : `placeholder-${name.toLowerCase()}`,
      );
    }
    if (Array.isArray(value)) {
      return value.map(interpolate);
    }
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, interpolate(inner)]));
    }
    return value;
  };
  const compose = interpolate(parse(text, { merge: true })) as { services: Record<string, Record<string, unknown>>; volumes?: Record<string, unknown> };
  const SERVICE_KEYS = new Set([
    'image', 'build', 'command', 'environment', 'volumes', 'ports', 'healthcheck', 'depends_on', 'restart', 'init', 'stop_grace_period',
  ]);

  test('PostgreSQL, Redis, the API and the worker, each with known keys only, a restart policy and a healthcheck', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres', 'redis', 'worker']);
    for (const [name, service] of Object.entries(compose.services)) {
      expect({ name, unknown: Object.keys(service).filter((key) => !SERVICE_KEYS.has(key)) }).toEqual({ name, unknown: [] });
      expect({ name, restart: service.restart }).toEqual({ name, restart: expect.stringMatching(/^(always|unless-stopped|on-failure(:\d+)?)$/) });
      expect(service.healthcheck).toEqual({
        test: expect.arrayContaining(['CMD']),
        interval: expect.stringMatching(/^\d+s$/),
        timeout: expect.stringMatching(/^\d+s$/),
        retries: expect.any(Number),
        start_period: expect.stringMatching(/^\d+s$/),
      });
    }
    for (const [name, volume] of Object.entries(compose.volumes ?? {})) {
      expect({ name, volume }).toEqual({ name, volume: {} });
    }
  });

  test('the API and the worker start once PostgreSQL and Redis are healthy, run with an init, and have valid settings', () => {
    for (const [name, role] of [['api', 'api'], ['worker', 'worker']] as const) {
      const service = compose.services[name] ?? {};
      expect(service.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
      expect(service.init).toBe(true);
      expect(service.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
      const environment = service.environment as Record<string, string>;
      expect(environment.ROLE).toBe(role);
      expect(() => loadConfig(environment)).not.toThrow();
    }
  });

  test("healthchecks ask each process's readiness on the port it serves", () => {
    const probeUrl = (name: string) => {
      const test = (compose.services[name]?.healthcheck as { test: string[] }).test.join(' ');
      return /fetch\('(http:\/\/127\.0\.0\.1:\d+\/\w+)'\)/.exec(test)?.[1];
    };
    const api = loadConfig(compose.services.api?.environment as Record<string, string>);
    const worker = loadConfig(compose.services.worker?.environment as Record<string, string>);
    expect(probeUrl('api')).toBe(`http://127.0.0.1:${api.port}/readyz`);
    expect(probeUrl('worker')).toBe(`http://127.0.0.1:${worker.workerHealthPort}/readyz`);
    expect(compose.services.api?.ports).toEqual([`${api.port}:${api.port}`]);
  });
});

describe('the image', () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');

  test('installs production dependencies only, for every workspace, and runs Node as the main process', () => {
    expect(dockerfile).toMatch(/^RUN .*npm ci --omit=dev\b/m);
    // The manifests stage collects packages/*/ and services/*/ package.json files; test/ is copied by name.
    const workspaces = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    expect(workspaces.sort()).toEqual(['packages/*', 'services/*', 'test']);
    expect(dockerfile).toContain('find packages services -mindepth 2 -maxdepth 2 -name package.json');
    expect(dockerfile).toContain('COPY test/package.json ./test/package.json');
    expect(dockerfile).toContain(`CMD ${JSON.stringify(LAUNCH).replaceAll(',', ', ')}`);
    // tsx runs the TypeScript in production, so it must be a runtime dependency, not a devDependency.
    const launcher = JSON.parse(readFileSync(join(ROOT, 'services', 'launcher', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(launcher.dependencies)).toContain('tsx');
  });

  test('.dockerignore keeps patient data, keys and installed modules out of the build context', () => {
    expect(dockerignore).toEqual(expect.arrayContaining(['**/.carecircle', '**/node_modules', '**/*.pem', '**/*.key', '**/.env', '.git']));
  });
});
