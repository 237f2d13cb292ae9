// `pnpm --filter @vespid/example-embed quickstart`: runs the quickstart once and prints its output.
import { quickstart } from './quickstart.js';

const output = await quickstart({ port: Number(process.env.GATEWAY_PORT ?? 3002) });
process.stdout.write(`${JSON.stringify(output)}\n`);
