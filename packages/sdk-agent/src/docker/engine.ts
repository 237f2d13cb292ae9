import type Dockerode from 'dockerode';
import { DockerSandboxError, dockerFailed, engineStatus } from './errors.js';

/** What the sandbox needs to know about an image. */
export interface ImageFacts {
  /** Paths the image declares as `VOLUME`s (Docker would create writable anonymous volumes there). */
  readonly volumes: string[];
}

async function inspectImage(docker: Dockerode, image: string): Promise<ImageFacts | undefined> {
  try {
    const info = await docker.getImage(image).inspect();
    return { volumes: Object.keys(info.Config?.Volumes ?? {}) };
  } catch (err) {
    if (engineStatus(err) !== 404) throw dockerFailed('image inspect', err);
    return undefined;
  }
}

/** How long a present image's facts are reused: one Engine call less per run, stale for seconds at most. */
export const IMAGE_FACTS_TTL_MS = 10_000;
const IMAGE_FACTS_MAX = 64;

/**
 * Facts of images found present, for a short TTL. Misses are never kept, so a missing image is
 * reported at once; an image removed while cached makes the create answer 404, which the sandbox also
 * reports as `DOCKER_IMAGE_NOT_FOUND` (and then forgets the entry).
 */
export class ImageFactsCache {
  private readonly entries = new Map<string, { facts: ImageFacts; expires: number }>();

  constructor(
    private readonly ttlMs = IMAGE_FACTS_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get(image: string): ImageFacts | undefined {
    const e = this.entries.get(image);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(image);
      return undefined;
    }
    return e.facts;
  }

  set(image: string, facts: ImageFacts): void {
    this.entries.delete(image);
    this.entries.set(image, { facts, expires: this.now() + this.ttlMs });
    // Maps iterate in insertion order: drop the oldest when many distinct images were used.
    while (this.entries.size > IMAGE_FACTS_MAX) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  forget(image: string): void {
    this.entries.delete(image);
  }
}

/**
 * Makes sure the image is present. Inspecting first gives a clean `DOCKER_IMAGE_NOT_FOUND` instead of
 * parsing a create error; a pull happens only when the operator allows it. With a cache, a present
 * image is inspected once per TTL instead of once per run.
 */
export async function ensureImage(
  docker: Dockerode,
  image: string,
  allowPull: boolean,
  signal: AbortSignal,
  cache?: ImageFactsCache,
): Promise<ImageFacts> {
  const cached = cache?.get(image);
  if (cached) return cached;
  const present = await inspectImage(docker, image);
  if (present) {
    cache?.set(image, present);
    return present;
  }
  if (!allowPull) {
    throw new DockerSandboxError('DOCKER_IMAGE_NOT_FOUND', `image ${image} is not present on this agent host and pulls are not allowed`);
  }
  await pullImage(docker, image, signal);
  const pulled = await inspectImage(docker, image);
  if (!pulled) throw new DockerSandboxError('DOCKER_IMAGE_NOT_FOUND', `image ${image} is still absent after the pull`);
  cache?.set(image, pulled);
  return pulled;
}

async function pullImage(docker: Dockerode, image: string, signal: AbortSignal): Promise<void> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.pull(image, { abortSignal: signal })) as NodeJS.ReadableStream;
  } catch (err) {
    if (signal.aborted) throw err;
    throw new DockerSandboxError('DOCKER_IMAGE_NOT_FOUND', `image ${image} could not be pulled (${pullReason(err)})`, { cause: err });
  }
  // pull() resolves when the pull starts; failures arrive inside the progress stream.
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string }>) => {
      const failed = err ?? events.find((e) => e.error);
      if (!failed) return resolve();
      reject(new DockerSandboxError('DOCKER_IMAGE_NOT_FOUND', `image ${image} could not be pulled`, { cause: failed }));
    });
  });
}

function pullReason(err: unknown): string {
  const status = engineStatus(err);
  return status !== undefined ? `HTTP ${status}` : 'engine error';
}

// Cleanup calls on a container that is already gone answer 404 (remove), 409 (kill) or 304 (stop).
function isGone(err: unknown): boolean {
  const s = engineStatus(err);
  return s === 404 || s === 409 || s === 304;
}

/** Sends a signal; a container that already stopped or vanished counts as done. */
export async function killContainer(container: Dockerode.Container, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  try {
    await container.kill({ signal });
  } catch (err) {
    if (!isGone(err)) throw dockerFailed('kill', err);
  }
}

/** Force-removes a container; one that is already gone counts as done. */
export async function removeContainer(container: Dockerode.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (err) {
    // 409 "removal already in progress" is also fine: the engine is removing it.
    if (!isGone(err)) throw dockerFailed('remove', err);
  }
}

/**
 * Creates a sandbox container. The options never carry a secret (the task arrives over stdin), but
 * they are still not logged. An image removed since it was inspected answers 404.
 */
export async function createContainer(docker: Dockerode, options: Dockerode.ContainerCreateOptions): Promise<Dockerode.Container> {
  try {
    return await docker.createContainer(options);
  } catch (err) {
    if (engineStatus(err) === 404) throw new DockerSandboxError('DOCKER_IMAGE_NOT_FOUND', 'the sandbox image disappeared before create');
    throw dockerFailed('create', err);
  }
}
