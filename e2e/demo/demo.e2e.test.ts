// The newcomer's path in a real browser: `npm start`'s script, the demo page, QR login, two purchases, OAuth.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import { REPO_ROOT, runStartAll } from './start-all-process.js'
import type { RunningStartAll } from './start-all-process.js'

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
]
/** The README's picture is rewritten only on request, so a test run leaves the working tree as it was. */
const UPDATE_README_PICTURE = process.env.UPDATE_DEMO_SCREENSHOT === '1'
const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`

/** True once the <img> has loaded a real image (the QR PNG answered 200 through the front door). */
async function imageLoaded(page: Page, selector: string): Promise<boolean> {
  await page.waitForFunction(
    (sel) => {
      const img = document.querySelector<HTMLImageElement>(sel)
      return img !== null && img.complete && img.naturalWidth > 0
    },
    selector,
    { timeout: 15_000 },
  )
  return page.$eval(selector, (img) => (img as HTMLImageElement).naturalWidth > 100)
}

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent()) ?? ''
}

/** Balance, membership and history as the page shows them, and as the API says with the page's own token. */
async function apiView(
  page: Page,
  baseUrl: string,
): Promise<{ credits: number; isMember: boolean }> {
  const token = await page.evaluate(() => sessionStorage.getItem('wxgate-demo-token'))
  assert.ok(token, 'the page keeps its session token in sessionStorage')
  const headers = { authorization: `Bearer ${token}` }
  const credits = (await (await fetch(`${baseUrl}/api/v1/user/credits`, { headers })).json()) as {
    credits: number
  }
  const member = (await (
    await fetch(`${baseUrl}/api/v1/user/member-status`, { headers })
  ).json()) as { is_member: boolean }
  return { credits: credits.credits, isMember: member.is_member }
}

async function buyAndPay(page: Page, productId: string, { double = false } = {}): Promise<string> {
  if (double) await page.dblclick(`#buy-${productId}`)
  else await page.click(`#buy-${productId}`)
  await page.locator('#checkout').waitFor({ state: 'visible' })
  assert.ok(await imageLoaded(page, '#pay-qr-image'), 'the NATIVE code_url is drawn as a QR image')
  const order = await text(page, '#checkout-order')
  assert.match(order, /weixin:\/\/wxpay\/bizpayurl\?pr=/, 'the code_url is a WeChat Pay link')
  await page.locator('#phone-pay:not([disabled])').waitFor()
  await page.click('#phone-pay')
  await page.locator('#pay-status', { hasText: 'Paid' }).waitFor({ timeout: 15_000 })
  return order.split(' ')[0] ?? ''
}

