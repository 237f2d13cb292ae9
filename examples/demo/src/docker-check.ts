/** Whether a Docker engine answers on the default socket (for the demo's sandbox node). */
import { execFile } from 'node:child_process';
import { Socket } from 'node:net';

export function dockerAvailable(socketPath = '/var/run/docker.sock'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.once('data', (d) => done(d.toString().includes(' 200 ')));
    s.connect(socketPath, () => s.write('GET /_ping HTTP/1.0\r\n\r\n'));
  });
}

/** Builds the local sandbox images (docker import; no registry) unless they exist. */
export function ensureSandboxImages(root: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [`${root}/scripts/build-sandbox-images.sh`, '--if-missing'], { cwd: root }, (err, _out, stderr) =>
      err ? reject(new Error(`could not build the sandbox images: ${stderr.trim().split('\n').pop()}`)) : resolve(),
    );
  });
}
