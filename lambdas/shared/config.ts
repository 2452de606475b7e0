// A function's configuration: its environment parsed by one zod schema, once per container (the first use,
// which is the cold start of the invocation that needs it), with every invalid variable named in one error.
// Each function family keeps its schema in its own `config.ts`.
import { z } from 'zod';

export function parseConfig<S extends z.ZodType>(
  name: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new Error(`${name} configuration is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The configuration, parsed on first use and kept for the container's life. */
export function configOnce<S extends z.ZodType>(name: string, schema: S): () => z.infer<S> {
  let config: z.infer<S> | undefined;
  return () => (config ??= parseConfig(name, schema));
}
