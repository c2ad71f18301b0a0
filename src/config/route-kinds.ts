/**
 * The value kind of --jump-route (operator routes through a bastion, src/grammar/jump-route.ts).
 * Kept apart from the option table (./schema.ts), which reads it. A value is one or more route
 * specs separated by commas or newlines (flag, env var) or a JSON array (config file); the flag
 * may be repeated, each occurrence adding routes (the loader joins repeats with a newline).
 */
import { z } from 'zod';
import { parseJumpRoute } from '../grammar/jump-route.js';
import { TargetRuleError } from '../grammar/target-rule.js';
import type { Kind } from './schema.js';

export const jumpRoutes: Kind<readonly string[]> = {
  schema: z.union([z.string().transform((s) => s.split(/[,\n]/)), z.array(z.string())]).transform((raw, ctx) => {
    const out: string[] = [];
    for (const entry of raw.map((e) => e.trim()).filter((e) => e !== '')) {
      try {
        out.push(parseJumpRoute(entry).text);
      } catch (err) {
        if (!(err instanceof TargetRuleError)) throw err;
        ctx.addIssue({ code: 'custom', message: `invalid route in jump-route: ${err.message}` });
        return z.NEVER;
      }
    }
    return out;
  }),
  unit: 'list of routes',
  allowed: 'routes "HOST[:PORTS] via USER@HOST[:PORT] key=FILE [passphrase-file=FILE]", comma- or newline-separated',
  isBool: false,
  repeatable: true,
};
