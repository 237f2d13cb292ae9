/**
 * The named fields of a schema's type, without the `[key: string]: unknown` index signature that loose
 * schemas (`z.looseObject`) add, at every depth. A producer types its answer with it: a TypeScript
 * interface is not assignable to an index signature, but is to the named fields.
 *
 * @example
 * ```ts
 * const body = gateway.explain(request) satisfies KnownFields<ExplainResponse>;
 * ```
 */
export type KnownFields<T> = T extends readonly (infer U)[]
  ? KnownFields<U>[]
  : T extends object
    ? { [K in keyof T as string extends K ? never : K]: KnownFields<T[K]> }
    : T;
