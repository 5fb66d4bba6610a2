// Tests of the XML codec: hostile documents, limits, exact strings and CDATA-safe round trips.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WeChatProtocolError, type WeChatProtocolErrorCode } from '../errors.js'
import { buildXml, parseXml } from './codec.js'

function assertCode(fn: () => unknown, code: WeChatProtocolErrorCode): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(
      error instanceof WeChatProtocolError,
      `expected WeChatProtocolError, got ${String(error)}`,
    )
    assert.equal(error.code, code)
    return true
  })
}

test('parses a WeChat text message with CDATA and bare values into strings', () => {
  const xml = `<xml>
  <ToUserName><![CDATA[gh_123]]></ToUserName>
  <FromUserName><![CDATA[oUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[this is a test]]></Content>
  <MsgId>1234567890123456</MsgId>
</xml>`
  assert.deepEqual(parseXml(xml), {
    ToUserName: 'gh_123',
    FromUserName: 'oUser',
    CreateTime: '1348831860',
    MsgType: 'text',
    Content: 'this is a test',
    MsgId: '1234567890123456',
  })
})

test('keeps a MsgId beyond 2^53 exact as a string', () => {
  const big = '9007199254740993123'
  const parsed = parseXml(`<xml><MsgId>${big}</MsgId><Zero>007</Zero><Exp>1e5</Exp></xml>`)
  assert.equal(parsed.MsgId, big)
  assert.equal(parsed.Zero, '007')
  assert.equal(parsed.Exp, '1e5')
})

test('keeps leading and trailing whitespace inside CDATA verbatim', () => {
  const parsed = parseXml('<xml><Content>\n  <![CDATA[  two  spaces \n]]>\n</Content></xml>')
  assert.equal(parsed.Content, '  two  spaces \n')
})

test('trims plain text values and decodes the predefined entities', () => {
  const parsed = parseXml('<xml><A>  a &amp; b &lt;c&gt; &#20013;&#x6587; </A></xml>')
  assert.equal(parsed.A, 'a & b <c> 中文')
})

test('accepts any root name, the declaration, comments and empty elements', () => {
  const parsed = parseXml(
    '<?xml version="1.0" encoding="UTF-8"?><root><!-- note --><A/><B></B></root>',
  )
  assert.deepEqual(parsed, { A: '', B: '' })
})

test('ignores attributes', () => {
  assert.deepEqual(parseXml('<xml id="1"><A kind="x">v</A></xml>'), { A: 'v' })
})

test('parses nested records', () => {
  assert.deepEqual(parseXml('<xml><A><B>1</B><C><D>2</D></C></A></xml>'), {
    A: { B: '1', C: { D: '2' } },
  })
})

test('rejects the billion laughs entity bomb before expanding anything', () => {
  const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><Content>&lol3;</Content></xml>`
  assertCode(() => parseXml(bomb), 'XML_INVALID')
})

test('rejects an external SYSTEM entity (XXE)', () => {
  const xxe = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>`
  assertCode(() => parseXml(xxe), 'XML_INVALID')
})

test('rejects a lowercase doctype and an undeclared entity reference', () => {
  assertCode(() => parseXml('<!doctype xml><xml><A>1</A></xml>'), 'XML_INVALID')
  assertCode(() => parseXml('<xml><A>&xxe;</A></xml>'), 'XML_INVALID')
  // Names an object inherits are not entities either (they decoded to `function Object() { … }`).
  for (const name of ['constructor', 'toString', 'valueOf', '__proto__', 'hasOwnProperty']) {
    assertCode(() => parseXml(`<xml><A>o&${name};</A></xml>`), 'XML_INVALID')
  }
})

test('accepts DOCTYPE-looking text inside CDATA as plain content', () => {
  assert.equal(parseXml('<xml><A><![CDATA[<!DOCTYPE x>]]></A></xml>').A, '<!DOCTYPE x>')
})

test('rejects nesting deeper than the depth limit', () => {
  const deep = '<a>'.repeat(9) + 'x' + '</a>'.repeat(9)
  assertCode(() => parseXml(deep), 'XML_INVALID')
  assert.doesNotThrow(() => parseXml('<a>'.repeat(8) + 'x' + '</a>'.repeat(8)))
  assertCode(() => parseXml('<a>'.repeat(5000) + '</a>'.repeat(5000)), 'XML_INVALID')
  assertCode(() => parseXml('<a><b><c>x</c></b></a>', { maxDepth: 2 }), 'XML_INVALID')
})

