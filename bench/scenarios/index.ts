import { roundTrip } from './a-roundtrip.js';
import type { BenchContext } from './context.js';

export interface Scenario {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<void>;
}

/** In run order. */
export const SCENARIOS: Scenario[] = [{ id: 'a', title: 'dispatch round trip vs ws echo', run: roundTrip }];
