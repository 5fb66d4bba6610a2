// The demo page's script: a front end on the real app API (/api/v1), and the simulated phone (/_sim).
const TOKEN_KEY = 'wxgate-demo-token'
const USER_KEY = 'wxgate-demo-user'
const POLL_MS = 1000
const REFRESH_MS = 2000

const $ = (id) => {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`#${id} is missing`)
  return element
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

const session = {
  token: sessionStorage.getItem(TOKEN_KEY),
  user: readStoredUser(),
}

function readStoredUser() {
  try {
    return JSON.parse(sessionStorage.getItem(USER_KEY) ?? 'null')
  } catch {
    return null
  }
}

/** One JSON call; any non-2xx answer becomes an ApiError with the contract's {code, message}. */
async function call(path, { method = 'GET', body, auth = false } = {}) {
  const headers = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (auth) headers.authorization = `Bearer ${session.token}`
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  let data
  try {
    data = text === '' ? undefined : JSON.parse(text)
  } catch {
    data = undefined
  }
  if (!response.ok) {
    throw new ApiError(
      response.status,
      data?.code ?? `HTTP_${response.status}`,
      data?.message ?? (text || response.statusText),
    )
  }
  return data
}

// ---- small view helpers -------------------------------------------------------------------------------

let errorTimer
function showError(error) {
  const box = $('error')
  box.textContent = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error)
  box.hidden = false
  clearTimeout(errorTimer)
  errorTimer = setTimeout(() => (box.hidden = true), 8000)
}

/** Runs an action from a click; errors land in the error bar instead of the console. */
const action = (fn) => () => {
  fn().catch((error) => {
    if (error instanceof ApiError && error.status === 401 && session.token !== null) {
      signOut()
      showError('Your session ended, log in again · 登录已过期，请重新登录')
      return
    }
    showError(error)
  })
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag)
  Object.assign(node, props)
  for (const child of children) node.append(child)
  return node
}

const pad = (n) => String(n).padStart(2, '0')
function formatTime(iso) {
  if (iso === null || iso === undefined) return '–'
  const d = new Date(iso)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}
const formatFen = (fen) => `¥${(fen / 100).toFixed(2)}`

function setStatus(id, text, ok = false) {
  const node = $(id)
  node.textContent = text
  node.classList.toggle('ok', ok)
}

// ---- the phone (simulator control API) --------------------------------------------------------------

// Fixed openids: the simulator forgets its users when npm start stops, app's database does not, so after a
// restart the same two people find their credits, membership and orders again.
const DEMO_USERS = [
  { openId: 'oDemoXiaoming', nickname: '小明 Xiaoming' },
  { openId: 'oDemoAlice', nickname: 'Alice 爱丽丝' },
]

async function loadPhoneUsers(select) {
  let { users } = await call('/_sim/platform/users')
  if (users.length === 0) {
    for (const user of DEMO_USERS) {
      await call('/_sim/platform/users', { method: 'POST', body: user })
    }
    ;({ users } = await call('/_sim/platform/users'))
  }
  const picker = $('phone-user')
  const keep = select ?? picker.value
  picker.replaceChildren(
    ...users.map((user) =>
      el('option', {
        value: user.openId,
        textContent: `${user.nickname} · ${user.openId.slice(-6)}${user.subscribed ? ' ✓' : ''}`,
      }),
    ),
  )
  if (users.some((user) => user.openId === keep)) picker.value = keep
}

function chat(text, { me = false, note } = {}) {
  const item = el('li', { className: me ? 'me' : '' }, text)
  if (note !== undefined) item.append(el('small', { textContent: note }))
  $('phone-chat').append(item)
  item.scrollIntoView({ block: 'nearest' })
}

function chatPush(result) {
  if (!result.ok) {
    chat(`The account did not answer (${result.problem ?? result.status})`, { note: '⚠' })
    return
  }
  if (result.reply?.content) {
    chat(result.reply.content, {
      note: result.reply.encrypted
        ? 'Official Account · 公众号 (encrypted reply · 安全模式)'
        : 'Official Account · 公众号',
    })
  }
}