test('rejects a document over 64 KiB by its UTF-8 byte length', () => {
  const justOver = `<xml><A>${'a'.repeat(65_536)}</A></xml>`
  assertCode(() => parseXml(justOver), 'XML_TOO_LARGE')
  // 22 000 CJK characters are 66 000 bytes although fewer than 65 536 UTF-16 units.
  const cjk = `<xml><A><![CDATA[${'中'.repeat(22_000)}]]></A></xml>`
  assert.ok(cjk.length < 65_536)
  assertCode(() => parseXml(cjk), 'XML_TOO_LARGE')
  assertCode(() => parseXml('<xml><A>1</A></xml>', { maxBytes: 10 }), 'XML_TOO_LARGE')
})

test('rejects text that is not XML', () => {
  for (const bad of [
    '',
    'hello',
    '{"a":1}',
    '<xml><A>1</xml>',
    '<a></a><b></b>',
    '<xml><A>1</A>',
    '<xml>a & b</xml>',
  ]) {
    assertCode(() => parseXml(bad), 'XML_INVALID')
  }
})

test('rejects a field of the root named twice', () => {
  assertCode(() => parseXml('<xml><A>1</A><A>2</A></xml>'), 'XML_INVALID')
  assertCode(() => parseXml('<xml><A>1</A><B/><A>1</A></xml>'), 'XML_INVALID')
})

test('keeps the first of a repeated element below the root (a list WeChat sends)', () => {
  // MASSSENDJOBFINISH with two articles, as in WeChat's documentation.
  const parsed = parseXml(
    '<xml><Event><![CDATA[MASSSENDJOBFINISH]]></Event><CopyrightCheckResult><Count>2</Count>' +
      '<ResultList><item><ArticleIdx>1</ArticleIdx></item><item><ArticleIdx>2</ArticleIdx></item>' +
      '</ResultList></CopyrightCheckResult></xml>',
  )
  assert.equal(parsed.Event, 'MASSSENDJOBFINISH')
  assert.deepEqual(parsed.CopyrightCheckResult, {
    Count: '2',
    ResultList: { item: { ArticleIdx: '1' } },
  })
  assert.deepEqual(parseXml('<xml><A><B>1</B><B>2</B></A></xml>'), { A: { B: '1' } })
})

test('rejects text mixed with child elements', () => {
  assertCode(() => parseXml('<xml>text<A>1</A></xml>'), 'XML_INVALID')
})

test('builds strings in CDATA, numbers bare, skips undefined and nests records', () => {
  const xml = buildXml({ A: 'x', B: 12, C: undefined, D: { E: 'y' } })
  assert.equal(xml, '<xml><A><![CDATA[x]]></A><B>12</B><D><E><![CDATA[y]]></E></D></xml>')
  assert.equal(buildXml({ A: '1' }, { root: 'root' }), '<root><A><![CDATA[1]]></A></root>')
})

test('splits ]]> so it round trips without injecting markup', () => {
  const hostile = 'a]]><Injected>1</Injected><![CDATA[b ]]> ]]]]>'
  const xml = buildXml({ Content: hostile })
  assert.equal(parseXml(xml).Content, hostile)
  assert.ok(!('Injected' in parseXml(xml)))
})

test('round trips CJK, emoji and whitespace-edged text', () => {
  const values = ['你好，世界', ' 前后空格 ', '😀 emoji\nline', '<tag> & "quotes"', '']
  for (const value of values) {
    assert.equal(parseXml(buildXml({ Content: value })).Content, value)
  }
})

test('refuses to build invalid element names or non-finite numbers', () => {
  assertCode(() => buildXml({ 'a b': 'x' }), 'XML_INVALID')
  assertCode(() => buildXml({ '<A>': 'x' }), 'XML_INVALID')
  assertCode(() => buildXml({ A: Number.NaN }), 'XML_INVALID')
  assertCode(() => buildXml({ A: 'x' }, { root: '1x' }), 'XML_INVALID')
})

test('counts nesting even when attribute values hide markup characters', () => {
  const sneaky = '<a x="/>">'.repeat(20) + 'x' + '</a>'.repeat(20)
  assertCode(() => parseXml(sneaky), 'XML_INVALID')
  assert.deepEqual(parseXml('<xml><A x="/>">1</A></xml>'), { A: '1' })
})

test('rejects unclosed, mismatched and stray tags', () => {
  for (const bad of [
    '<xml><A>1</A>',
    '<xml><A>1',
    '<xml',
    '<xml><A',
    '<xml><A>1</B></xml>',
    '<xml><A><B>1</A></B></xml>',
    '<xml><A>1</A></xm>',
    '<xml><A>1</A></xml></xml>',
    '</xml>',
    '<xml></A></xml>',
    '<xml><A>1</A x></xml>',
    '<xml><A>1</A',
    '<',
    '< xml/>',
    '<xml>< A>1</A></xml>',
    '<xml><A>a < b</A></xml>',
    '<xml><1A>1</1A></xml>',
    '<xml><A>1</ A></xml>',
  ]) {
    assertCode(() => parseXml(bad), 'XML_INVALID')
  }
})

