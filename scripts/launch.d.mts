// Types of scripts/launch.mjs (plain JavaScript, so that it runs before anything can compile TypeScript).
/** Bundles a TypeScript entry with our workspace packages; resolves to the module's path. */
export function bundleEntry(entry: string): Promise<string>