async function scanWithPhone() {
  if (loginQr === undefined) return
  const openId = $('phone-user').value
  chat('Scans the login QR code · 扫码', { me: true })
  const result = await call('/_sim/phone/scan', {
    method: 'POST',
    body: { openId, ticket: loginQr.ticket },
  })
  chatPush(result)
  await loadPhoneUsers()
  await checkLogin()
}

async function payWithPhone() {
  if (checkout === undefined || session.user === null) return
  $('phone-pay').disabled = true
  chat(`Pays ${formatFen(checkout.order.amount_fen)} · 支付`, { me: true })
  try {
    const result = await call('/_sim/phone/pay', {
      method: 'POST',
      body: { outTradeNo: checkout.order.out_trade_no, openId: session.user.openid },
    })
    chat(
      result.notification?.ok
        ? `Payment of ${formatFen(result.totalFee)} succeeded · 支付成功`
        : `Paid; the merchant has not confirmed yet · 已支付，等待商户确认`,
      { note: 'WeChat Pay · 微信支付' },
    )
  } catch (error) {
    $('phone-pay').disabled = false
    throw error
  }
  await checkOrder()
}

// ---- QR code login ---------------------------------------------------------------------------------

let loginQr
let loginTimer
let loginChecking = false

function stopQrLogin() {
  clearInterval(loginTimer)
  loginTimer = undefined
  loginQr = undefined
  $('phone-scan').disabled = true
}

async function startQrLogin() {
  stopQrLogin()
  const qr = await call('/api/v1/auth/wechat/qrcode', { method: 'POST', body: {} })
  loginQr = qr
  $('login-qr-image').src = qr.qrcode_url
  $('login-qr-image').hidden = false
  $('login-qr').hidden = false
  setStatus('login-status', 'Waiting for scan · 等待扫码')
  $('phone-scan').disabled = false
  loginTimer = setInterval(action(checkLogin), POLL_MS)
}

async function checkLogin() {
  if (loginQr === undefined || loginChecking) return
  loginChecking = true
  try {
    const qr = loginQr
    const answer = await call(
      `/api/v1/auth/wechat/check-follow?scene_str=${encodeURIComponent(qr.scene_str)}`,
    )
    if (loginQr !== qr) return
    if (answer.status === 'scanned') {
      stopQrLogin()
      setStatus('login-status', 'Scanned, logged in · 已扫码登录', true)
      signIn(answer.token, answer.user)
    } else if (answer.status === 'expired') {
      stopQrLogin()
      // A code that can no longer log anyone in is not left on screen to be scanned.
      $('login-qr-image').hidden = true
      setStatus('login-status', 'Expired, get a new code · 二维码已过期')
    } else {
      const left = Math.max(0, Math.round((Date.parse(qr.expires_at) - Date.now()) / 1000))
      setStatus('login-status', `Waiting for scan · 等待扫码 (${left} s)`)
    }
  } finally {
    loginChecking = false
  }
}

// ---- H5 OAuth login ---------------------------------------------------------------------------------

async function startOAuth() {
  const redirect = `${location.origin}${location.pathname}`
  const query = new URLSearchParams({ redirect_uri: redirect, scope: 'snsapi_userinfo' })
  const { url } = await call(`/api/v1/auth/wechat/authorize-url?${query}`)
  location.assign(url)
}

async function finishOAuth(params) {
  history.replaceState(null, '', location.pathname)
  const code = params.get('code')
  if (!code) throw new Error('WeChat authorization was refused · 用户拒绝授权')
  const query = new URLSearchParams({ code })
  const state = params.get('state')
  if (state) query.set('state', state)
  const login = await call(`/api/v1/auth/wechat?${query}`)
  signIn(login.token, login.user)
}

// ---- logged in: account, products, checkout, history ------------------------------------------------