test('rejects malformed attributes', () => {
  for (const bad of [
    '<xml><A x=1>1</A></xml>',
    '<xml><A x>1</A></xml>',
    '<xml><A x="1>1</A></xml>',
    '<xml><A x="1" x="2">1</A></xml>',
    '<xml><A x="1"y="2">1</A></xml>',
    '<xml><A ="1">1</A></xml>',
    '<xml><A/x>1</A></xml>',
  ]) {
    assertCode(() => parseXml(bad), 'XML_INVALID')
  }
  assert.deepEqual(parseXml(`<xml a = "1"\tb='2' ><A c="'>"/></xml>`), { A: '' })
})

test('rejects a second root and anything but whitespace, comments and PIs after the root', () => {
  for (const bad of [
    '<a/><b/>',
    '<xml><A>1</A></xml><xml/>',
    '<xml><A>1</A></xml>text',
    '<a/>text',
    'text<a/>',
    '<xml/>&amp;',
    '<xml/><![CDATA[x]]>',
    '<![CDATA[x]]><xml/>',
    '<xml/><!DOCTYPE x>',
  ]) {
    assertCode(() => parseXml(bad), 'XML_INVALID')
  }
  assert.deepEqual(parseXml('<!-- a --><?pi x?>\n<xml><A>1</A></xml>\n<!-- b --><?pi?>\n'), {
    A: '1',
  })
})

test('rejects unterminated sections and declarations anywhere but the start', () => {
  for (const bad of [
    '<xml><A><![CDATA[x</A></xml>',
    '<xml><!-- x <A>1</A></xml>',
    '<xml><?pi <A>1</A></xml>',
    '<xml><?xml version="1.0"?><A>1</A></xml>',
    ' <?xml version="1.0"?><xml/>',
    '<?xml version="1.0"?><?xml version="1.0"?><xml/>',
    '<?xml version="1.0><xml/>',
    '<xml><A><!ENTITY x "y"></A></xml>',
  ]) {
    assertCode(() => parseXml(bad), 'XML_INVALID')
  }
  assert.deepEqual(parseXml('\ufeff<?xml version="1.0" encoding="UTF-8"?><xml><A>1</A></xml>'), {
    A: '1',
  })
})

test('reads CR LF and lone CR line ends as LF, inside CDATA too', () => {
  const parsed = parseXml('<xml>\r\n<A><![CDATA[a\r\nb\rc]]></A>\r\n<B>x\ry</B></xml>')
  assert.deepEqual(parsed, { A: 'a\nb\nc', B: 'x\ny' })
})

test('rejects element names that would reach Object.prototype and keeps others as own keys', () => {
  assertCode(() => parseXml('<xml><__proto__>1</__proto__></xml>'), 'XML_INVALID')
  assertCode(() => parseXml('<xml><constructor>1</constructor></xml>'), 'XML_INVALID')
  const parsed = parseXml('<xml><toString>1</toString></xml>')
  assert.deepEqual(Object.entries(parsed), [['toString', '1']])
})

test('joins text around comments and keeps CDATA verbatim between text parts', () => {
  assert.equal(parseXml('<xml><A> 1 <!-- c --> 2 </A></xml>').A, '1  2')
  assert.equal(parseXml('<xml><A> x <![CDATA[ y ]]>&amp;</A></xml>').A, ' x  y &')
  assert.equal(parseXml('<xml><A>\n  <![CDATA[a]]>\n  <![CDATA[b]]>\n</A></xml>').A, 'ab')
})

test('accepts names with colons, dots, dashes and non-ASCII letters', () => {
  assert.deepEqual(parseXml('<x:root><a.b-c>1</a.b-c><中文>2</中文></x:root>'), {
    'a.b-c': '1',
    中文: '2',
  })
})

test('reads names that start in ASCII and go on in other letters, and refuses bad first characters', () => {
  // The ASCII loop must hand over to the full XML name classes mid-name, not stop at `é` or `·`.
  assert.deepEqual(parseXml('<xml><café>1</café><a·b>2</a·b><_9>3</_9></xml>'), {
    café: '1',
    'a·b': '2',
    _9: '3',
  })
  for (const bad of ['<xml><9a>1</9a></xml>', '<xml><-a>1</-a></xml>', '<xml><·a>1</·a></xml>']) {
    assertCode(() => parseXml(bad), 'XML_INVALID')
  }
  // A name may end at the document's end only in a malformed document.
  assertCode(() => parseXml('<xml><a'), 'XML_INVALID')
})