describe('the demo page on npm start', { skip, timeout: 240_000 }, () => {
  let dataDir: string
  let profileDir: string
  let system: RunningStartAll
  let context: BrowserContext
  let page: Page
  let openId = ''

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'wxgate-demo-data-'))
    profileDir = mkdtempSync(join(tmpdir(), 'wxgate-demo-chromium-'))
    system = await runStartAll({ dataDir })
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1280, height: 960 },
      locale: 'en-US',
    })
    page = context.pages()[0] ?? (await context.newPage())
    page.setDefaultTimeout(20_000)
  })

  after(async () => {
    await context?.close()
    if (system !== undefined && system.child.exitCode === null) await system.stop('SIGKILL')
    rmSync(profileDir, { recursive: true, force: true })
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('logs in with the QR code, scanned on the simulated phone as a chosen user', async () => {
    await page.goto(`${system.url}/`)
    await page.locator('#phone-user option').first().waitFor({ state: 'attached' })
    const options = await page.$$eval('#phone-user option', (list) =>
      list.map((option) => (option as HTMLOptionElement).value),
    )
    // The same two people on every start: app's data outlives the simulator's memory of its users.
    assert.deepEqual(options, ['oDemoXiaoming', 'oDemoAlice'], 'the phone offers the demo users')
    openId = options[1] ?? ''
    await page.selectOption('#phone-user', openId)

    await page.click('#qr-login-start')
    assert.ok(await imageLoaded(page, '#login-qr-image'), 'the showqrcode image loads')
    assert.match(await text(page, '#login-status'), /Waiting for scan/)
    await page.click('#phone-scan')

    await page.locator('#account-card').waitFor({ state: 'visible' })
    assert.equal(await text(page, '#account-openid'), openId)
    await page.locator('#balance', { hasText: /^0$/ }).waitFor()
    assert.match(await text(page, '#member-status'), /Not a member/)
    // The gateway's reply reached the phone, encrypted (safe mode) and verified by the simulator.
    await page.locator('#phone-chat li', { hasText: 'encrypted reply' }).first().waitFor()
  })

  it('buys credits with a NATIVE QR code paid on the phone; balance and history update', async () => {
    const outTradeNo = await buyAndPay(page, 'credits_100')
    await page.locator('#balance', { hasText: /^100$/ }).waitFor()
    const row = page.locator('#usage tr', { hasText: outTradeNo })
    await row.waitFor()
    const cells = await row.locator('td').allTextContents()
    assert.equal(cells[1], '+100')
    assert.equal(cells[2], '100')
    assert.match(cells[3] ?? '', /Purchase/)
    assert.deepEqual(await apiView(page, system.url), { credits: 100, isMember: false })
  })

  it('buys a membership; member status shows it and the orders list has both, paid', async () => {
    // Double-clicked: still one order.
    const outTradeNo = await buyAndPay(page, 'member_month', { double: true })
    await page.locator('#member-status', { hasText: 'Member until' }).waitFor()
    await page.locator('#orders tr', { hasText: outTradeNo }).filter({ hasText: 'Paid' }).waitFor()
    assert.equal(await page.locator('#orders tr', { hasText: 'Paid' }).count(), 2)
    assert.equal(await page.locator('#orders tr').count(), 2, 'no second, pending order')
    assert.equal(await text(page, '#balance'), '100')
    assert.deepEqual(await apiView(page, system.url), { credits: 100, isMember: true })

    const screenshot = UPDATE_README_PICTURE
      ? join(REPO_ROOT, 'docs', 'demo.png')
      : join(profileDir, 'demo.png')
    mkdirSync(join(screenshot, '..'), { recursive: true })
    await page.screenshot({ path: screenshot, fullPage: true })
    // A PNG, and not an empty page's few hundred bytes.
    const png = readFileSync(screenshot)
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG')
    assert.ok(png.length > 20_000, `screenshot of ${png.length} bytes`)
  })

  it('logs in again through H5 OAuth on the simulated authorize page, as the same user', async () => {
    await page.click('#logout')
    await page.locator('#login-card').waitFor({ state: 'visible' })
    // Nothing of this account is left for the next person, even hidden.
    assert.equal(await page.textContent('#balance'), '–')
    assert.equal(await page.locator('#orders tr').count(), 0)
    assert.equal(await page.locator('#phone-chat li').count(), 0)
    await page.click('#oauth-login')
    // WeChat's authorize page (the simulator's), reached through the same front door.
    await page.waitForURL(/\/connect\/oauth2\/authorize\?/)
    await page.click(`a[href*="sim_openid=${openId}"]`)
    await page.locator('#account-card').waitFor({ state: 'visible' })
    assert.equal(await text(page, '#account-openid'), openId)
    await page.locator('#balance', { hasText: /^100$/ }).waitFor()
    assert.match(await text(page, '#member-status'), /Member until/)
  })

  it('stops cleanly on SIGTERM: every service drains and the exit code is 0', async () => {
    await context.close()
    const exit = await system.stop('SIGTERM')
    assert.deepEqual(exit, { code: 0, signal: null }, system.output())
    for (const pid of Object.values(system.pids)) {
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `service ${pid} is gone`)
    }
  })
})
