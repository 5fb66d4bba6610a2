import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BUILT_IN_CATALOG, CatalogError, createCatalog, parseCatalog } from './products.catalog.js'

describe('product catalog', () => {
  it('has the contract’s built-in products', () => {
    assert.deepEqual(
      BUILT_IN_CATALOG.map((p) => [p.id, p.priceFen, p.credits, p.memberDays]),
      [
        ['credits_100', 990, 100, 0],
        ['credits_500', 3990, 500, 0],
        ['member_month', 2990, 0, 30],
      ],
    )
  })

  it('parses a list or {products} and finds products by id', () => {
    const item = { id: 'p', name: 'P', price_fen: 100, credits: 1, member_days: 2 }
    assert.deepEqual(
      parseCatalog(JSON.stringify([item])),
      parseCatalog(JSON.stringify({ products: [item] })),
    )
    const catalog = createCatalog(parseCatalog(JSON.stringify([item])))
    assert.equal(catalog.find('p')?.priceFen, 100)
    assert.equal(catalog.find('q'), undefined)
  })

  it('refuses malformed JSON, bad prices, unknown fields, duplicates and an empty list', () => {
    const item = { id: 'p', name: 'P', price_fen: 100, credits: 1, member_days: 0 }
    for (const text of [
      '{',
      JSON.stringify([{ ...item, price_fen: 0 }]),
      JSON.stringify([{ ...item, price_fen: 9.9 }]),
      JSON.stringify([{ ...item, discount: 1 }]),
      JSON.stringify([item, item]),
      JSON.stringify([]),
    ]) {
      assert.throws(() => parseCatalog(text), CatalogError, text)
    }
  })
})
