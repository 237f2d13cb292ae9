import { cursorStoreConformance } from '@vespid/sdk-dispatch/testing';
import { memoryCursorStore } from './memory-store.js';

cursorStoreConformance('memoryCursorStore', async () => {
  const effects: string[] = [];
  return {
    store: memoryCursorStore(),
    writeEffect: async (tx, key) => tx.onCommit(() => effects.push(key)),
    countEffects: async (key) => effects.filter((e) => e === key).length,
  };
});
