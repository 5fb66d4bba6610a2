// The product catalog: the built-in one or PRODUCTS_FILE, validated once at start; prices only come from here.
import { readFileSync } from 'node:fs'
import { z } from 'zod'

export interface Product {
  readonly id: string
  readonly name: string
  readonly priceFen: number
  readonly credits: number
  readonly memberDays: number
}

export const BUILT_IN_CATALOG: readonly Product[] = Object.freeze([
  { id: 'credits_100', name: '100 credits', priceFen: 990, credits: 100, memberDays: 0 },
  { id: 'credits_500', name: '500 credits', priceFen: 3990, credits: 500, memberDays: 0 },
  { id: 'member_month', name: 'Monthly membership', priceFen: 2990, credits: 0, memberDays: 30 },
])

const productSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
  name: z.string().min(1).max(100),
  price_fen: z.int().min(1).max(100_000_000),
  credits: z.int().min(0).max(100_000_000),
  member_days: z.int().min(0).max(36_500),
})

const catalogSchema = z
  .union([z.array(productSchema), z.strictObject({ products: z.array(productSchema) })])
  .transform((value) => (Array.isArray(value) ? value : value.products))

export class CatalogError extends Error {
  override readonly name = 'CatalogError'
}

/** Parses a catalog JSON text (`[...]` or `{products: [...]}` with the contract's snake_case fields). */
export function parseCatalog(text: string): Product[] {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new CatalogError('is not valid JSON', { cause: error })
  }
  const result = catalogSchema.safeParse(json)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
    throw new CatalogError(`is not a valid catalog${where}: ${issue?.message ?? 'invalid'}`)
  }
  if (result.data.length === 0) throw new CatalogError('lists no products')
  const ids = new Set<string>()
  for (const product of result.data) {
    if (ids.has(product.id)) throw new CatalogError(`lists product ${product.id} twice`)
    ids.add(product.id)
  }
  return result.data.map((p) => ({
    id: p.id,
    name: p.name,
    priceFen: p.price_fen,
    credits: p.credits,
    memberDays: p.member_days,
  }))
}

/** Reads PRODUCTS_FILE; throws CatalogError (with cause) if it cannot be read or is invalid. */
export function readCatalogFile(path: string): Product[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new CatalogError('cannot be read', { cause: error })
  }
  return parseCatalog(text)
}

/** Looks products up by id. */
export interface Catalog {
  readonly products: readonly Product[]
  find(id: string): Product | undefined
}

export function createCatalog(products: readonly Product[]): Catalog {
  const byId = new Map(products.map((p) => [p.id, p]))
  return { products, find: (id) => byId.get(id) }
}