function signIn(token, user) {
  session.token = token
  session.user = user
  sessionStorage.setItem(TOKEN_KEY, token)
  sessionStorage.setItem(USER_KEY, JSON.stringify(user))
  action(() => loadPhoneUsers(user.openid))()
  render()
}

function signOut() {
  session.token = null
  session.user = null
  sessionStorage.removeItem(TOKEN_KEY)
  sessionStorage.removeItem(USER_KEY)
  closeCheckout()
  // The next person to log in must not see this one's account, even for the moment before its first refresh.
  $('balance').textContent = '–'
  $('member-status').textContent = '–'
  renderUsage([])
  renderOrders([])
  $('phone-chat').replaceChildren()
  render()
}

let refreshTimer
let refreshing = false

function render() {
  const loggedIn = session.token !== null && session.user !== null
  $('login-card').hidden = loggedIn
  for (const id of ['account-card', 'shop-card', 'usage-card', 'orders-card'])
    $(id).hidden = !loggedIn
  clearInterval(refreshTimer)
  if (!loggedIn) {
    $('login-qr').hidden = true
    return
  }
  $('account-name').textContent = session.user.nickname ?? 'WeChat user · 微信用户'
  $('account-openid').textContent = session.user.openid
  action(loadProducts)()
  action(refresh)()
  refreshTimer = setInterval(action(refresh), REFRESH_MS)
}

/** Balance, membership, history and orders: polled, so payments made elsewhere show up too. */
async function refresh() {
  // A hidden tab does not poll; the next visible tick catches up.
  if (refreshing || session.token === null || document.hidden) return
  refreshing = true
  const token = session.token
  try {
    const [credits, member, usage, orders] = await Promise.all([
      call('/api/v1/user/credits', { auth: true }),
      call('/api/v1/user/member-status', { auth: true }),
      call('/api/v1/user/credits-usage?page_size=20', { auth: true }),
      call('/api/v1/payment/orders?page_size=20', { auth: true }),
    ])
    // Answers for someone who has logged out since are not shown to whoever is there now.
    if (session.token !== token) return
    $('balance').textContent = String(credits.credits)
    $('member-status').textContent = member.is_member
      ? `Member until ${formatTime(member.member_expires_at)} · 会员有效期至`
      : 'Not a member · 非会员'
    renderUsage(usage.records)
    renderOrders(orders.orders)
  } finally {
    refreshing = false
  }
}

const REASONS = { purchase: 'Purchase · 购买', consume: 'Spent · 消费' }

function renderUsage(records) {
  $('usage').replaceChildren(
    ...records.map((record) =>
      el(
        'tr',
        {},
        el('td', { className: 'time', textContent: formatTime(record.created_at) }),
        el('td', {
          className: `num ${record.change > 0 ? 'plus' : record.change < 0 ? 'minus' : ''}`,
          textContent: record.change > 0 ? `+${record.change}` : String(record.change),
        }),
        el('td', { className: 'num', textContent: String(record.balance_after) }),
        el('td', { textContent: REASONS[record.reason] ?? record.reason }),
        el('td', {}, el('code', { textContent: record.ref ?? '' })),
      ),
    ),
  )
  $('usage-empty').hidden = records.length > 0
}

const STATUSES = { pending: 'Pending · 待支付', paid: 'Paid · 已支付', closed: 'Closed · 已关闭' }

function renderOrders(orders) {
  $('orders').replaceChildren(
    ...orders.map((order) =>
      el(
        'tr',
        {},
        el('td', {}, el('code', { textContent: order.out_trade_no })),
        el('td', { textContent: order.product_name ?? order.product_id }),
        el('td', { className: 'num', textContent: formatFen(order.amount_fen) }),
        el(
          'td',
          {},
          el('span', {
            className: `badge ${order.status}`,
            textContent: STATUSES[order.status] ?? order.status,
          }),
        ),
        el('td', { className: 'time', textContent: formatTime(order.created_at) }),
      ),
    ),
  )
  $('orders-empty').hidden = orders.length > 0
}

let products = []

