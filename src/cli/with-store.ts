/** Small helpers shared by the CLI command modules. */
import type { CliContext } from './context.ts';
import type { Store } from '../store/db.ts';
import type { AdminCtx } from '../store/admin/tenants.ts';

/** Opens the store, runs `fn`, and always closes it. */
export async function withStore<T>(ctx: CliContext, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await ctx.openStore();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Who and when for admin actions (D1 actor `cli:<os user>`, D5 clock). */
export function adminCtx(ctx: CliContext): AdminCtx {
  return { actor: ctx.actor, now: ctx.now() };
}
