import assert from 'node:assert/strict'
import { test } from 'node:test'
import { showQrCodeUrl } from './qrcode.js'

test('builds the showqrcode URL with the ticket percent-encoded', () => {
  assert.equal(
    showQrCodeUrl(
      'https://mp.weixin.qq.com',
      'gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==+/',
    ),
    'https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw%3D%3D%2B%2F',
  )
})

test('does not double the slash after a base URL that ends with one', () => {
  assert.equal(
    showQrCodeUrl('http://127.0.0.1:9000/', 'T'),
    'http://127.0.0.1:9000/cgi-bin/showqrcode?ticket=T',
  )
})