async function loadProducts() {
  ;({ products } = await call('/api/v1/payment/products'))
  $('products').replaceChildren(
    ...products.map((product) => {
      const gives = [
        product.credits > 0 ? `${product.credits} credits · ${product.credits} 积分` : '',
        product.member_days > 0
          ? `${product.member_days} days membership · ${product.member_days} 天会员`
          : '',
      ].filter(Boolean)
      const buy = el('button', {
        type: 'button',
        id: `buy-${product.id}`,
        textContent: 'Buy · 购买',
      })
      buy.addEventListener(
        'click',
        action(() => buyProduct(product)),
      )
      return el(
        'li',
        {},
        el('strong', { textContent: product.name }),
        el('span', { className: 'price', textContent: formatFen(product.price_fen) }),
        el('span', { className: 'hint', textContent: gives.join(' + ') }),
        buy,
      )
    }),
  )
}

let checkout
let checkoutTimer

function closeCheckout() {
  clearInterval(checkoutTimer)
  checkout = undefined
  $('checkout').hidden = true
  $('phone-pay').disabled = true
}

let buying = false

async function buyProduct(product) {
  // A double click would create two pending orders.
  if (buying) return
  buying = true
  try {
    await startCheckout(product)
  } finally {
    buying = false
  }
}

async function startCheckout(product) {
  closeCheckout()
  const order = await call('/api/v1/payment/create-order', {
    method: 'POST',
    body: { product_id: product.id },
    auth: true,
  })
  const prepay = await call('/api/v1/payment/unifiedorder', {
    method: 'POST',
    body: { out_trade_no: order.out_trade_no, trade_type: 'NATIVE' },
    auth: true,
  })
  checkout = { order, codeUrl: prepay.code_url }
  $('pay-qr-image').src = `/demo/qr.png?text=${encodeURIComponent(prepay.code_url)}`
  $('checkout-product').textContent = product.name
  $('checkout-amount').textContent = formatFen(order.amount_fen)
  $('checkout-order').textContent = `${order.out_trade_no} · ${prepay.code_url}`
  setStatus('pay-status', 'Waiting for payment · 等待支付')
  $('checkout').hidden = false
  $('phone-pay').disabled = false
  checkoutTimer = setInterval(action(checkOrder), POLL_MS)
  await refresh()
}

let orderChecking = false

async function checkOrder() {
  if (checkout === undefined || orderChecking) return
  orderChecking = true
  try {
    const current = checkout
    const order = await call(
      `/api/v1/payment/orders/${encodeURIComponent(current.order.out_trade_no)}`,
      { auth: true },
    )
    if (checkout !== current) return
    if (order.status === 'paid') {
      clearInterval(checkoutTimer)
      $('phone-pay').disabled = true
      setStatus('pay-status', `Paid · 已支付 ${formatTime(order.paid_at)}`, true)
      await refresh()
    } else if (order.status === 'closed') {
      clearInterval(checkoutTimer)
      $('phone-pay').disabled = true
      setStatus('pay-status', 'Closed · 订单已关闭')
    }
  } finally {
    orderChecking = false
  }
}

// ---- wiring --------------------------------------------------------------------------------------

async function newPhoneUser() {
  const count = $('phone-user').options.length + 1
  const user = await call('/_sim/platform/users', {
    method: 'POST',
    body: { nickname: `User ${count} · 用户${count}` },
  })
  await loadPhoneUsers(user.openId)
}

function start() {
  $('qr-login-start').addEventListener('click', action(startQrLogin))
  $('oauth-login').addEventListener('click', action(startOAuth))
  $('logout').addEventListener('click', () => signOut())
  $('phone-scan').addEventListener('click', action(scanWithPhone))
  $('phone-pay').addEventListener('click', action(payWithPhone))
  $('phone-new-user').addEventListener('click', action(newPhoneUser))
  action(() => loadPhoneUsers(session.user?.openid))()
  const params = new URLSearchParams(location.search)
  if (params.has('code') || params.has('state')) action(() => finishOAuth(params))()
  render()
}

start()
